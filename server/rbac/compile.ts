/**
 * compileRbac: the roles and bindings the authorizer consults, with the API server's defaults
 * underneath (an input object of the same kind and name replaces a default, as an apply would),
 * and every aggregated ClusterRole's rules filled in.
 *
 * Aggregation, as the clusterrole-aggregation controller does it: a ClusterRole with an
 * aggregationRule gets the rules of every OTHER ClusterRole matched by any of its selectors
 * (in name order, duplicates dropped); the rules written in it are replaced. Aggregated roles can
 * feed each other (view -> edit -> admin), so this repeats until nothing changes.
 */
import { DEFAULT_CLUSTER_ROLE_BINDINGS, DEFAULT_CLUSTER_ROLES } from './defaults.js';
import { sameRule } from './rules.js';
import { subjectAppliesTo } from './subjects.js';
import { matchesSelector } from '../selectors/index.js';
import type { BindingModel, PolicyRule, RbacModel, RoleModel, UserInfo } from './types.js';

/** The rules the bindings naming one user grant it: everywhere, and per namespace. */
export interface UserRules {
  /** From ClusterRoleBindings: every namespace, cluster-scoped resources, non-resource URLs. */
  cluster: PolicyRule[];
  /** From RoleBindings, by their namespace. */
  namespaced: Map<string, PolicyRule[]>;
}

export interface CompileOptions {
  /** Add the API server's default ClusterRoles and ClusterRoleBindings (default true). */
  defaults?: boolean;
}

export function roleKey(kind: 'Role' | 'ClusterRole', name: string, namespace?: string): string {
  return kind === 'Role' ? `Role ${namespace}/${name}` : `ClusterRole ${name}`;
}

export function bindingKey(b: BindingModel): string {
  return b.kind === 'RoleBinding' ? `RoleBinding ${b.namespace}/${b.name}` : `ClusterRoleBinding ${b.name}`;
}

export class CompiledRbac {
  readonly roles = new Map<string, RoleModel>();
  readonly bindings: BindingModel[];
  /** Effective rules of every role (aggregated ClusterRoles filled in). */
  private readonly effective = new Map<string, PolicyRule[]>();
  /** For aggregated ClusterRoles: the ClusterRoles whose rules they collected. */
  readonly aggregatedFrom = new Map<string, string[]>();
  /** The bindings by scope, and each binding's role, worked out once: every request asks. */
  readonly clusterBindings: BindingModel[];
  private readonly roleBindingsByNamespace = new Map<string, BindingModel[]>();
  private readonly rolesOfBindings = new Map<
    BindingModel,
    { key: string; rules: PolicyRule[] | undefined }
  >();
  /**
   * rulesFor's answers. An access check's sweep asks thousands of requests for the same few users,
   * and which bindings name a user does not depend on the request.
   */
  private readonly userRules = new Map<string, UserRules>();
  /** The same answers by the groups array a sweep's requests share, and the user name. */
  private readonly userRulesByGroups = new WeakMap<readonly string[], Map<string, UserRules>>();

  constructor(model: RbacModel, opts: CompileOptions = {}) {
    const useDefaults = opts.defaults ?? true;
    for (const r of useDefaults ? DEFAULT_CLUSTER_ROLES : []) this.roles.set(roleKey(r.kind, r.name), r);
    for (const r of model.roles) this.roles.set(roleKey(r.kind, r.name, r.namespace), r);
    const bindings = new Map<string, BindingModel>();
    for (const b of useDefaults ? DEFAULT_CLUSTER_ROLE_BINDINGS : []) bindings.set(bindingKey(b), b);
    for (const b of model.bindings) bindings.set(bindingKey(b), b);
    this.bindings = [...bindings.values()];
    this.clusterBindings = this.bindings.filter((b) => b.kind === 'ClusterRoleBinding');
    for (const b of this.bindings) {
      if (b.kind !== 'RoleBinding') continue;
      const list = this.roleBindingsByNamespace.get(b.namespace ?? '');
      if (list) list.push(b);
      else this.roleBindingsByNamespace.set(b.namespace ?? '', [b]);
    }
    this.aggregate();
  }

