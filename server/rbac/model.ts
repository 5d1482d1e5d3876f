/**
 * buildRbacModel: Roles, ClusterRoles, RoleBindings and ClusterRoleBindings from Kubernetes
 * objects, checked as the API server validates them (every problem with its field path), with
 * its defaulting: a namespaced object without a namespace lands in `default`, a User or Group
 * subject without apiGroup gets rbac.authorization.k8s.io. Other kinds are ignored.
 */
import { formatPath, isRecord } from '../manifests/load.js';
import type {
  BindingModel,
  FieldProblem,
  LabelSelector,
  PolicyRule,
  RbacModel,
  RoleModel,
  Subject,
} from './types.js';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';
const RBAC_KINDS = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);

export type IndexedProblem = FieldProblem & { index: number };

class Collector {
  readonly problems: FieldProblem[] = [];
  add(path: Array<string | number>, message: string) {
    this.problems.push({ path: formatPath(path), fieldPath: path, message });
  }
  strings(value: unknown, path: Array<string | number>): string[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) {
      this.add(path, 'must be a list of strings');
      return [];
    }
    const out: string[] = [];
    value.forEach((v, i) => {
      if (typeof v === 'string') out.push(v);
      else this.add([...path, i], 'must be a string');
    });
    return out;
  }
  unknown(obj: Record<string, unknown>, path: Array<string | number>, known: string[]) {
    for (const k of Object.keys(obj)) if (!known.includes(k)) this.add([...path, k], `unknown field "${k}"`);
  }
}

export function isRbacKind(kind: unknown): boolean {
  return typeof kind === 'string' && RBAC_KINDS.has(kind);
}

export function buildRbacModel(
  objects: unknown[],
  opts: { defaultNamespace?: string } = {},
): {
  model: RbacModel;
  problems: IndexedProblem[];
} {
  const defaultNamespace = opts.defaultNamespace ?? 'default';
  const model: RbacModel = { roles: [], bindings: [] };
  const problems: IndexedProblem[] = [];
  objects.forEach((raw, index) => {
    if (!isRecord(raw) || !isRbacKind(raw.kind)) return;
    const c = new Collector();
    const kind = raw.kind as string;
    if (raw.apiVersion !== `${RBAC_GROUP}/v1`)
      c.add(['apiVersion'], `must be ${RBAC_GROUP}/v1 for a ${kind}`);
    const meta = isRecord(raw.metadata) ? raw.metadata : {};
    const name = typeof meta.name === 'string' && meta.name.length > 0 ? meta.name : undefined;
    if (!name) c.add(['metadata', 'name'], 'Required value: name is required');
    const namespaced = kind === 'Role' || kind === 'RoleBinding';
    let namespace: string | undefined;
    if (namespaced)
      namespace = typeof meta.namespace === 'string' && meta.namespace ? meta.namespace : defaultNamespace;
    const labels: Record<string, string> = {};
    if (isRecord(meta.labels))
      for (const [k, v] of Object.entries(meta.labels)) if (typeof v === 'string') labels[k] = v;

    if (kind === 'Role' || kind === 'ClusterRole') {
      c.unknown(raw, [], ['apiVersion', 'kind', 'metadata', 'rules', 'aggregationRule']);
      const rules = readRules(c, raw.rules, namespaced);
      const role: RoleModel = { kind, name: name ?? '', labels, rules };
      if (namespace !== undefined) role.namespace = namespace;
      if (raw.aggregationRule !== undefined && raw.aggregationRule !== null) {
        if (kind === 'Role')
          c.add(['aggregationRule'], 'unknown field "aggregationRule" (only a ClusterRole aggregates)');
        else {
          const selectors = readAggregation(c, raw.aggregationRule);
          if (selectors) role.aggregationRule = { clusterRoleSelectors: selectors };
        }
      }
      if (c.problems.length === 0) model.roles.push(role);
    } else {
      c.unknown(raw, [], ['apiVersion', 'kind', 'metadata', 'roleRef', 'subjects']);
      const roleRef = readRoleRef(c, raw.roleRef, kind === 'ClusterRoleBinding');
      const subjects = readSubjects(c, raw.subjects, namespaced);
      if (c.problems.length === 0 && roleRef) {
        const binding: BindingModel = {
          kind: kind as BindingModel['kind'],
          name: name ?? '',
          roleRef,
          subjects,
        };
        if (namespace !== undefined) binding.namespace = namespace;
        model.bindings.push(binding);
      }
    }
    for (const p of c.problems) problems.push({ ...p, index });
  });
  return { model, problems };
}

