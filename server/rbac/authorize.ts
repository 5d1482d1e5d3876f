/**
 * authorize: may this user make this request? The RBAC authorizer's order:
 * 1. ClusterRoleBindings: each one naming the user (as User, one of its Groups, or the
 *    ServiceAccount it is) grants its ClusterRole's rules everywhere: every namespace, the
 *    cluster-scoped resources, and (ClusterRoleBindings only) non-resource URLs.
 * 2. RoleBindings in the request's namespace (only for namespaced requests): each grants its Role
 *    (in that namespace) or ClusterRole, limited to that namespace.
 * Any rule of any of these that matches allows the request; RBAC has no deny rules, so the order
 * only decides which grant is named first. A binding whose role does not exist grants nothing.
 */
import type { CompiledRbac } from './compile.js';
import { bindingKey } from './compile.js';
export { bindingKey };
import { ruleAllows, ruleMismatch } from './rules.js';
import { describeSubject, subjectAppliesTo } from './subjects.js';
import type { AccessRequest, AccessVerdict, BindingModel, Grant, PolicyRule, UserInfo } from './types.js';

export function describeRequest(req: AccessRequest): string {
  if (req.kind === 'nonResource') return `${req.verb} ${req.path}`;
  const res = req.subresource ? `${req.resource}/${req.subresource}` : req.resource;
  const group = req.apiGroup ? `.${req.apiGroup}` : '';
  const name = req.name ? ` "${req.name}"` : '';
  const where = req.namespace ? ` in namespace ${req.namespace}` : ' (cluster-wide)';
  return `${req.verb} ${res}${group}${name}${where}`;
}

/** The bindings that reach this request's scope, in the authorizer's order. */
export function bindingsInScope(rbac: CompiledRbac, req: AccessRequest): BindingModel[] {
  const cluster = rbac.clusterBindings;
  if (req.kind === 'nonResource' || !req.namespace) return [...cluster];
  return [...cluster, ...rbac.roleBindingsIn(req.namespace)];
}

/**
 * authorize's answer without its explanation: whether some binding in scope names the user and
 * has a rule allowing the request. For sweeps over every request a check covers, where building
 * the reasons of each denial would cost more than deciding.
 */
export function isAllowed(rbac: CompiledRbac, user: UserInfo, req: AccessRequest): boolean {
  const rules = rbac.rulesFor(user);
  if (rules.cluster.some((rule) => ruleAllows(rule, req))) return true;
  // RoleBindings grant only namespaced requests, and never non-resource URLs.
  if (req.kind !== 'resource' || !req.namespace) return false;
  return (rules.namespaced.get(req.namespace) ?? []).some((rule) => ruleAllows(rule, req));
}

function grantsOf(
  binding: BindingModel,
  rules: PolicyRule[],
  req: AccessRequest,
  subjectText: string,
  roleKeyText: string,
): Grant[] {
  // Non-resource URLs are granted only through ClusterRoleBindings.
  if (req.kind === 'nonResource' && binding.kind === 'RoleBinding') return [];
  const out: Grant[] = [];
  const bindingText =
    binding.kind === 'RoleBinding' ? `"${binding.name}/${binding.namespace}"` : `"${binding.name}"`;
  rules.forEach((rule, i) => {
    if (!ruleAllows(rule, req)) return;
    out.push({
      binding: bindingKey(binding),
      role: roleKeyText,
      rule: i,
      subject: subjectText,
      apiReason: `RBAC: allowed by ${binding.kind} ${bindingText} of ${binding.roleRef.kind} "${binding.roleRef.name}" to ${subjectText}`,
    });
  });
  return out;
}

export function authorize(rbac: CompiledRbac, user: UserInfo, req: AccessRequest): AccessVerdict {
  const grants: Grant[] = [];
  const misses: string[] = [];
  const missingRoles: string[] = [];
  for (const binding of bindingsInScope(rbac, req)) {
    const subject = binding.subjects.find((s) => subjectAppliesTo(s, user, binding.namespace));
    if (!subject) continue;
    const subjectText = describeSubject(subject, binding.namespace);
    const { key, rules } = rbac.roleOfBinding(binding);
    if (!rules) {
      missingRoles.push(
        `${bindingKey(binding)} refers to ${key}, which does not exist, so it grants nothing`,
      );
      continue;
    }
    const found = grantsOf(binding, rules, req, subjectText, key);
    if (found.length > 0) {
      grants.push(...found);
      continue;
    }
    if (binding.builtIn) continue; // the discovery defaults reach everyone; listing them adds noise
    const why =
      req.kind === 'nonResource' && binding.kind === 'RoleBinding'
        ? 'a RoleBinding never grants non-resource URLs'
        : rules.length === 0
          ? 'the role has no rules'
          : explainMisses(rules, req);
    misses.push(`${bindingKey(binding)} gives ${subjectText} ${key}, but no rule allows it (${why})`);
  }
  const what = describeRequest(req);
  if (grants.length > 0) {
    const first = grants[0]!;
    return {
      allowed: true,
      grants,
      reasons: [
        first.apiReason,
        `${what} is allowed by rule ${first.rule} of ${first.role}, bound by ${first.binding} to ${first.subject}`,
        ...grants.slice(1).map((g) => `also allowed by rule ${g.rule} of ${g.role} via ${g.binding}`),
      ],
    };
  }
  const scope =
    req.kind === 'resource' && req.namespace
      ? `no ClusterRoleBinding, and no RoleBinding in namespace ${req.namespace},`
      : 'no ClusterRoleBinding';
  const reasons = [
    `${what} is denied: ${scope} grants it to user "${user.name}" or its groups ${JSON.stringify(user.groups)}`,
  ];
  reasons.push(...misses, ...missingRoles);
  if (req.kind === 'resource' && req.namespace) {
    const elsewhere = rbac.bindings.filter(
      (b) =>
        b.kind === 'RoleBinding' &&
        b.namespace !== req.namespace &&
        b.subjects.some((s) => subjectAppliesTo(s, user, b.namespace)) &&
        (rbac.roleOfBinding(b).rules ?? []).some((r) => ruleAllows(r, req)),
    );
    for (const b of elsewhere)
      reasons.push(`${bindingKey(b)} would allow it, but only in namespace ${b.namespace}`);
  }
  return { allowed: false, grants: [], reasons };
}

/** The few rules nearest to allowing the request: those failing on a later test than the verb or group. */
function explainMisses(rules: PolicyRule[], req: AccessRequest): string {
  const misses = rules.map((r, i) => ({ i, why: ruleMismatch(r, req) ?? 'matches' }));
  const near = misses.filter((m) => !/^(verbs|apiGroups) /.test(m.why));
  const shown = (near.length > 0 ? near : misses).slice(0, 3);
  const rest = rules.length - shown.length;
  return `${shown.map((m) => `rule ${m.i}: ${m.why}`).join('; ')}${rest > 0 ? `; ${rest} other rule(s) do not match either` : ''}`;
}
