/** Static checks on the learner's NetworkPolicy objects: exists, selects the right pods, types. */
import type { Check } from '../labs/model.js';
import { matchesSelector, validateNetworkPolicy } from '../netpol/index.js';
import type { CheckResult } from './report.js';
import { labelsOf, type Snapshot } from './snapshot.js';

type PolicyCheck = Extract<Check, { kind: 'policy' }>;

export function runPolicyCheck(check: PolicyCheck, snapshot: Snapshot): CheckResult {
  const result: CheckResult = {
    id: check.id,
    title: check.title,
    kind: 'policy',
    status: 'pass',
    messages: [],
    probes: [],
  };
  const fail = (msg: string) => {
    result.status = 'fail';
    result.messages.push(msg);
  };
  const obj = snapshot.policies.find(
    (p) => p.metadata.namespace === check.namespace && p.metadata.name === check.name,
  );
  if (!obj) {
    const elsewhere = snapshot.policies
      .filter((p) => p.metadata.name === check.name)
      .map((p) => p.metadata.namespace);
    fail(
      `NetworkPolicy ${check.name} was not found in namespace ${check.namespace}` +
        (elsewhere.length > 0 ? ` (there is one in ${elsewhere.join(', ')}: wrong namespace?)` : '.'),
    );
    return result;
  }
  const { policy, problems } = validateNetworkPolicy(obj, check.namespace);
  if (!policy) {
    fail(
      `NetworkPolicy ${check.name} could not be read: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
    );
    return result;
  }

  if (check.selects) {
    const podsInNs = snapshot.pods.filter((p) => p.metadata.namespace === check.namespace);
    const selected = podsInNs.filter((p) => matchesSelector(policy.spec.podSelector, labelsOf(p)));
    const wanted = podsInNs.filter((p) => matchesSelector(check.selects!, labelsOf(p)));
    const selectedNames = new Set(selected.map((p) => p.metadata.name));
    const wantedNames = new Set(wanted.map((p) => p.metadata.name));
    const extra = [...selectedNames].filter((n) => !wantedNames.has(n)).sort();
    const missing = [...wantedNames].filter((n) => !selectedNames.has(n)).sort();
    if (extra.length > 0 || missing.length > 0) {
      const parts: string[] = [];
      if (missing.length > 0) parts.push(`does not select ${missing.join(', ')}`);
      if (extra.length > 0) parts.push(`also selects ${extra.join(', ')}`);
      fail(
        `${check.name}'s podSelector ${describeSelector(policy.spec.podSelector)} selects ${pods(selected.length)} in ${check.namespace} ` +
          `but must select exactly the ${pods(wanted.length)} matching ${describeSelector(check.selects)}: ${parts.join('; ')}.`,
      );
    } else {
      result.messages.push(`${check.name} selects exactly ${[...selectedNames].sort().join(', ')}.`);
    }
  }

  if (check.policyTypes) {
    const effective = effectivePolicyTypes(policy.spec);
    const missing = check.policyTypes.filter((t) => !effective.includes(t));
    if (missing.length > 0) {
      const given = policy.spec.policyTypes
        ? `policyTypes: [${policy.spec.policyTypes.join(', ')}]`
        : 'no policyTypes';
      fail(
        `${check.name} must be an ${missing.join(' and ')} policy, but with ${given} it is ${effective.join(' and ') || 'neither'}` +
          (missing.includes('Egress') && !policy.spec.egress?.length
            ? ' (without policyTypes, Egress applies only when egress rules are present).'
            : '.'),
      );
    }
  }
  if (result.status === 'pass' && result.messages.length === 0)
    result.messages.push(`${check.name} exists in ${check.namespace}.`);
  return result;
}

/** policyTypes as the API server defaults them: Ingress always, Egress when egress rules exist. */
export function effectivePolicyTypes(spec: { policyTypes?: string[]; egress?: unknown[] }): string[] {
  if (spec.policyTypes && spec.policyTypes.length > 0) return spec.policyTypes;
  return spec.egress && spec.egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
}

export function describeSelector(sel: {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}): string {
  const parts = [
    ...Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`),
    ...(sel.matchExpressions ?? []).map(
      (e) => `${e.key} ${e.operator}${e.values ? ` (${e.values.join(', ')})` : ''}`,
    ),
  ];
  return parts.length === 0 ? '{} (every pod)' : `{${parts.join(', ')}}`;
}

function pods(n: number): string {
  return n === 0 ? 'no pods' : n === 1 ? '1 pod' : `${n} pods`;
}