function readRules(c: Collector, value: unknown, namespaced: boolean): PolicyRule[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    c.add(['rules'], 'must be a list of rules');
    return [];
  }
  const out: PolicyRule[] = [];
  value.forEach((raw, i) => {
    const path = ['rules', i];
    if (!isRecord(raw)) return c.add(path, 'must be an object (a rule)');
    c.unknown(raw, path, ['verbs', 'apiGroups', 'resources', 'resourceNames', 'nonResourceURLs']);
    const r: PolicyRule = {
      verbs: c.strings(raw.verbs, [...path, 'verbs']),
      apiGroups: c.strings(raw.apiGroups, [...path, 'apiGroups']),
      resources: c.strings(raw.resources, [...path, 'resources']),
      resourceNames: c.strings(raw.resourceNames, [...path, 'resourceNames']),
      nonResourceURLs: c.strings(raw.nonResourceURLs, [...path, 'nonResourceURLs']),
    };
    if (r.verbs.length === 0)
      c.add([...path, 'verbs'], 'Required value: verbs must contain at least one value');
    if (r.nonResourceURLs.length > 0) {
      if (namespaced)
        c.add(
          [...path, 'nonResourceURLs'],
          'Invalid value: namespaced rules cannot apply to non-resource URLs',
        );
      if (r.apiGroups.length > 0 || r.resources.length > 0 || r.resourceNames.length > 0) {
        c.add(
          [...path, 'nonResourceURLs'],
          'Invalid value: rules cannot apply to both regular resources and non-resource URLs',
        );
      }
    } else {
      if (r.apiGroups.length === 0)
        c.add(
          [...path, 'apiGroups'],
          'Required value: resource rules must supply at least one api group (use "" for the core group: pods, services, secrets...)',
        );
      if (r.resources.length === 0)
        c.add([...path, 'resources'], 'Required value: resource rules must supply at least one resource');
    }
    out.push(r);
  });
  return out;
}

function readAggregation(c: Collector, value: unknown): LabelSelector[] | undefined {
  if (!isRecord(value)) {
    c.add(['aggregationRule'], 'must be an object with clusterRoleSelectors');
    return undefined;
  }
  const list = value.clusterRoleSelectors;
  if (!Array.isArray(list)) {
    c.add(['aggregationRule', 'clusterRoleSelectors'], 'must be a list of label selectors');
    return undefined;
  }
  const out: LabelSelector[] = [];
  list.forEach((s, i) => {
    const path = ['aggregationRule', 'clusterRoleSelectors', i];
    if (!isRecord(s)) return c.add(path, 'must be a label selector');
    c.unknown(s, path, ['matchLabels', 'matchExpressions']);
    const sel: LabelSelector = {};
    if (s.matchLabels !== undefined) {
      if (!isRecord(s.matchLabels)) c.add([...path, 'matchLabels'], 'must be a map of label keys to values');
      else {
        sel.matchLabels = {};
        for (const [k, v] of Object.entries(s.matchLabels)) {
          if (typeof v === 'string') sel.matchLabels[k] = v;
          else c.add([...path, 'matchLabels', k], 'must be a string');
        }
      }
    }
    if (s.matchExpressions !== undefined) {
      if (!Array.isArray(s.matchExpressions)) c.add([...path, 'matchExpressions'], 'must be a list');
      else {
        sel.matchExpressions = [];
        s.matchExpressions.forEach((e, j) => {
          const ep = [...path, 'matchExpressions', j];
          if (!isRecord(e) || typeof e.key !== 'string') return c.add(ep, 'must have a key');
          const op = e.operator;
          if (op !== 'In' && op !== 'NotIn' && op !== 'Exists' && op !== 'DoesNotExist') {
            return c.add([...ep, 'operator'], 'must be In, NotIn, Exists or DoesNotExist');
          }
          const values = c.strings(e.values, [...ep, 'values']);
          if ((op === 'In' || op === 'NotIn') && values.length === 0)
            c.add([...ep, 'values'], `must be non-empty for ${op}`);
          if ((op === 'Exists' || op === 'DoesNotExist') && values.length > 0)
            c.add([...ep, 'values'], `must be empty for ${op}`);
          sel.matchExpressions!.push({ key: e.key, operator: op, values });
        });
      }
    }
    out.push(sel);
  });
  return out;
}

