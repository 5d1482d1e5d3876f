/**
 * compileNetwork: index a NetworkModel once so every question after it is cheap. For each policy
 * we keep the pods it selects and, per rule, the pods each peer matches (bitsets over pod
 * indexes); for each pod, the policies that isolate it per direction.
 *
 * Where the spec lets implementations differ, we follow Calico:
 * - ipBlock peers match pod IPs too, not only addresses outside the cluster.
 * - hostNetwork pods are never isolated by pod policies, and as peers only ipBlock can match them
 *   (their traffic carries the node's IP, which pod and namespace selectors do not cover).
 */
import { Bitset } from './bitset.js';
import { CompiledIpBlock, parseIp, type IpWords } from './ipblock.js';
import { usesNamedPort } from './ports.js';
import { compileSelector, matchesSelector } from '../selectors/index.js';
import { effectivePolicyTypes } from './policy-types.js';
import type {
  Labels,
  NamespaceModel,
  NetworkModel,
  NetworkPolicyModel,
  NetworkPolicyPeer,
  NetworkPolicyPort,
  PodModel,
  RuleRef,
} from './types.js';

export type Direction = 'ingress' | 'egress';

export interface CompiledPeer {
  peer: NetworkPolicyPeer;
  /** Pods this peer matches (for ipBlock: pods with an IP inside the block). */
  pods: Bitset;
  ipBlock?: CompiledIpBlock;
}

export interface CompiledRule {
  ref: RuleRef;
  /** `from`/`to` absent or empty: every source/destination, pods and outside addresses alike. */
  allPeers: boolean;
  peers: CompiledPeer[];
  /** Union of the peers' pods. */
  peerPods: Bitset;
  /** Absent or empty: every port and protocol. */
  ports: readonly NetworkPolicyPort[] | undefined;
  /** Some port entry is a name, so whether it matches depends on the destination pod. */
  namedPorts: boolean;
}

export interface CompiledPolicy {
  /** `namespace/name`. */
  id: string;
  policy: NetworkPolicyModel;
  /** Pods whose traffic this policy governs (hostNetwork pods excluded). */
  selected: Bitset;
  isolatesIngress: boolean;
  isolatesEgress: boolean;
  ingressRules: CompiledRule[];
  egressRules: CompiledRule[];
}

export const podKey = (namespace: string, name: string): string => `${namespace}/${name}`;

export class CompiledNetwork {
  readonly model: NetworkModel;
  readonly pods: readonly PodModel[];
  readonly policies: readonly CompiledPolicy[];
  private readonly byKey = new Map<string, number>();
  /** The same index by the model object itself: evaluation asks for it twice per connection. */
  private readonly byModel = new Map<PodModel, number>();
  private readonly byIp = new Map<string, number>();
  private readonly namespaceLabels = new Map<string, Labels>();
  /** Pod indexes per namespace, so selectors only look at the pods they can select. */
  private readonly podsByNamespace = new Map<string, number[]>();
  private readonly podIps: IpWords[][];
  /** Identical peers (same text, same scope) share one pod set. */
  private readonly peerCache = new Map<string, Bitset>();
  /** Per pod index: indexes into `policies` that isolate it, per direction. */
  private readonly isolating: Record<Direction, number[][]>;

  constructor(model: NetworkModel) {
    this.model = model;
    this.pods = model.pods;
    for (const ns of model.namespaces) this.namespaceLabels.set(ns.name, withNameLabel(ns));
    model.pods.forEach((pod, i) => {
      this.byKey.set(podKey(pod.namespace, pod.name), i);
      this.byModel.set(pod, i);
      for (const ip of pod.ips) if (!this.byIp.has(ip)) this.byIp.set(ip, i);
      const inNamespace = this.podsByNamespace.get(pod.namespace);
      if (inNamespace) inNamespace.push(i);
      else this.podsByNamespace.set(pod.namespace, [i]);
    });
    this.podIps = model.pods.map((pod) => pod.ips.map(parseIp).filter((w): w is IpWords => w !== undefined));
    this.policies = model.policies.map((policy) => this.compilePolicy(policy));
    this.isolating = { ingress: model.pods.map(() => []), egress: model.pods.map(() => []) };
    this.policies.forEach((policy, p) => {
      for (const i of policy.selected) {
        if (policy.isolatesIngress) this.isolating.ingress[i]?.push(p);
        if (policy.isolatesEgress) this.isolating.egress[i]?.push(p);
      }
    });
  }

  /** The pod's index, or undefined when the network does not know it. */
  indexOf(namespace: string, name: string): number | undefined {
    return this.byKey.get(podKey(namespace, name));
  }

  /** The index of this pod model (found by identity when it is one of the network's, else by name). */
  indexOfPod(pod: PodModel): number | undefined {
    return this.byModel.get(pod) ?? this.indexOf(pod.namespace, pod.name);
  }

  pod(namespace: string, name: string): PodModel | undefined {
    const i = this.indexOf(namespace, name);
    return i === undefined ? undefined : this.pods[i];
  }

  /** The pod that owns an IP (first one, if a model reuses an address). */
  podByIP(ip: string): PodModel | undefined {
    const i = this.byIp.get(ip);
    return i === undefined ? undefined : this.pods[i];
  }

  labelsOfNamespace(namespace: string): Labels {
    return this.namespaceLabels.get(namespace) ?? { 'kubernetes.io/metadata.name': namespace };
  }

