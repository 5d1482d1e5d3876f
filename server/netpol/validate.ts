/**
 * validateNetworkPolicy: the checks the API server makes on a networking.k8s.io/v1 NetworkPolicy,
 * reporting EVERY problem with its field path (relative to the object), plus the unknown-field
 * check kubectl asks for by default (field validation "Strict"), which catches typos like `form:`.
 *
 * The returned policy keeps what was written: defaulting (policyTypes, protocol TCP) is applied by
 * the evaluator, so reasons can show the policy as the learner wrote it.
 */
import { FrozenMemo, freezeDeep } from '../freeze.js';
import { formatPath, isRecord, type FieldPath } from '../manifests/load.js';
import { exceptProblem, parseCidr } from './ipblock.js';
import {
  dns1123LabelProblems,
  dns1123SubdomainProblems,
  labelKeyProblems,
  labelValueProblems,
} from './names.js';
import { PROTOCOLS, isProtocol, isValidPortNumber, portNameProblems } from './ports.js';
import type {
  FieldProblem,
  IPBlock,
  LabelSelector,
  LabelSelectorRequirement,
  NetworkPolicyEgressRule,
  NetworkPolicyIngressRule,
  NetworkPolicyModel,
  NetworkPolicyPeer,
  NetworkPolicyPort,
  NetworkPolicySpec,
  PolicyType,
} from './types.js';

/** A FieldProblem that also keeps the path as parts, so callers can find its line in a file. */
export interface LocatedFieldProblem extends FieldProblem {
  fieldPath: FieldPath;
}

/** Collects problems while walking an object; every check reports and carries on. */
export class ProblemCollector {
  readonly problems: LocatedFieldProblem[] = [];

  /**
   * `locate` is where the problem sits in the file when that is deeper than `path` (a label
   * key is reported on its map, as the API server does, but found on its own line).
   */
  add(path: FieldPath, message: string, locate: FieldPath = path): void {
    this.problems.push({ path: formatPath(path), message, fieldPath: [...locate] });
  }

  /** Fields the schema does not know: an error under strict field validation (kubectl's default). */
  unknownFields(value: Record<string, unknown>, path: FieldPath, known: readonly string[]): void {
    for (const key of Object.keys(value)) {
      if (known.includes(key)) continue;
      const guess = closest(key, known);
      this.add([...path, key], `unknown field "${key}"${guess ? ` (did you mean "${guess}"?)` : ''}`);
    }
  }

  string(value: unknown, path: FieldPath, what = 'a string'): value is string {
    if (typeof value === 'string') return true;
    this.add(path, `must be ${what}, got ${describe(value)}`);
    return false;
  }

  record(value: unknown, path: FieldPath): value is Record<string, unknown> {
    if (isRecord(value)) return true;
    this.add(path, `must be an object (a mapping), got ${describe(value)}`);
    return false;
  }

  array(value: unknown, path: FieldPath): value is unknown[] {
    if (Array.isArray(value)) return true;
    this.add(path, `must be a list, got ${describe(value)}`);
    return false;
  }
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[^a-z]/g, '');
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = norm(word) === norm(c) ? 0 : editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** Labels on an object (metadata.labels): a map of valid keys to valid string values. */
export function validateLabels(
  c: ProblemCollector,
  value: unknown,
  path: FieldPath,
): Record<string, string> | undefined {
  if (value === undefined || value === null) return {};
  if (!c.record(value, path)) return undefined;
  const out: Record<string, string> = {};
  let ok = true;
  for (const [key, v] of Object.entries(value)) {
    for (const m of labelKeyProblems(key)) {
      c.add(path, `invalid label key "${key}": ${m}`, [...path, key]);
      ok = false;
    }
    if (typeof v !== 'string') {
      c.add(path, `label "${key}" must have a string value, got ${describe(v)} (quote it in YAML)`, [
        ...path,
        key,
      ]);
      ok = false;
      continue;
    }
    for (const m of labelValueProblems(v)) {
      c.add(path, `invalid value "${v}" for label "${key}": ${m}`, [...path, key]);
      ok = false;
    }
    out[key] = v;
  }
  return ok ? out : undefined;
}

const SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

export function validateLabelSelector(
  c: ProblemCollector,
  value: unknown,
  path: FieldPath,
): LabelSelector | undefined {
  if (value === null) return {};
  if (!c.record(value, path)) return undefined;
  c.unknownFields(value, path, ['matchLabels', 'matchExpressions']);
  const selector: LabelSelector = {};
  const before = c.problems.length;
  if (value.matchLabels !== undefined && value.matchLabels !== null) {
    const labels = validateLabels(c, value.matchLabels, [...path, 'matchLabels']);
    if (labels) selector.matchLabels = labels;
  }
  if (value.matchExpressions !== undefined && value.matchExpressions !== null) {
    const exprPath = [...path, 'matchExpressions'];
    if (c.array(value.matchExpressions, exprPath)) {
      const requirements: LabelSelectorRequirement[] = [];
      value.matchExpressions.forEach((item, i) => {
        const r = validateRequirement(c, item, [...exprPath, i]);
        if (r) requirements.push(r);
      });
      selector.matchExpressions = requirements;
    }
  }
  return c.problems.length === before ? selector : undefined;
}

function validateRequirement(
  c: ProblemCollector,
  value: unknown,
  path: FieldPath,
): LabelSelectorRequirement | undefined {
  if (!c.record(value, path)) return undefined;
  c.unknownFields(value, path, ['key', 'operator', 'values']);
  const before = c.problems.length;
  const { key, operator, values } = value;
  if (key === undefined || key === '') c.add([...path, 'key'], 'Required value');
  else if (c.string(key, [...path, 'key'])) {
    for (const m of labelKeyProblems(key)) c.add([...path, 'key'], `Invalid value: "${key}": ${m}`);
  }
  let op: LabelSelectorRequirement['operator'] | undefined;
  if (operator === undefined || operator === '') c.add([...path, 'operator'], 'Required value');
  else if (typeof operator !== 'string' || !(SELECTOR_OPERATORS as readonly string[]).includes(operator)) {
    c.add(
      [...path, 'operator'],
      `Unsupported value: ${JSON.stringify(operator)}: supported values: "In", "NotIn", "Exists", "DoesNotExist" (a valid selector operator)`,
    );
  } else op = operator as LabelSelectorRequirement['operator'];

  let list: string[] | undefined;
  if (values !== undefined && values !== null && c.array(values, [...path, 'values'])) {
    list = [];
    values.forEach((v, i) => {
      if (!c.string(v, [...path, 'values', i])) return;
      for (const m of labelValueProblems(v)) c.add([...path, 'values', i], `Invalid value: "${v}": ${m}`);
      list!.push(v);
    });
  }
  const count = Array.isArray(values) ? values.length : 0;
  if ((op === 'In' || op === 'NotIn') && count === 0) {
    c.add([...path, 'values'], "Required value: must be specified when `operator` is 'In' or 'NotIn'");
  }
  if ((op === 'Exists' || op === 'DoesNotExist') && count > 0) {
    c.add(
      [...path, 'values'],
      "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
    );
  }
  if (c.problems.length !== before || op === undefined || typeof key !== 'string') return undefined;
  return list && list.length > 0 ? { key, operator: op, values: list } : { key, operator: op };
}

