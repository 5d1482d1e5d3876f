/**
 * evaluate: may `from` open a connection to `to` on this port and protocol?
 *
 * The rules, in the order they are applied:
 * 1. A pod may always talk to itself (the spec leaves loopback alone; Calico never blocks it).
 * 2. Egress at the source: if no policy isolates the source for Egress, allowed; otherwise some
 *    egress rule of some isolating policy must match the destination (peer) AND the port.
 * 3. Ingress at the destination: the same with Ingress rules and the source as the peer.
 * 4. The connection is allowed only when both directions allow it. Policies never deny: they
 *    only isolate and allow, so several policies add up (a union, order does not matter).
 *
 * A named port (in the question or in a rule) is looked up on the destination pod's containers
 * by name AND protocol. An address outside the pod network (`{kind:'ip'}`) is matched only by
 * ipBlock peers and is never isolated itself.
 *
 * Rule numbers are 0-based everywhere: RuleRef.rule and the text `egress[0]` both mean the first
 * entry of spec.egress, as in a field path.
 */
import type { CompiledNetwork, CompiledRule, Direction } from './compile.js';
import { podKey } from './compile.js';
import { portsMatch, resolveNamedPort } from './ports.js';
import type { DirectionVerdict, Endpoint, PodModel, Protocol, RuleRef, Verdict } from './types.js';

/** A Verdict that also says which connection it is about. */
export interface ConnectionVerdict extends Verdict {
  from: string;
  to: string;
  /** The port as asked: a number, or a port name. */
  askedPort: number | string;
  /** True when source and destination are the same pod (always allowed). */
  selfConnection: boolean;
  /** Set when a named port could not be resolved on the destination. */
  unresolvedPortName?: string;
}

export function describeEndpoint(e: Endpoint): string {
  return e.kind === 'pod' ? podKey(e.pod.namespace, e.pod.name) : e.ip;
}

export function describePort(port: number | undefined, protocol: Protocol, asked: number | string): string {
  if (typeof asked === 'string')
    return port === undefined ? `${protocol} port "${asked}"` : `${protocol} ${port} ("${asked}")`;
  return `${protocol} ${asked}`;
}

export function formatRuleRef(ref: RuleRef): string {
  return `${ref.policy} ${ref.direction}[${ref.rule}]`;
}

export function evaluate(
  net: CompiledNetwork,
  from: Endpoint,
  to: Endpoint,
  port: number | string,
  protocol: Protocol = 'TCP',
): ConnectionVerdict {
  const source = canonical(net, from);
  const destination = canonical(net, to);
  const destinationPod = destination.kind === 'pod' ? destination.pod : undefined;

  // A port name always contains a letter, so "8080" can only mean the number.
  if (typeof port === 'string' && /^[0-9]+$/.test(port)) port = Number(port);
  let portNumber: number | undefined;
  let unresolvedPortName: string | undefined;
  if (typeof port === 'number') portNumber = port;
  else {
    portNumber = resolveNamedPort(destinationPod, port, protocol)?.port;
    if (portNumber === undefined) unresolvedPortName = port;
  }

  const fromText = describeEndpoint(source);
  const toText = describeEndpoint(destination);
  const portText = describePort(portNumber, protocol, port);
  const ctx: Context = { net, portNumber, protocol, destinationPod };

  const egress = judgeDirection(ctx, 'egress', source, destination);
  const ingress = judgeDirection(ctx, 'ingress', destination, source);
  const selfConnection =
    source.kind === 'pod' &&
    destination.kind === 'pod' &&
    podKey(source.pod.namespace, source.pod.name) === toText;

  const egressText = directionText('egress', egress, source, fromText, toText, portText);
  const ingressText = directionText('ingress', ingress, destination, toText, fromText, portText);
  const reasons: string[] = [];
  let allowed: boolean;
  if (unresolvedPortName !== undefined) {
    allowed = false;
    reasons.push(
      destinationPod
        ? `${toText} has no ${protocol} container port named "${unresolvedPortName}", so nothing can be reached there`
        : `a named port ("${unresolvedPortName}") means nothing for ${toText}, which is not a pod`,
    );
    reasons.push(egressText, ingressText);
  } else if (selfConnection) {
    allowed = true;
    reasons.push(
      `${fromText} is connecting to itself: a pod's traffic to itself is never blocked by NetworkPolicy`,
    );
  } else {
    allowed = egress.allowed && ingress.allowed;
    // Most important first: whichever direction blocks, then the other.
    if (!egress.allowed || ingress.allowed) reasons.push(egressText, ingressText);
    else reasons.push(ingressText, egressText);
  }

  const verdict: ConnectionVerdict = {
    allowed,
    egress,
    ingress,
    port: portNumber,
    protocol,
    reasons,
    from: fromText,
    to: toText,
    askedPort: port,
    selfConnection,
  };
  // Set afterwards rather than spread in: a conditional spread is many times slower in V8, and
  // every probe and every statement of intent asks for verdicts.
  if (unresolvedPortName !== undefined) verdict.unresolvedPortName = unresolvedPortName;
  return verdict;
}

