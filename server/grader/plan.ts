/**
 * Turns a lab's connectivity and DNS checks into concrete probes against the pods, Services and
 * addresses that exist right now, each with the outcome the engine predicts for it.
 */
import type { Check, Lab, PodSet, ProbeTarget } from '../labs/model.js';
import { matchesSelector } from '../netpol/index.js';
import type { Protocol } from '../netpol/types.js';
import type { ProbeOutcome, ProbeSpec } from '../probe/types.js';
import { serviceDnsName } from '../probe/index.js';
import type { Expectation } from './report.js';
import { PolicyOracle, explainDns } from './oracle.js';
import {
  containerPorts,
  endpointPodNames,
  labelsOf,
  podIP,
  serviceClusterIP,
  servicePorts,
  serviceSelector,
  type Snapshot,
} from './snapshot.js';
import type { KubeObject } from '../cluster/types.js';
import { freezeDeep } from '../freeze.js';
import { canonicalDigest, Memo } from './digest.js';

export interface PlannedProbe {
  checkId: string;
  /** Source pod `ns/name`. */
  from: string;
  to: string;
  port?: number | string;
  protocol?: Protocol;
  spec: ProbeSpec;
  expected: Expectation;
  /** What the policies in the cluster predict, and why. */
  predicted: ProbeOutcome | 'unknown';
  explanation: string;
}

export interface CheckPlan {
  check: Extract<Check, { kind: 'connectivity' | 'dns' }>;
  probes: PlannedProbe[];
  /** Problems that make the check impossible to run (missing pods or Services): environment problems. */
  problems: string[];
}

export const PROBE_TIMEOUT_SECONDS = 2;

/** Services are probed by their absolute DNS name (see server/probe/command.ts for why). */
export function serviceFqdn(service: string, namespace: string): string {
  return serviceDnsName(service, namespace);
}