function validatePort(c: ProblemCollector, value: unknown, path: FieldPath): NetworkPolicyPort | undefined {
  if (!c.record(value, path)) return undefined;
  c.unknownFields(value, path, ['protocol', 'port', 'endPort']);
  const before = c.problems.length;
  const out: NetworkPolicyPort = {};
  const { protocol, port, endPort } = value;
  if (protocol !== undefined && protocol !== null) {
    if (isProtocol(protocol)) out.protocol = protocol;
    else {
      c.add(
        [...path, 'protocol'],
        `Unsupported value: ${JSON.stringify(protocol)}: supported values: ${PROTOCOLS.map((p) => `"${p}"`).join(', ')}`,
      );
    }
  }
  const hasEndPort = endPort !== undefined && endPort !== null;
  if (hasEndPort && (typeof endPort !== 'number' || !Number.isInteger(endPort))) {
    c.add([...path, 'endPort'], `must be an integer, got ${describe(endPort)}`);
  }
  if (port === undefined || port === null) {
    if (hasEndPort)
      c.add([...path, 'endPort'], 'Invalid value: may not be specified when `port` is not specified');
  } else if (typeof port === 'number') {
    if (!isValidPortNumber(port))
      c.add([...path, 'port'], `Invalid value: ${port}: must be between 1 and 65535, inclusive`);
    else out.port = port;
    if (hasEndPort && typeof endPort === 'number' && Number.isInteger(endPort)) {
      if (endPort < port)
        c.add(
          [...path, 'endPort'],
          `Invalid value: ${endPort}: must be greater than or equal to \`port\` (${port})`,
        );
      if (!isValidPortNumber(endPort))
        c.add([...path, 'endPort'], `Invalid value: ${endPort}: must be between 1 and 65535, inclusive`);
      out.endPort = endPort;
    }
  } else if (typeof port === 'string') {
    if (hasEndPort)
      c.add(
        [...path, 'endPort'],
        'Invalid value: may not be specified when `port` is non-numeric (a named port)',
      );
    const problems = portNameProblems(port);
    for (const m of problems)
      c.add([...path, 'port'], `Invalid value: "${port}": ${m} (a named port must be an IANA_SVC_NAME)`);
    if (problems.length === 0) out.port = port;
  } else {
    c.add([...path, 'port'], `must be a port number or a port name, got ${describe(port)}`);
  }
  return c.problems.length === before ? out : undefined;
}

function validateIpBlock(c: ProblemCollector, value: unknown, path: FieldPath): IPBlock | undefined {
  if (!c.record(value, path)) return undefined;
  c.unknownFields(value, path, ['cidr', 'except']);
  const before = c.problems.length;
  const { cidr, except } = value;
  if (cidr === undefined || cidr === null || cidr === '') {
    c.add([...path, 'cidr'], 'Required value');
    return undefined;
  }
  if (!c.string(cidr, [...path, 'cidr'])) return undefined;
  const parsed = parseCidr(cidr);
  if (!parsed)
    c.add(
      [...path, 'cidr'],
      `Invalid value: "${cidr}": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)`,
    );
  const out: IPBlock = { cidr };
  if (except !== undefined && except !== null && c.array(except, [...path, 'except'])) {
    out.except = [];
    except.forEach((e, i) => {
      const p = [...path, 'except', i];
      if (!c.string(e, p)) return;
      const ex = parseCidr(e);
      if (!ex) {
        c.add(p, `Invalid value: "${e}": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)`);
        return;
      }
      if (parsed) {
        const m = exceptProblem(parsed, ex);
        if (m) c.add(p, `Invalid value: "${e}": ${m} (${cidr})`);
      }
      out.except!.push(e);
    });
  }
  return c.problems.length === before ? out : undefined;
}

function validatePeer(c: ProblemCollector, value: unknown, path: FieldPath): NetworkPolicyPeer | undefined {
  if (!c.record(value, path)) return undefined;
  c.unknownFields(value, path, ['podSelector', 'namespaceSelector', 'ipBlock']);
  const before = c.problems.length;
  const out: NetworkPolicyPeer = {};
  const present = (k: string) => value[k] !== undefined && value[k] !== null;
  let count = 0;
  if (present('podSelector')) {
    count++;
    const s = validateLabelSelector(c, value.podSelector, [...path, 'podSelector']);
    if (s) out.podSelector = s;
  }
  if (present('namespaceSelector')) {
    count++;
    const s = validateLabelSelector(c, value.namespaceSelector, [...path, 'namespaceSelector']);
    if (s) out.namespaceSelector = s;
  }
  if (present('ipBlock')) {
    count++;
    const b = validateIpBlock(c, value.ipBlock, [...path, 'ipBlock']);
    if (b) out.ipBlock = b;
  }
  if (count === 0)
    c.add(path, 'Required value: must specify a peer (podSelector, namespaceSelector and/or ipBlock)');
  else if (count > 1 && present('ipBlock'))
    c.add(path, 'Forbidden: may not specify both ipBlock and another peer');
  return c.problems.length === before ? out : undefined;
}