  /** Indexes into `policies` of the policies that isolate pod `i` in `direction`. */
  isolatingPolicies(direction: Direction, i: number): readonly number[] {
    return this.isolating[direction][i] ?? [];
  }

  /** Does this peer (as written in `policyNamespace`) match the pod? Used for pods outside the index too. */
  peerMatchesPod(
    peer: NetworkPolicyPeer,
    policyNamespace: string,
    pod: PodModel,
    ipBlock?: CompiledIpBlock,
  ): boolean {
    if (peer.ipBlock) {
      const block = ipBlock ?? new CompiledIpBlock(peer.ipBlock);
      return pod.ips.some((ip) => block.contains(ip));
    }
    if (pod.hostNetwork) return false;
    if (peer.namespaceSelector) {
      if (!matchesSelector(peer.namespaceSelector, this.labelsOfNamespace(pod.namespace))) return false;
    } else if (pod.namespace !== policyNamespace) {
      return false;
    }
    return peer.podSelector ? matchesSelector(peer.podSelector, pod.labels) : true;
  }

  /** Does the policy govern this pod's traffic (namespace, podSelector, not hostNetwork)? */
  policySelectsPod(policy: NetworkPolicyModel, pod: PodModel): boolean {
    return (
      !pod.hostNetwork &&
      pod.namespace === policy.namespace &&
      matchesSelector(policy.spec.podSelector, pod.labels)
    );
  }

  private compilePolicy(policy: NetworkPolicyModel): CompiledPolicy {
    const n = this.pods.length;
    const selected = new Bitset(n);
    const selects = compileSelector(policy.spec.podSelector);
    for (const i of this.podsByNamespace.get(policy.namespace) ?? []) {
      const pod = this.pods[i]!;
      if (!pod.hostNetwork && selects(pod.labels)) selected.add(i);
    }
    const types = effectivePolicyTypes(policy.spec);
    const id = podKey(policy.namespace, policy.name);
    const compileRules = (direction: Direction): CompiledRule[] => {
      const rules =
        direction === 'ingress'
          ? (policy.spec.ingress ?? []).map((r) => ({ peers: r.from, ports: r.ports }))
          : (policy.spec.egress ?? []).map((r) => ({ peers: r.to, ports: r.ports }));
      return rules.map((rule, index) => {
        const peerList = rule.peers;
        const peers = (peerList ?? []).map((peer) => this.compilePeer(peer, policy.namespace));
        const peerPods = new Bitset(n);
        for (const peer of peers) peerPods.orInPlace(peer.pods);
        return {
          ref: { policy: id, direction, rule: index },
          allPeers: peers.length === 0,
          peers,
          peerPods,
          ports: rule.ports && rule.ports.length > 0 ? rule.ports : undefined,
          namedPorts: usesNamedPort(rule.ports),
        };
      });
    };
    return {
      id,
      policy,
      selected,
      isolatesIngress: types.ingress,
      isolatesEgress: types.egress,
      ingressRules: types.ingress ? compileRules('ingress') : [],
      egressRules: types.egress ? compileRules('egress') : [],
    };
  }

  private compilePeer(peer: NetworkPolicyPeer, policyNamespace: string): CompiledPeer {
    const ipBlock = peer.ipBlock ? new CompiledIpBlock(peer.ipBlock) : undefined;
    // A peer without namespaceSelector (and not an ipBlock) means "in the policy's namespace".
    const scoped = !peer.ipBlock && !peer.namespaceSelector;
    const key = `${scoped ? policyNamespace : '*'} ${JSON.stringify(peer)}`;
    let pods = this.peerCache.get(key);
    if (!pods) {
      pods = this.peerPods(peer, policyNamespace, ipBlock);
      this.peerCache.set(key, pods);
    }
    return ipBlock ? { peer, pods, ipBlock } : { peer, pods };
  }

  private peerPods(
    peer: NetworkPolicyPeer,
    policyNamespace: string,
    ipBlock: CompiledIpBlock | undefined,
  ): Bitset {
    const pods = new Bitset(this.pods.length);
    if (ipBlock) {
      this.podIps.forEach((ips, i) => {
        if (ips.some((ip) => ipBlock.containsWords(ip))) pods.add(i);
      });
      return pods;
    }
    let namespaces: string[];
    if (peer.namespaceSelector) {
      const nsMatches = compileSelector(peer.namespaceSelector);
      namespaces = [...this.podsByNamespace.keys()].filter((ns) => nsMatches(this.labelsOfNamespace(ns)));
    } else {
      namespaces = [policyNamespace];
    }
    const podMatches = peer.podSelector ? compileSelector(peer.podSelector) : () => true;
    for (const ns of namespaces) {
      for (const i of this.podsByNamespace.get(ns) ?? []) {
        const pod = this.pods[i]!;
        if (!pod.hostNetwork && podMatches(pod.labels)) pods.add(i);
      }
    }
    return pods;
  }
}

function withNameLabel(ns: NamespaceModel): Labels {
  // The API server always sets this label (and forbids changing it), so selectors may rely on it.
  return { ...ns.labels, 'kubernetes.io/metadata.name': ns.name };
}

export function compileNetwork(model: NetworkModel): CompiledNetwork {
  return new CompiledNetwork(model);
}
