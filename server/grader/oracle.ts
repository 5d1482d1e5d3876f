/**
 * The engine's view of the cluster at grading time: what the NetworkPolicies applied right now
 * predict for a connection, in plain words. The grader uses it twice: to explain every probe, and to
 * tell an environment problem (engine says open, probe says blocked) from a learner's mistake.
 */
import type { KubeObject } from '../cluster/types.js';
import {
  compileNetwork,
  evaluate,
  resolveNamedPort,
  namespaceModelFromNamespace,
  podModelFromPod,
  validateNetworkPolicy,
  type CompiledNetwork,
} from '../netpol/index.js';
import type {
  Endpoint,
  NetworkModel,
  NetworkPolicyModel,
  PodModel,
  Protocol,
  Verdict,
} from '../netpol/types.js';
import type { Snapshot } from './snapshot.js';

const DNS_LABEL = { key: 'k8s-app', value: 'kube-dns' };

export class PolicyOracle {
  private compiled: CompiledNetwork | undefined;
  /** The cluster as the engine sees it (policies the engine could not read are left out). */
  readonly model: NetworkModel;
  private readonly pods = new Map<string, PodModel>();
  /** Policies the engine could not read (should not happen for objects an API server accepted). */
  readonly unreadablePolicies: string[] = [];

  constructor(snapshot: Snapshot) {
    const policies: NetworkPolicyModel[] = [];
    for (const obj of snapshot.policies) {
      const { policy } = validateNetworkPolicy(obj, obj.metadata.namespace);
      if (policy) policies.push(policy);
      else this.unreadablePolicies.push(`${obj.metadata.namespace}/${obj.metadata.name}`);
    }
    const model: NetworkModel = (this.model = {
      namespaces: snapshot.namespaces.map((n) => namespaceModelFromNamespace(n)),
      pods: snapshot.pods.map((p) => podModelFromPod(p)),
      policies,
    });
    for (const pod of model.pods) this.pods.set(`${pod.namespace}/${pod.name}`, pod);
  }

  /** Compiled on the first question: a grade whose probe plans are remembered asks none. */
  private get net(): CompiledNetwork {
    return (this.compiled ??= compileNetwork(this.model));
  }

  pod(ref: string): PodModel | undefined {
    return this.pods.get(ref);
  }

  /** The pods that serve cluster DNS (CoreDNS in kube-system). */
  dnsPods(): PodModel[] {
    return [...this.pods.values()].filter(
      (p) => p.namespace === 'kube-system' && p.labels[DNS_LABEL.key] === DNS_LABEL.value,
    );
  }

  predict(from: string, to: Endpoint, port: number | string, protocol: Protocol): Verdict | undefined {
    const src = this.pods.get(from);
    if (!src) return undefined;
    return evaluate(this.net, { kind: 'pod', pod: src }, to, port, protocol);
  }

  /** The verdict and its explanation in plain words, near misses included. */
  explain(from: string, to: Endpoint, port: number | string, protocol: Protocol, toLabel: string) {
    const verdict = this.predict(from, to, port, protocol);
    if (!verdict) return undefined;
    const src = this.pods.get(from)!;
    const short = to.kind === 'pod' ? `${to.pod.namespace}/${to.pod.name}` : to.ip;
    let text = explainVerdict(verdict, from, toLabel, short);
    if (!verdict.allowed) {
      const misses = this.nearMisses(verdict, { kind: 'pod', pod: src }, to);
      if (misses.length > 0) text += ` Near miss: ${misses.join('; ')}.`;
    }
    return { verdict, text };
  }

  /**
   * Rules that name the right peer but not the port: the most common near miss (a wrong number,
   * a port name the destination does not have, a range one short). One line per such rule.
   */
  nearMisses(v: Verdict, from: Endpoint, to: Endpoint): string[] {
    const out: string[] = [];
    const look = (direction: 'ingress' | 'egress', peer: Endpoint, ids: string[]) => {
      const peerIndex = peer.kind === 'pod' ? this.net.indexOf(peer.pod.namespace, peer.pod.name) : undefined;
      const destination = to.kind === 'pod' ? to.pod : undefined;
      for (const policy of this.net.policies.filter((p) => ids.includes(p.id))) {
        const rules = direction === 'ingress' ? policy.ingressRules : policy.egressRules;
        for (const rule of rules) {
          const peerMatches =
            rule.allPeers ||
            (peer.kind === 'ip'
              ? rule.peers.some((x) => x.ipBlock?.contains(peer.ip) ?? false)
              : peerIndex !== undefined && rule.peerPods.has(peerIndex));
          if (!peerMatches || !rule.ports || rule.ports.length === 0) continue;
          const ports = rule.ports.map((p) => {
            const proto = p.protocol ?? 'TCP';
            if (typeof p.port === 'string') {
              const resolved = resolveNamedPort(destination, p.port, proto);
              return resolved
                ? `${proto} ${p.port} (= ${resolved.port} on this pod)`
                : `${proto} ${p.port} (no container port has that name on this pod)`;
            }
            if (p.port === undefined) return `every ${proto} port`;
            return `${proto} ${p.port}${p.endPort !== undefined ? `-${p.endPort}` : ''}`;
          });
          out.push(
            `${ruleWords(direction, policy.id, rule.ref.rule)} does match ${direction === 'egress' ? 'this destination' : 'this source'}, but only on ${ports.join(', ')}`,
          );
        }
      }
    };
    if (!v.egress.allowed) look('egress', to, v.egress.isolatingPolicies);
    if (!v.ingress.allowed) look('ingress', from, v.ingress.isolatingPolicies);
    return out.slice(0, 3);
  }