function validateRule(
  c: ProblemCollector,
  value: unknown,
  path: FieldPath,
  peersField: 'from' | 'to',
): { peers?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] } | undefined {
  if (value === null) return {};
  if (!c.record(value, path)) return undefined;
  c.unknownFields(value, path, [peersField, 'ports']);
  const before = c.problems.length;
  const out: { peers?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] } = {};
  const peers = value[peersField];
  if (peers !== undefined && peers !== null && c.array(peers, [...path, peersField])) {
    out.peers = [];
    peers.forEach((p, i) => {
      const peer = validatePeer(c, p, [...path, peersField, i]);
      if (peer) out.peers!.push(peer);
    });
  }
  if (value.ports !== undefined && value.ports !== null && c.array(value.ports, [...path, 'ports'])) {
    out.ports = [];
    value.ports.forEach((p, i) => {
      const port = validatePort(c, p, [...path, 'ports', i]);
      if (port) out.ports!.push(port);
    });
  }
  return c.problems.length === before ? out : undefined;
}

export function validateSpec(
  c: ProblemCollector,
  value: unknown,
  path: FieldPath,
): NetworkPolicySpec | undefined {
  if (value === undefined || value === null) {
    c.add(path, 'Required value');
    return undefined;
  }
  if (!c.record(value, path)) return undefined;
  c.unknownFields(value, path, ['podSelector', 'policyTypes', 'ingress', 'egress']);
  const before = c.problems.length;
  // An absent podSelector is the empty selector (every pod in the namespace).
  const podSelector =
    value.podSelector === undefined
      ? {}
      : validateLabelSelector(c, value.podSelector, [...path, 'podSelector']);
  const spec: NetworkPolicySpec = { podSelector: podSelector ?? {} };

  if (value.policyTypes !== undefined && value.policyTypes !== null) {
    const typesPath = [...path, 'policyTypes'];
    if (c.array(value.policyTypes, typesPath)) {
      if (value.policyTypes.length > 2) {
        c.add(typesPath, 'Invalid value: may not specify more than two policyTypes');
      } else {
        const types: PolicyType[] = [];
        value.policyTypes.forEach((t, i) => {
          if (t === 'Ingress' || t === 'Egress') types.push(t);
          else
            c.add(
              [...typesPath, i],
              `Unsupported value: ${JSON.stringify(t)}: supported values: "Ingress", "Egress"`,
            );
        });
        spec.policyTypes = types;
      }
    }
  }
  if (value.ingress !== undefined && value.ingress !== null && c.array(value.ingress, [...path, 'ingress'])) {
    const rules: NetworkPolicyIngressRule[] = [];
    value.ingress.forEach((r, i) => {
      const rule = validateRule(c, r, [...path, 'ingress', i], 'from');
      if (rule)
        rules.push({
          ...(rule.peers ? { from: rule.peers } : {}),
          ...(rule.ports ? { ports: rule.ports } : {}),
        });
    });
    spec.ingress = rules;
  }
  if (value.egress !== undefined && value.egress !== null && c.array(value.egress, [...path, 'egress'])) {
    const rules: NetworkPolicyEgressRule[] = [];
    value.egress.forEach((r, i) => {
      const rule = validateRule(c, r, [...path, 'egress', i], 'to');
      if (rule)
        rules.push({
          ...(rule.peers ? { to: rule.peers } : {}),
          ...(rule.ports ? { ports: rule.ports } : {}),
        });
    });
    spec.egress = rules;
  }
  return c.problems.length === before ? spec : undefined;
}