interface Context {
  net: CompiledNetwork;
  portNumber: number | undefined;
  protocol: Protocol;
  destinationPod: PodModel | undefined;
}

/** Prefer the network's own copy of a pod, so its index (and its labels) are the ones compiled. */
function canonical(net: CompiledNetwork, e: Endpoint): Endpoint {
  if (e.kind !== 'pod') return e;
  const known = net.pod(e.pod.namespace, e.pod.name);
  return known ? { kind: 'pod', pod: known } : e;
}

function judgeDirection(
  ctx: Context,
  direction: Direction,
  subject: Endpoint,
  peer: Endpoint,
): DirectionVerdict {
  const { net } = ctx;
  if (subject.kind !== 'pod' || subject.pod.hostNetwork) {
    return { isolated: false, isolatingPolicies: [], allowedBy: [], allowed: true };
  }
  const subjectIndex = net.indexOfPod(subject.pod);
  const peerIndex = peer.kind === 'pod' ? net.indexOfPod(peer.pod) : undefined;

  const policies =
    subjectIndex !== undefined
      ? net.isolatingPolicies(direction, subjectIndex).map((p) => net.policies[p]!)
      : net.policies.filter(
          (p) =>
            (direction === 'ingress' ? p.isolatesIngress : p.isolatesEgress) &&
            net.policySelectsPod(p.policy, subject.pod),
        );
  if (policies.length === 0) return { isolated: false, isolatingPolicies: [], allowedBy: [], allowed: true };

  const allowedBy: RuleRef[] = [];
  for (const policy of policies) {
    const rules = direction === 'ingress' ? policy.ingressRules : policy.egressRules;
    for (const rule of rules) {
      if (ruleMatches(ctx, rule, policy.policy.namespace, peer, peerIndex)) allowedBy.push(rule.ref);
    }
  }
  return {
    isolated: true,
    isolatingPolicies: policies.map((p) => p.id),
    allowedBy,
    allowed: allowedBy.length > 0,
  };
}

function ruleMatches(
  ctx: Context,
  rule: CompiledRule,
  policyNamespace: string,
  peer: Endpoint,
  peerIndex: number | undefined,
): boolean {
  if (!portsMatch(rule.ports, ctx.portNumber, ctx.protocol, ctx.destinationPod)) return false;
  if (rule.allPeers) return true;
  if (peer.kind === 'ip') return rule.peers.some((p) => p.ipBlock?.contains(peer.ip) ?? false);
  if (peerIndex !== undefined) return rule.peerPods.has(peerIndex);
  return rule.peers.some((p) => ctx.net.peerMatchesPod(p.peer, policyNamespace, peer.pod, p.ipBlock));
}

function directionText(
  direction: Direction,
  verdict: DirectionVerdict,
  subjectEndpoint: Endpoint,
  subject: string,
  peer: string,
  portText: string,
): string {
  const label = direction === 'egress' ? `egress from ${subject}` : `ingress to ${subject}`;
  if (subjectEndpoint.kind === 'ip') {
    return `${label} is not subject to NetworkPolicy (${subject} is outside the pod network)`;
  }
  if (subjectEndpoint.pod.hostNetwork) {
    return `${label} is not subject to NetworkPolicy (${subject} uses the host network)`;
  }
  if (!verdict.isolated) {
    return `${label} is not isolated (no NetworkPolicy selects it for ${direction === 'egress' ? 'Egress' : 'Ingress'})`;
  }
  if (verdict.allowed) {
    return `${label} is allowed by ${joinRules(verdict.allowedBy)}`;
  }
  const what = direction === 'egress' ? `traffic to ${peer}` : `traffic from ${peer}`;
  return `${label} is isolated by ${verdict.isolatingPolicies.join(', ')} and no ${direction} rule allows ${what} on ${portText}`;
}

/** `x/p ingress[0], ingress[2]; x/q ingress[1]`. */
function joinRules(refs: RuleRef[]): string {
  const byPolicy = new Map<string, RuleRef[]>();
  for (const ref of refs) byPolicy.set(ref.policy, [...(byPolicy.get(ref.policy) ?? []), ref]);
  return [...byPolicy.entries()]
    .map(([policy, rs]) => `${policy} ${rs.map((r) => `${r.direction}[${r.rule}]`).join(', ')}`)
    .join('; ');
}

/**
 * The verdict in plain language: a headline, then the reasons (most important first).
 * Rule numbers are 0-based indexes into spec.ingress / spec.egress.
 */
export function explainVerdict(v: Verdict): string[] {
  const cv = v as Partial<ConnectionVerdict>;
  const what =
    cv.from !== undefined && cv.to !== undefined
      ? `${cv.from} -> ${cv.to} on ${describePort(v.port, v.protocol, cv.askedPort ?? v.port ?? '?')}`
      : `connection on ${v.protocol} ${v.port ?? '(unresolved port)'}`;
  return [`${what}: ${v.allowed ? 'allowed' : 'denied'}`, ...v.reasons];
}
