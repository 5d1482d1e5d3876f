/** Static checks on the learner's NetworkPolicy objects: exists, selects the right pods, types. */
import type { Check } from '../labs/model.js';
import { matchesSelector, validateNetworkPolicy } from '../netpol/index.js';
import { selectorDifference } from '../netpol/label-classes.js';
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
    // Compared over every label set a pod could carry, not only today's pods: a selector that
    // happens to pick the right pods now but would also pick (or miss) a pod created tomorrow is wrong.
    const diff = selectorDifference(policy.spec.podSelector, check.selects);
    const podsInNs = snapshot.pods.filter((p) => p.metadata.namespace === check.namespace);
    const selected = podsInNs.filter((p) => matchesSelector(policy.spec.podSelector, labelsOf(p)));
    if (diff) {
      const labels =
        Object.entries(diff.labels)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ') || 'no labels';
      const today = podsInNs.filter((p) => matchesSelector(check.selects!, labelsOf(p)));
      const sameToday =
        selected.length === today.length &&
        selected.every((p) => today.some((q) => q.metadata.name === p.metadata.name));
      fail(
        `${check.name}'s podSelector ${describeSelector(policy.spec.podSelector)} must select exactly the pods matching ` +
          `${describeSelector(check.selects)}, but it ${diff.matchedBy === 'first' ? 'also selects' : 'does not select'} a pod with ${labels}` +
          (sameToday ? ' (no such pod runs today, but one could be created tomorrow).' : '.'),
      );
    } else {
      result.messages.push(
        `${check.name} selects exactly the pods matching ${describeSelector(check.selects)} (${selected.length} today).`,
      );
    }
  }

  if (check.policyTypes) {
    const effective = effectivePolicyTypes(policy.spec);
    const missing = check.policyTypes.filter((t) => !effective.includes(t));
    const extra = effective.filter((t) => !check.policyTypes!.includes(t as 'Ingress' | 'Egress'));
    if (missing.length > 0 || extra.length > 0) {
      const given = policy.spec.policyTypes
        ? `policyTypes: [${policy.spec.policyTypes.join(', ')}]`
        : 'no policyTypes';
      // The API server stores the defaulted value, so a live object cannot tell whether the learner
      // wrote it: say how defaulting works whenever the value is what defaulting would give.
      const byDefault = effectivePolicyTypes({
        ...(policy.spec.egress ? { egress: policy.spec.egress } : {}),
      });
      const defaulted =
        !policy.spec.policyTypes || byDefault.join() === effective.join()
          ? ` (if policyTypes was left out, the API server filled it in: Ingress always, Egress only when there are egress rules)`
          : '';
      fail(
        `${check.name} must restrict ${check.policyTypes.join(' and ')} only, but with ${given} it restricts ${effective.join(' and ') || 'nothing'}${defaulted}.`,
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
