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
import { CompiledIpBlock } from './ipblock.js';
import { usesNamedPort } from './ports.js';
import { matchesSelector } from './selectors.js';
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
  private readonly byIp = new Map<string, number>();
  private readonly namespaceLabels = new Map<string, Labels>();
  /** Per pod index: indexes into `policies` that isolate it, per direction. */
  private readonly isolating: Record<Direction, number[][]>;

  constructor(model: NetworkModel) {
    this.model = model;
    this.pods = model.pods;
    for (const ns of model.namespaces) this.namespaceLabels.set(ns.name, withNameLabel(ns));
    model.pods.forEach((pod, i) => {
      this.byKey.set(podKey(pod.namespace, pod.name), i);
      for (const ip of pod.ips) if (!this.byIp.has(ip)) this.byIp.set(ip, i);
    });
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
  peerMatchesPod(peer: NetworkPolicyPeer, policyNamespace: string, pod: PodModel, ipBlock?: CompiledIpBlock): boolean {
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
    return !pod.hostNetwork && pod.namespace === policy.namespace && matchesSelector(policy.spec.podSelector, pod.labels);
  }

  private compilePolicy(policy: NetworkPolicyModel): CompiledPolicy {
    const n = this.pods.length;
    const selected = new Bitset(n);
    this.pods.forEach((pod, i) => {
      if (this.policySelectsPod(policy, pod)) selected.add(i);
    });
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
    const pods = new Bitset(this.pods.length);
    this.pods.forEach((pod, i) => {
      if (this.peerMatchesPod(peer, policyNamespace, pod, ipBlock)) pods.add(i);
    });
    return ipBlock ? { peer, pods, ipBlock } : { peer, pods };
  }
}

function withNameLabel(ns: NamespaceModel): Labels {
  // The API server always sets this label (and forbids changing it), so selectors may rely on it.
  return { ...ns.labels, 'kubernetes.io/metadata.name': ns.name };
}

export function compileNetwork(model: NetworkModel): CompiledNetwork {
  return new CompiledNetwork(model);
}