function readRoleRef(
  c: Collector,
  value: unknown,
  clusterBinding: boolean,
): BindingModel['roleRef'] | undefined {
  if (!isRecord(value)) {
    c.add(['roleRef'], 'Required value: roleRef {apiGroup, kind, name} is required');
    return undefined;
  }
  c.unknown(value, ['roleRef'], ['apiGroup', 'kind', 'name']);
  if (value.apiGroup !== RBAC_GROUP)
    c.add(['roleRef', 'apiGroup'], `Unsupported value: must be "${RBAC_GROUP}"`);
  const kind = value.kind;
  if (kind !== 'Role' && kind !== 'ClusterRole') {
    c.add(['roleRef', 'kind'], 'Unsupported value: must be "Role" or "ClusterRole"');
    return undefined;
  }
  if (clusterBinding && kind !== 'ClusterRole') {
    c.add(
      ['roleRef', 'kind'],
      'Unsupported value: "Role": a ClusterRoleBinding can only refer to a ClusterRole',
    );
    return undefined;
  }
  if (typeof value.name !== 'string' || value.name.length === 0) {
    c.add(['roleRef', 'name'], 'Required value: the name of the role');
    return undefined;
  }
  return { kind, name: value.name };
}

function readSubjects(c: Collector, value: unknown, namespaced: boolean): Subject[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    c.add(['subjects'], 'must be a list of subjects');
    return [];
  }
  const out: Subject[] = [];
  value.forEach((raw, i) => {
    const path = ['subjects', i];
    if (!isRecord(raw)) return c.add(path, 'must be an object (a subject)');
    c.unknown(raw, path, ['kind', 'name', 'namespace', 'apiGroup']);
    const kind = raw.kind;
    if (kind !== 'User' && kind !== 'Group' && kind !== 'ServiceAccount') {
      return c.add([...path, 'kind'], 'Unsupported value: must be "User", "Group" or "ServiceAccount"');
    }
    if (typeof raw.name !== 'string' || raw.name.length === 0)
      return c.add([...path, 'name'], 'Required value');
    const apiGroup = raw.apiGroup ?? (kind === 'ServiceAccount' ? '' : RBAC_GROUP);
    if (kind === 'ServiceAccount' && apiGroup !== '')
      c.add([...path, 'apiGroup'], 'Unsupported value: must be "" for a ServiceAccount');
    if (kind !== 'ServiceAccount' && apiGroup !== RBAC_GROUP)
      c.add([...path, 'apiGroup'], `Unsupported value: must be "${RBAC_GROUP}"`);
    const subject: Subject = { kind, name: raw.name };
    if (raw.namespace !== undefined && raw.namespace !== null && raw.namespace !== '') {
      if (typeof raw.namespace !== 'string') c.add([...path, 'namespace'], 'must be a string');
      else if (kind === 'ServiceAccount') subject.namespace = raw.namespace;
    }
    if (kind === 'ServiceAccount') {
      if (kind === 'ServiceAccount' && raw.name.includes(':')) {
        c.add(
          [...path, 'name'],
          'Invalid value: a ServiceAccount subject takes the account name (not system:serviceaccount:NS:NAME)',
        );
      }
      if (!subject.namespace && !namespaced)
        c.add([...path, 'namespace'], 'Required value: a ServiceAccount subject needs its namespace');
    }
    out.push(subject);
  });
  return out;
}