  /** The RoleBindings of one namespace, in input order. */
  roleBindingsIn(namespace: string): readonly BindingModel[] {
    return this.roleBindingsByNamespace.get(namespace) ?? [];
  }

  private aggregate(): void {
    const clusterRoles = [...this.roles.values()]
      .filter((r) => r.kind === 'ClusterRole')
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const r of this.roles.values()) {
      this.effective.set(roleKey(r.kind, r.name, r.namespace), r.aggregationRule ? [] : r.rules);
    }
    // Rules only ever grow and are finite, so this settles; the bound is a guard.
    for (let round = 0; round <= clusterRoles.length; round++) {
      let changed = false;
      for (const target of clusterRoles) {
        if (!target.aggregationRule) continue;
        const key = roleKey('ClusterRole', target.name);
        const collected: PolicyRule[] = [];
        const from: string[] = [];
        for (const selector of target.aggregationRule.clusterRoleSelectors) {
          for (const source of clusterRoles) {
            if (source.name === target.name || !matchesSelector(selector, source.labels)) continue;
            if (!from.includes(source.name)) from.push(source.name);
            for (const rule of this.effective.get(roleKey('ClusterRole', source.name)) ?? []) {
              if (!collected.some((r) => sameRule(r, rule))) collected.push(rule);
            }
          }
        }
        if (collected.length !== this.effective.get(key)!.length) changed = true;
        this.effective.set(key, collected);
        this.aggregatedFrom.set(target.name, from);
      }
      if (!changed) break;
    }
  }

  role(kind: 'Role' | 'ClusterRole', name: string, namespace?: string): RoleModel | undefined {
    return this.roles.get(roleKey(kind, name, namespace));
  }

  /** The rules a role grants now (aggregated ones included); undefined when it does not exist. */
  rulesOf(kind: 'Role' | 'ClusterRole', name: string, namespace?: string): PolicyRule[] | undefined {
    return this.effective.get(roleKey(kind, name, namespace));
  }

  /** Every rule a binding naming this user grants it (a binding whose role is missing grants nothing). */
  rulesFor(user: UserInfo): UserRules {
    const byName = this.userRulesByGroups.get(user.groups);
    const same = byName?.get(user.name);
    if (same) return same;
    const key = `${user.name}\0${user.groups.join('\0')}`;
    let found = this.userRules.get(key);
    if (!found) {
      found = { cluster: [], namespaced: new Map() };
      for (const b of this.bindings) {
        if (!b.subjects.some((s) => subjectAppliesTo(s, user, b.namespace))) continue;
        const rules = this.roleOfBinding(b).rules ?? [];
        if (b.kind === 'ClusterRoleBinding') found.cluster.push(...rules);
        else {
          const ns = b.namespace ?? '';
          found.namespaced.set(ns, [...(found.namespaced.get(ns) ?? []), ...rules]);
        }
      }
      this.userRules.set(key, found);
    }
    if (byName) byName.set(user.name, found);
    else this.userRulesByGroups.set(user.groups, new Map([[user.name, found]]));
    return found;
  }

  /** The role a binding refers to: a RoleBinding's Role lives in the binding's namespace. */
  roleOfBinding(b: BindingModel): { key: string; rules: PolicyRule[] | undefined } {
    let role = this.rolesOfBindings.get(b);
    if (!role) {
      const ns = b.roleRef.kind === 'Role' ? b.namespace : undefined;
      role = {
        key: roleKey(b.roleRef.kind, b.roleRef.name, ns),
        rules: this.rulesOf(b.roleRef.kind, b.roleRef.name, ns),
      };
      // Only this compiled set's own bindings: effective rules are fixed once it is built.
      if (this.bindings.includes(b)) this.rolesOfBindings.set(b, role);
    }
    return role;
  }
}

export function compileRbac(model: RbacModel, opts: CompileOptions = {}): CompiledRbac {
  return new CompiledRbac(model, opts);
}