/** metadata.name and metadata.namespace, checked the API server's way. Labels too. */
export function validateObjectMeta(
  c: ProblemCollector,
  value: unknown,
  opts: { namespaced: boolean; defaultNamespace?: string; nameCheck?: (s: string) => string[] },
): { name: string; namespace: string; labels: Record<string, string> } | undefined {
  const path = ['metadata'];
  if (value === undefined || value === null) {
    c.add(path, 'Required value');
    return undefined;
  }
  if (!c.record(value, path)) return undefined;
  const before = c.problems.length;
  const { name } = value;
  if (name === undefined || name === null || name === '')
    c.add([...path, 'name'], 'Required value: name is required');
  else if (c.string(name, [...path, 'name'])) {
    for (const m of (opts.nameCheck ?? dns1123SubdomainProblems)(name))
      c.add([...path, 'name'], `Invalid value: "${name}": ${m}`);
  }
  let namespace = '';
  if (opts.namespaced) {
    const ns = value.namespace;
    if (ns === undefined || ns === null || ns === '') {
      if (opts.defaultNamespace) namespace = opts.defaultNamespace;
      else c.add([...path, 'namespace'], 'Required value: give metadata.namespace (or a default namespace)');
    } else if (c.string(ns, [...path, 'namespace'])) {
      for (const m of dns1123LabelProblems(ns)) c.add([...path, 'namespace'], `Invalid value: "${ns}": ${m}`);
      namespace = ns;
    }
  }
  const labels = validateLabels(c, value.labels, [...path, 'labels']);
  if (c.problems.length !== before || typeof name !== 'string' || !labels) return undefined;
  return { name, namespace, labels };
}

export interface ValidatedNetworkPolicy {
  policy?: NetworkPolicyModel;
  problems: LocatedFieldProblem[];
}

/**
 * Results for frozen objects, by default namespace. The simulated cluster stores its objects
 * deeply frozen and shares them between a learner's cluster, its copies and every reader of them,
 * so one policy is validated by the data plane, the grader's oracle and its policy checks, check
 * after check: a frozen object cannot change, so its result is worked out once, and frozen too,
 * since all those readers then share it.
 */
const resultsForFrozen = new FrozenMemo<object, Map<string, ValidatedNetworkPolicy>>();

export function validateNetworkPolicy(
  obj: unknown,
  defaults?: string | { defaultNamespace?: string },
): ValidatedNetworkPolicy {
  const defaultNamespace = typeof defaults === 'string' ? defaults : defaults?.defaultNamespace;
  if (!isRecord(obj) || !Object.isFrozen(obj)) return validateNow(obj, defaultNamespace);
  const byDefault = resultsForFrozen.get(obj, () => new Map());
  const key = defaultNamespace ?? '';
  let result = byDefault.get(key);
  if (!result) {
    result = freezeDeep(validateNow(obj, defaultNamespace));
    byDefault.set(key, result);
  }
  return result;
}

function validateNow(obj: unknown, defaultNamespace: string | undefined): ValidatedNetworkPolicy {
  const c = new ProblemCollector();
  if (!isRecord(obj)) {
    c.add([], `a NetworkPolicy must be an object, got ${describe(obj)}`);
    return { problems: c.problems };
  }
  if (obj.kind !== undefined && obj.kind !== 'NetworkPolicy') {
    c.add(['kind'], `expected kind NetworkPolicy, got ${describe(obj.kind)}`);
  }
  if (obj.apiVersion !== undefined && obj.apiVersion !== 'networking.k8s.io/v1') {
    c.add(
      ['apiVersion'],
      `Unsupported value: ${JSON.stringify(obj.apiVersion)}: NetworkPolicy is served as "networking.k8s.io/v1"`,
    );
  }
  c.unknownFields(obj, [], ['apiVersion', 'kind', 'metadata', 'spec', 'status']);
  const meta = validateObjectMeta(c, obj.metadata, {
    namespaced: true,
    ...(defaultNamespace ? { defaultNamespace } : {}),
  });
  const spec = validateSpec(c, obj.spec, ['spec']);
  if (c.problems.length > 0 || !meta || !spec) return { problems: c.problems };
  return { policy: { namespace: meta.namespace, name: meta.name, spec }, problems: [] };
}
