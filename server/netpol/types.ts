/**
 * The NetworkPolicy engine's data model (networking.k8s.io/v1) and the shape of its answers.
 * Everything in server/netpol/ is pure: no I/O, no clocks, no randomness.
 */
import type { LabelSelector, Labels } from '../selectors/index.js';
export type { LabelSelector, LabelSelectorRequirement, Labels } from '../selectors/index.js';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface NamespaceModel {
  name: string;
  /** Includes `kubernetes.io/metadata.name: <name>`, as the API server adds it. */
  labels: Labels;
}

export interface ContainerPortModel {
  name?: string;
  port: number;
  protocol: Protocol;
}

export interface PodModel {
  namespace: string;
  name: string;
  labels: Labels;
  /** Pod IPs (IPv4 and/or IPv6). May be empty for pods built from manifests without status. */
  ips: string[];
  /** Container ports of all containers (named ports are resolved against these). */
  ports: ContainerPortModel[];
  /** Host-network pods are not subject to pod NetworkPolicy. */
  hostNetwork?: boolean;
}

export interface NetworkPolicyPort {
  protocol?: Protocol;
  port?: number | string;
  endPort?: number;
}

export interface IPBlock {
  cidr: string;
  except?: string[];
}

export interface NetworkPolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: IPBlock;
}

export interface NetworkPolicyIngressRule {
  from?: NetworkPolicyPeer[];
  ports?: NetworkPolicyPort[];
}

export interface NetworkPolicyEgressRule {
  to?: NetworkPolicyPeer[];
  ports?: NetworkPolicyPort[];
}

export type PolicyType = 'Ingress' | 'Egress';

export interface NetworkPolicySpec {
  podSelector: LabelSelector;
  policyTypes?: PolicyType[];
  ingress?: NetworkPolicyIngressRule[];
  egress?: NetworkPolicyEgressRule[];
}

export interface NetworkPolicyModel {
  namespace: string;
  name: string;
  spec: NetworkPolicySpec;
}

/** Everything the engine needs to know about a cluster. */
export interface NetworkModel {
  namespaces: NamespaceModel[];
  pods: PodModel[];
  policies: NetworkPolicyModel[];
}

/** One end of a connection: a pod, or an address outside the pod network (ipBlock territory). */
export type Endpoint = { kind: 'pod'; pod: PodModel } | { kind: 'ip'; ip: string };

/** A rule of a policy: `ns/name`, direction and 0-based index into spec.ingress / spec.egress. */
export interface RuleRef {
  policy: string;
  direction: 'ingress' | 'egress';
  rule: number;
}

export interface DirectionVerdict {
  /** True when at least one policy selects the pod for this direction. */
  isolated: boolean;
  /** `ns/name` of every policy that isolates the pod in this direction. */
  isolatingPolicies: string[];
  /** Every rule that allows this connection in this direction (empty when none does). */
  allowedBy: RuleRef[];
  /** Not isolated, or allowed by at least one rule. */
  allowed: boolean;
}

export interface Verdict {
  allowed: boolean;
  /** Egress at the source. */
  egress: DirectionVerdict;
  /** Ingress at the destination. */
  ingress: DirectionVerdict;
  /** The destination port the verdict is about (named ports already resolved), and protocol. */
  port: number | undefined;
  protocol: Protocol;
  /** Plain-language reasons, most important first. */
  reasons: string[];
}

/** A problem found while validating or converting objects: field path relative to the object. */
export interface FieldProblem {
  path: string;
  message: string;
}