export function podsOf(snapshot: Snapshot, set: PodSet): KubeObject[] {
  return snapshot.pods
    .filter((p) => p.metadata.namespace === set.namespace && matchesSelector(set.podSelector, labelsOf(p)))
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

/**
 * Plans by check, then by the content they were made for. A plan reads the lab, the snapshot and
 * the oracle's predictions; on the simulated cluster those are named by `content` (see
 * planContentKey), and learners re-check the same answers on the same scenario all the time.
 * A check belongs to one loaded lab, which does not change once loaded. A plan is kept from the
 * second time its content comes (an answer sent once would only churn the memory and the garbage
 * collector), and kept plans are frozen: every grade that gets one shares it.
 */
const plansByCheck = new WeakMap<object, { plans: Memo<CheckPlan>; seenOnce: Memo<true> }>();

/**
 * What a plan depends on besides its lab: the cluster's objects apart from NetworkPolicies
 * (versionBesidesPolicies, set only by the simulated cluster) and the policies as the engine reads
 * them. Undefined when not known (a real cluster): plans are then made afresh.
 */
export function planContentKey(snapshot: Snapshot, oracle: PolicyOracle): string | undefined {
  if (snapshot.versionBesidesPolicies === undefined) return undefined;
  const policies = canonicalDigest([oracle.model.policies, oracle.unreadablePolicies]);
  return policies === undefined ? undefined : `${snapshot.versionBesidesPolicies}:${policies}`;
}

/** planCheck, remembered by `content` (planContentKey) when it is known. */
export function planCheckFor(
  lab: Lab,
  check: Extract<Check, { kind: 'connectivity' | 'dns' }>,
  snapshot: Snapshot,
  oracle: PolicyOracle,
  content: string | undefined,
): CheckPlan {
  if (content === undefined) return planCheck(lab, check, snapshot, oracle);
  let memo = plansByCheck.get(check);
  if (!memo) {
    memo = { plans: new Memo<CheckPlan>(64), seenOnce: new Memo<true>(512) };
    plansByCheck.set(check, memo);
  }
  let plan = memo.plans.get(content);
  if (!plan) {
    plan = planCheck(lab, check, snapshot, oracle);
    if (!memo.seenOnce.get(content)) {
      memo.seenOnce.set(content, true);
      return plan;
    }
    // Not freezeDeep: the plan refers to the lab's own check object, which is not ours to freeze.
    for (const probe of plan.probes) freezeDeep(probe);
    Object.freeze(plan.probes);
    Object.freeze(plan.problems);
    Object.freeze(plan);
    memo.plans.set(content, plan);
  }
  return plan;
}

export function planCheck(
  lab: Lab,
  check: Extract<Check, { kind: 'connectivity' | 'dns' }>,
  snapshot: Snapshot,
  oracle: PolicyOracle,
): CheckPlan {
  const plan: CheckPlan = { check, probes: [], problems: [] };
  const sources = podsOf(snapshot, check.from);
  if (sources.length === 0) {
    plan.problems.push(
      `no pods in namespace ${check.from.namespace} match the sources of this check; is the scenario deployed? (kubelab lab reset ${lab.id})`,
    );
    return plan;
  }
  for (const src of sources) {
    const from = `${src.metadata.namespace}/${src.metadata.name}`;
    if (check.kind === 'dns') {
      for (const raw of check.names) {
        const name = raw.includes('.') ? raw : serviceFqdn(raw, lab.namespace);
        const prediction = oracle.predictDns(from);
        const exists = nameExists(snapshot, name);
        plan.probes.push({
          checkId: check.id,
          from,
          to: name,
          spec: { kind: 'dns', name, timeoutSeconds: PROBE_TIMEOUT_SECONDS },
          expected: check.expect,
          predicted: prediction.allowed && exists ? 'allowed' : 'dns-failure',
          explanation: exists
            ? explainDns(prediction, from, name)
            : `${name} is not a Service in the cluster.`,
        });
      }
      continue;
    }
    for (const target of check.to)
      planTarget(lab, check.expect, check.id, from, target, snapshot, oracle, plan);
  }
  return plan;
}

function planTarget(
  lab: Lab,
  expect: 'open' | 'blocked',
  checkId: string,
  from: string,
  target: ProbeTarget,
  snapshot: Snapshot,
  oracle: PolicyOracle,
  plan: CheckPlan,
): void {
  const protocol = target.protocol;
  const kind = protocol === 'UDP' ? 'udp' : 'tcp';
  if (target.service !== undefined) {
    const ns = target.namespace ?? lab.namespace;
    const svc = snapshot.services.find(
      (s) => s.metadata.namespace === ns && s.metadata.name === target.service,
    );
    if (!svc) {
      plan.problems.push(
        `Service ${ns}/${target.service} does not exist; is the scenario deployed? (kubelab lab reset ${lab.id})`,
      );
      return;
    }
    const clusterIP = serviceClusterIP(svc);
    const endpoints = serviceEndpointPods(snapshot, svc);
    const ports = servicePorts(svc);
    for (const port of target.ports) {
      const sp = ports.find(
        (p) => (typeof port === 'number' ? p.port === port : p.name === port) && p.protocol === protocol,
      );
      if (!sp || !clusterIP) {
        plan.problems.push(`Service ${ns}/${target.service} has no ${protocol} port ${port}.`);
        continue;
      }
      const label = target.label ?? `${target.service}.${ns}:${sp.port}/${protocol}`;
      // Open expectations go by name, so DNS is part of what is tested. Blocked expectations go to
      // the ClusterIP: a broken DNS must not make an open port look closed.
      const byName = expect === 'open';
      const host = byName ? serviceFqdn(target.service, ns) : clusterIP;
      const { predicted, explanation } = predictService(
        oracle,
        from,
        endpoints,
        sp.targetPort,
        protocol,
        label,
      );
      let finalPredicted = predicted;
      let finalExplanation = explanation;
      if (byName) {
        const dns = oracle.predictDns(from);
        if (!dns.allowed) {
          finalPredicted = 'dns-failure';
          finalExplanation = `${explainDns(dns, from, host)} With DNS fixed, the connection itself would be ${explanation}`;
        }
      }
      plan.probes.push({
        checkId,
        from,
        to: byName ? label : `${label} (ClusterIP ${clusterIP})`,
        port: sp.port,
        protocol,
        spec: { kind, host, port: sp.port, timeoutSeconds: PROBE_TIMEOUT_SECONDS },
        expected: expect,
        predicted: finalPredicted,
        explanation: finalExplanation,
      });
    }
    return;
  }
  if (target.pods !== undefined) {
    const pods = podsOf(snapshot, target.pods);
    if (pods.length === 0) {
      plan.problems.push(`no pods in namespace ${target.pods.namespace} match a target of this check.`);
      return;
    }
    for (const pod of pods) {
      const ref = `${pod.metadata.namespace}/${pod.metadata.name}`;
      const ip = podIP(pod);
      if (!ip) {
        plan.problems.push(`pod ${ref} has no IP yet.`);
        continue;
      }
      for (const port of target.ports) {
        const number = resolvePodPort(pod, port, protocol);
        if (number === undefined) {
          plan.problems.push(`pod ${ref} has no container port named ${port}/${protocol}.`);
          continue;
        }
        const label = target.label ? `${target.label} (${ref})` : `${ref} (${ip})`;
        const model = oracle.pod(ref);
        const judged = model
          ? oracle.explain(from, { kind: 'pod', pod: model }, number, protocol, ref)
          : undefined;
        const verdict = judged?.verdict;
        plan.probes.push({
          checkId,
          from,
          to: `${label}:${number}/${protocol}`,
          port: number,
          protocol,
          spec: { kind, host: ip, port: number, timeoutSeconds: PROBE_TIMEOUT_SECONDS },
          expected: expect,
          predicted: verdict ? (verdict.allowed ? 'allowed' : 'blocked') : 'unknown',
          explanation: judged ? judged.text : `the engine does not know ${ref}.`,
        });
      }
    }
    return;
  }
  if (target.ip !== undefined) {
    for (const port of target.ports) {
      if (typeof port !== 'number') {
        plan.problems.push(`ip target ${target.ip} needs numeric ports (got ${port}).`);
        continue;
      }
      const label = `${target.label ? `${target.label} (${target.ip})` : target.ip}:${port}/${protocol}`;
      const judged = oracle.explain(from, { kind: 'ip', ip: target.ip }, port, protocol, target.ip);
      const verdict = judged?.verdict;
      plan.probes.push({
        checkId,
        from,
        to: label,
        port,
        protocol,
        spec: { kind, host: target.ip, port, timeoutSeconds: PROBE_TIMEOUT_SECONDS },
        expected: expect,
        predicted: verdict ? (verdict.allowed ? 'allowed' : 'blocked') : 'unknown',
        explanation: judged ? judged.text : 'unknown source pod.',
      });
    }
  }
}

function serviceEndpointPods(snapshot: Snapshot, svc: KubeObject): KubeObject[] {
  const ns = svc.metadata.namespace ?? '';
  const names = new Set(endpointPodNames(snapshot, ns, svc.metadata.name));
  if (names.size > 0) {
    return snapshot.pods.filter((p) => names.has(`${p.metadata.namespace}/${p.metadata.name}`));
  }
  const selector = serviceSelector(svc);
  if (!selector) return [];
  return snapshot.pods.filter(
    (p) => p.metadata.namespace === ns && matchesSelector({ matchLabels: selector }, labelsOf(p)),
  );
}

function resolvePodPort(pod: KubeObject, port: number | string, protocol: string): number | undefined {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  return containerPorts(pod).find((p) => p.name === port && p.protocol === protocol)?.port;
}

/** Policy is enforced on the pod after the Service's DNAT: the endpoint pod and its target port. */
function predictService(
  oracle: PolicyOracle,
  from: string,
  endpoints: KubeObject[],
  targetPort: number | string,
  protocol: Protocol,
  label: string,
): { predicted: ProbeOutcome | 'unknown'; explanation: string } {
  if (endpoints.length === 0)
    return { predicted: 'refused', explanation: `${label} has no ready endpoints.` };
  const verdicts = endpoints.map((pod) => {
    const ref = `${pod.metadata.namespace}/${pod.metadata.name}`;
    const port = resolvePodPort(pod, targetPort, protocol);
    const model = oracle.pod(ref);
    const judged =
      port === undefined || !model
        ? undefined
        : oracle.explain(from, { kind: 'pod', pod: model }, port, protocol, `${ref} (behind ${label})`);
    return { ref, verdict: judged?.verdict, text: judged?.text ?? '' };
  });
  const known = verdicts.filter((v) => v.verdict !== undefined);
  if (known.length === 0)
    return { predicted: 'unknown', explanation: `the target port of ${label} does not resolve on its pods.` };
  const allowed = known.filter((v) => v.verdict!.allowed);
  const shown = allowed.length === known.length ? known[0]! : known.find((v) => !v.verdict!.allowed)!;
  const explanation = shown.text;
  if (allowed.length > 0 && allowed.length < known.length) {
    return {
      predicted: 'unknown',
      explanation: `only ${allowed.length} of ${known.length} pods behind ${label} are reachable, so connections succeed at random; ${explanation}`,
    };
  }
  return { predicted: allowed.length > 0 ? 'allowed' : 'blocked', explanation };
}

function nameExists(snapshot: Snapshot, name: string): boolean {
  const m = /^([^.]+)\.([^.]+)\.svc\.cluster\.local\.?$/.exec(name);
  if (!m) return true; // not a Service name: let the probe decide
  return snapshot.services.some((s) => s.metadata.name === m[1] && s.metadata.namespace === m[2]);
}