  /** Name resolution needs UDP 53 to the DNS pods (the pod resolver uses UDP; TCP only on truncation). */
  predictDns(from: string): { allowed: boolean; verdicts: Array<{ pod: string; verdict: Verdict }> } {
    const verdicts: Array<{ pod: string; verdict: Verdict }> = [];
    for (const dns of this.dnsPods()) {
      const v = this.predict(from, { kind: 'pod', pod: dns }, 53, 'UDP');
      if (v) verdicts.push({ pod: `${dns.namespace}/${dns.name}`, verdict: v });
    }
    return { allowed: verdicts.length > 0 && verdicts.every((v) => v.verdict.allowed), verdicts };
  }
}

function ruleWords(direction: 'ingress' | 'egress', policy: string, rule: number): string {
  return `${policy} ${direction} rule ${rule + 1} (spec.${direction}[${rule}])`;
}

/** One sentence saying why the engine allows or blocks a connection. */
export function explainVerdict(v: Verdict, fromLabel: string, toLabel: string, toShort = toLabel): string {
  const what = `${v.protocol} ${v.port ?? '(unresolved named port)'}`;
  if (v.allowed) {
    const parts: string[] = [];
    if (v.egress.isolated && v.egress.allowedBy[0]) {
      const r = v.egress.allowedBy[0];
      parts.push(`${ruleWords('egress', r.policy, r.rule)} lets ${fromLabel} reach ${toLabel} on ${what}`);
    } else {
      parts.push(`no policy restricts egress from ${fromLabel}`);
    }
    if (v.ingress.isolated && v.ingress.allowedBy[0]) {
      const r = v.ingress.allowedBy[0];
      parts.push(`${ruleWords('ingress', r.policy, r.rule)} admits it`);
    } else {
      parts.push(`no policy restricts ingress to ${toShort}`);
    }
    return `open: ${parts.join('; ')}.`;
  }
  const parts: string[] = [];
  if (!v.egress.allowed) {
    parts.push(
      `egress from ${fromLabel} is restricted by ${list(v.egress.isolatingPolicies)}, and no egress rule there allows ${toLabel} on ${what}`,
    );
  }
  if (!v.ingress.allowed) {
    parts.push(
      `ingress to ${!v.egress.allowed ? toShort : toLabel} is restricted by ${list(v.ingress.isolatingPolicies)}, and no ingress rule there admits ${fromLabel} on ${what}`,
    );
  }
  return `blocked: ${parts.join('; ')}.`;
}

export function explainDns(
  prediction: { allowed: boolean; verdicts: Array<{ pod: string; verdict: Verdict }> },
  fromLabel: string,
  name: string,
): string {
  if (prediction.verdicts.length === 0)
    return `there are no kube-dns pods in kube-system to answer for ${name}.`;
  if (prediction.allowed) {
    const first = prediction.verdicts[0]!;
    return `${fromLabel} can resolve ${name}: ${explainVerdict(first.verdict, fromLabel, `kube-dns (${first.pod})`).replace(/^open: /, '')}`;
  }
  const denied = prediction.verdicts.find((v) => !v.verdict.allowed)!;
  const v = denied.verdict;
  const blockers = !v.egress.allowed
    ? `egress to kube-dns on UDP 53 is not allowed by ${list(v.egress.isolatingPolicies)}`
    : `ingress to kube-dns on UDP 53 is not allowed by ${list(v.ingress.isolatingPolicies)}`;
  const partial = prediction.verdicts.some((x) => x.verdict.allowed)
    ? ' (only some kube-dns pods are allowed: lookups would fail at random)'
    : '';
  return `${fromLabel} can't resolve ${name}: ${blockers}${partial}.`;
}

function list(items: string[]): string {
  if (items.length === 0) return 'no policy';
  if (items.length === 1) return items[0]!;
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

export type { KubeObject };
