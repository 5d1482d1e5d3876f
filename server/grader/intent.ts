/**
 * Statements of intent, proven over all traffic. A `traffic` check says which connections of a
 * region must be open (and so that every other one must be blocked); an `unchanged` check says
 * that everything outside some regions behaves as it does with the scenario's objects alone.
 * Both are decided by the engine over a TrafficSpace (server/netpol/space.ts): every existing pod,
 * every pod that could be created later, every address outside the cluster, every port and
 * protocol. No sample is involved, so no answer can hide behind what a probe does not try.
 *
 * A failed check names concrete connections (a counterexample each) and the rule that allows or
 * the isolation that blocks them.
 */
import type { EndpointSet, Lab, PortSpec, Tolerance, TrafficRegion } from '../labs/model.js';
import {
  evaluate,
  formatSelector,
  matchesSelector as selectorMatches,
  type ConnectionVerdict,
} from '../netpol/index.js';
import { CompiledIpBlock } from '../netpol/ipblock.js';
import {
  SpaceTooLarge,
  TrafficSpace,
  isJudged,
  type Behaviour,
  type SpaceEndpoint,
} from '../netpol/space.js';
import type {
  NamespaceModel,
  NetworkPolicyModel,
  NetworkPolicyPeer,
  PodModel,
  Protocol,
  RuleRef,
} from '../netpol/types.js';
import type { CheckResult } from './report.js';
import { serviceSelector, type Snapshot } from './snapshot.js';
import { canonicalDigest, Memo } from './digest.js';

type TrafficCheck = Extract<Lab['checks'][number], { kind: 'traffic' }>;
type UnchangedCheck = Extract<Lab['checks'][number], { kind: 'unchanged' }>;
export type IntentCheck = TrafficCheck | UnchangedCheck;

const NAME_LABEL = 'kubernetes.io/metadata.name';

/** Where kubelab's clusters (kind with Calico, and the simulated one) put pods and Services. */
export const DEFAULT_POD_NETWORKS = ['192.168.0.0/16'];
export const DEFAULT_SERVICE_NETWORKS = ['10.96.0.0/12'];

/** Counterexamples shown per failed check; the rest are counted. */
const SHOWN = 3;

export interface IntentInput {
  lab: Lab;
  checks: IntentCheck[];
  snapshot: Snapshot;
  namespaces: NamespaceModel[];
  pods: PodModel[];
  /** Every NetworkPolicy in the cluster now. */
  policies: NetworkPolicyModel[];
  /** The scenario's own NetworkPolicies: what "unchanged" compares with. */
  baseline: NetworkPolicyModel[];
  /**
   * The simulated cluster's versionBesidesPolicies when `snapshot`, `namespaces` and `pods` are
   * that cluster's (see Snapshot): the memo then keys on it instead of digesting them, since equal
   * versions mean equal objects.
   */
  worldVersion?: number;
  /**
   * The grader's name for the snapshot's content, policies included (planContentKey in
   * ./plan.ts): when given, the memo keys on it instead of digesting the policies again.
   */
  content?: string;
}

/** One endpoint set made into questions the space can answer. */
interface ResolvedSet {
  peers: Array<{ peer: NetworkPolicyPeer; namespace: string }>;
  external: CompiledIpBlock[];
}

// The proof is a pure function of its input and costs a third of a grade; learners re-check the
// same policies often. Keyed by a digest of everything the proof reads (never the lab object: it is
// not read), and copied out, since callers reword the messages.
const intentMemo = new Memo<CheckResult[]>(128);

export function intentInputDigest(input: IntentInput): string | undefined {
  const { checks, snapshot, namespaces, pods, policies, baseline, worldVersion, content } = input;
  if (content !== undefined) return canonicalDigest([checks, content, baseline]);
  if (worldVersion !== undefined) return canonicalDigest([checks, worldVersion, policies, baseline]);
  return canonicalDigest([checks, snapshot.services, namespaces, pods, policies, baseline]);
}

export function runIntentChecks(input: IntentInput): CheckResult[] {
  const key = intentInputDigest(input);
  let results = key === undefined ? undefined : intentMemo.get(key);
  if (!results) {
    results = proveIntent(input);
    if (key !== undefined) intentMemo.set(key, results);
  }
  return structuredClone(results);
}

function proveIntent(input: IntentInput): CheckResult[] {
  const failAll = (message: string) =>
    input.checks.map((c): CheckResult => ({
      id: c.id,
      title: c.title,
      kind: c.kind,
      status: 'error',
      messages: [message],
      probes: [],
    }));
  const built = buildSpace(input.checks, input, [input.policies, input.baseline]);
  if (typeof built === 'string') return failAll(built);
  const { space, judge } = built;
  const now = space.behaviour(input.policies);
  const before = input.checks.some((c) => c.kind === 'unchanged')
    ? space.behaviour(input.baseline)
    : undefined;
  return input.checks.map((c) =>
    c.kind === 'traffic' ? trafficResult(c, judge, now) : unchangedResult(c, judge, now, before!),
  );
}

/**
 * Does traffic under `a` differ from traffic under `b` anywhere the lab does not tolerate? Returns
 * one differing connection in words, or undefined. Used to classify mutants of a solution.
 */
export function behaviourDifference(
  checks: IntentCheck[],
  world: Pick<IntentInput, 'snapshot' | 'namespaces' | 'pods'>,
  a: NetworkPolicyModel[],
  b: NetworkPolicyModel[],
  names: [string, string] = ['the first', 'the second'],
): string | undefined {
  const built = buildSpace(checks, world, [a, b]);
  if (typeof built === 'string') return built;
  const { space, judge } = built;
  const ba = space.behaviour(a);
  const bb = space.behaviour(b);
  let found: string | undefined;
  forEachPair(
    judge,
    checks.flatMap((c) => c.tolerate),
    (s, d, tolerated) => {
      if (found) return;
      for (let x = 0; x < space.atoms.length; x++) {
        if (tolerated?.[x] || ba.allowed(s, d, x) === bb.allowed(s, d, x)) continue;
        found = `${space.sources[s]!.description} -> ${space.destinations[d]!.description} on ${describeAtoms(space, [x])} is ${ba.allowed(s, d, x) ? 'open' : 'blocked'} with ${names[0]} and ${bb.allowed(s, d, x) ? 'open' : 'blocked'} with ${names[1]}`;
        return;
      }
    },
  );
  return found;
}

/** The space every statement (and every policy set) is exact for; a string when it cannot be built. */
function buildSpace(
  checks: IntentCheck[],
  world: Pick<IntentInput, 'snapshot' | 'namespaces' | 'pods'>,
  policySets: NetworkPolicyModel[][],
): { space: TrafficSpace; judge: RegionJudge } | string {
  const problems: string[] = [];
  const resolved = new Map<EndpointSet, ResolvedSet>();
  const resolve = (set: EndpointSet): ResolvedSet => {
    let r = resolved.get(set);
    if (!r) resolved.set(set, (r = resolveSet(set, world.snapshot, problems)));
    return r;
  };
  const regions = checks.flatMap((c) =>
    c.kind === 'traffic' ? [c as TrafficRegion, ...c.open, ...c.tolerate] : [...c.except, ...c.tolerate],
  );
  for (const r of regions) for (const set of [...(r.from ?? []), ...(r.to ?? [])]) resolve(set);
  if (problems.length > 0) return `not graded: ${problems.join(' ')}`;
  try {
    const space = new TrafficSpace({
      namespaces: world.namespaces,
      pods: world.pods,
      policySets,
      extraPeers: [...resolved.values()].flatMap((r) => [
        ...r.peers,
        ...r.external.map((b) => ({ peer: { ipBlock: b.source }, namespace: '' })),
      ]),
      extraPorts: regions.flatMap((r) => r.ports ?? []),
      podNetworks: podNetworksOf(world.pods),
      clusterNetworks: DEFAULT_SERVICE_NETWORKS,
    });
    return { space, judge: new RegionJudge(space, resolve) };
  } catch (e) {
    if (e instanceof SpaceTooLarge) return `not graded: ${e.message}. Use fewer port names.`;
    throw e;
  }
}

/** The pod network: kubelab's default, plus the /16 around any pod address outside it. */
function podNetworksOf(pods: PodModel[]): string[] {
  const nets = new Set(DEFAULT_POD_NETWORKS);
  for (const pod of pods) {
    if (pod.hostNetwork) continue;
    for (const ip of pod.ips) {
      const m = /^(\d+)\.(\d+)\.\d+\.\d+$/.exec(ip);
      if (m && !(m[1] === '192' && m[2] === '168')) nets.add(`${m[1]}.${m[2]}.0.0/16`);
    }
  }
  return [...nets];
}

function resolveSet(set: EndpointSet, snapshot: Snapshot, problems: string[]): ResolvedSet {
  if (set.pods) {
    const { namespace, namespaceSelector, podSelector } = set.pods;
    const nsSel = namespaceSelector ?? { matchLabels: { [NAME_LABEL]: namespace ?? 'default' } };
    return { peers: [{ peer: { namespaceSelector: nsSel, podSelector }, namespace: '' }], external: [] };
  }
  if (set.service !== undefined) {
    const ns = set.namespace ?? 'default';
    const svc = snapshot.services.find((s) => s.metadata.namespace === ns && s.metadata.name === set.service);
    const selector = svc ? serviceSelector(svc) : undefined;
    if (!svc || !selector || Object.keys(selector).length === 0) {
      problems.push(
        `Service ${ns}/${set.service} ${svc ? 'selects no pods' : 'does not exist'}; is the scenario deployed?`,
      );
      return { peers: [], external: [] };
    }
    return {
      peers: [
        {
          peer: {
            namespaceSelector: { matchLabels: { [NAME_LABEL]: ns } },
            podSelector: { matchLabels: selector },
          },
          namespace: '',
        },
      ],
      external: [],
    };
  }
  const ext = set.external ?? {};
  const cidrs = ext.cidr !== undefined ? [ext.cidr] : ['0.0.0.0/0', '::/0'];
  return {
    peers: [],
    external: cidrs.map((cidr) => {
      const v6 = cidr.includes(':');
      const except = (ext.except ?? []).filter((e) => e.includes(':') === v6);
      return new CompiledIpBlock(except.length > 0 ? { cidr, except } : { cidr });
    }),
  };
}

/** Region membership, precomputed per endpoint. */
class RegionJudge {
  private readonly members = new Map<EndpointSet, { src: Uint8Array; dst: Uint8Array }>();

  constructor(
    readonly space: TrafficSpace,
    private readonly resolve: (set: EndpointSet) => ResolvedSet,
  ) {}

  private membership(set: EndpointSet) {
    let m = this.members.get(set);
    if (!m) {
      const r = this.resolve(set);
      const test = (e: SpaceEndpoint) =>
        e.kind === 'ip'
          ? r.external.some((b) => b.contains(e.ip!))
          : r.peers.some(({ peer, namespace }) => this.space.peerMatches(peer, namespace, e));
      m = {
        src: Uint8Array.from(this.space.sources, (e) => (test(e) ? 1 : 0)),
        dst: Uint8Array.from(this.space.destinations, (e) => (test(e) ? 1 : 0)),
      };
      this.members.set(set, m);
    }
    return m;
  }

  fromHolds(sets: EndpointSet[] | undefined, s: number): boolean {
    return !sets || sets.some((set) => this.membership(set).src[s] === 1);
  }

  toHolds(sets: EndpointSet[] | undefined, d: number): boolean {
    return !sets || sets.some((set) => this.membership(set).dst[d] === 1);
  }

  private readonly masks = new Map<TrafficRegion, Map<number, Uint8Array>>();

  /** The atoms of `region` for the pair (s, d), or undefined when the pair is outside the region. */
  atoms(region: TrafficRegion, s: number, d: number): Uint8Array | undefined {
    if (!this.fromHolds(region.from, s) || !this.toHolds(region.to, d)) return undefined;
    // Ports depend on the destination only (named ports resolve there), so compute once per pair of those.
    let perDestination = this.masks.get(region);
    if (!perDestination) this.masks.set(region, (perDestination = new Map()));
    let mask = perDestination.get(d);
    if (!mask) {
      mask = this.space.portMask(region.ports as PortSpec[] | undefined, this.space.destinations[d]!);
      perDestination.set(d, mask);
    }
    return mask;
  }
}

interface Mismatch {
  s: number;
  d: number;
  atoms: number[];
  /** What the statement wants for these connections. */
  want: boolean;
}

/** Visits every (source, destination) cell, calling `visit` with the tolerated atoms masked out. */
function forEachPair(
  judge: RegionJudge,
  tolerate: Tolerance[],
  visit: (s: number, d: number, tolerated: Uint8Array | undefined) => void,
): void {
  const { space } = judge;
  for (let s = 0; s < space.sources.length; s++) {
    for (let d = 0; d < space.destinations.length; d++) {
      const src = space.sources[s]!;
      const dst = space.destinations[d]!;
      if (!isJudged(src, dst)) continue;
      let tolerated: Uint8Array | undefined;
      for (const t of tolerate) {
        const m = judge.atoms(t, s, d);
        if (!m) continue;
        tolerated ??= new Uint8Array(space.atoms.length);
        for (let a = 0; a < m.length; a++) tolerated[a]! |= m[a]!;
      }
      visit(s, d, tolerated);
    }
  }
}

function trafficResult(check: TrafficCheck, judge: RegionJudge, now: Behaviour): CheckResult {
  const mismatches: Mismatch[] = [];
  const A = judge.space.atoms.length;
  forEachPair(judge, check.tolerate, (s, d, tolerated) => {
    const inRegion = judge.atoms(check, s, d);
    if (!inRegion) return;
    const open = new Uint8Array(A);
    for (const r of check.open) {
      const m = judge.atoms(r, s, d);
      if (m) for (let a = 0; a < A; a++) open[a]! |= m[a]!;
    }
    const wrongOpen: number[] = [];
    const wrongBlocked: number[] = [];
    for (let a = 0; a < A; a++) {
      if (!inRegion[a] || tolerated?.[a]) continue;
      const actual = now.allowed(s, d, a);
      if (open[a] && !actual) wrongBlocked.push(a);
      else if (!open[a] && actual) wrongOpen.push(a);
    }
    if (wrongBlocked.length > 0) mismatches.push({ s, d, atoms: wrongBlocked, want: true });
    if (wrongOpen.length > 0) mismatches.push({ s, d, atoms: wrongOpen, want: false });
  });
  return result(check, judge.space, now, undefined, mismatches);
}

function unchangedResult(
  check: UnchangedCheck,
  judge: RegionJudge,
  now: Behaviour,
  before: Behaviour,
): CheckResult {
  const mismatches: Mismatch[] = [];
  const A = judge.space.atoms.length;
  forEachPair(judge, check.tolerate, (s, d, tolerated) => {
    const excepted = new Uint8Array(A);
    for (const r of check.except) {
      const m = judge.atoms(r, s, d);
      if (m) for (let a = 0; a < A; a++) excepted[a]! |= m[a]!;
    }
    const nowBlocked: number[] = [];
    const nowOpen: number[] = [];
    for (let a = 0; a < A; a++) {
      if (excepted[a] || tolerated?.[a]) continue;
      const was = before.allowed(s, d, a);
      if (was === now.allowed(s, d, a)) continue;
      (was ? nowBlocked : nowOpen).push(a);
    }
    if (nowBlocked.length > 0) mismatches.push({ s, d, atoms: nowBlocked, want: true });
    if (nowOpen.length > 0) mismatches.push({ s, d, atoms: nowOpen, want: false });
  });
  return result(check, judge.space, now, before, mismatches);
}

function result(
  check: IntentCheck,
  space: TrafficSpace,
  now: Behaviour,
  before: Behaviour | undefined,
  mismatches: Mismatch[],
): CheckResult {
  const base = { id: check.id, title: check.title, kind: check.kind, probes: [] };
  if (mismatches.length === 0) {
    const scope = check.kind === 'traffic' ? 'every connection in scope' : 'every other connection';
    return {
      ...base,
      status: 'pass',
      messages: [
        `${scope} is as required, proven for every existing pod, every pod that could be created later, every address outside the cluster and every port of TCP, UDP and SCTP.`,
      ],
    };
  }
  // Real pods before imagined ones, one line per kind of pair (replicas of one workload alike).
  const rank = (e: SpaceEndpoint) =>
    e.kind === 'pod' ? (e.hypothetical ? 2 + e.namesEveryPort.size : 0) : 1;
  // Real endpoints first; among equals, what is open too much (the usual hole) before what is shut.
  const sorted = [...mismatches].sort(
    (x, y) =>
      rank(space.sources[x.s]!) +
        rank(space.destinations[x.d]!) -
        (rank(space.sources[y.s]!) + rank(space.destinations[y.d]!)) ||
      Number(x.want) - Number(y.want) ||
      x.s - y.s ||
      x.d - y.d,
  );
  const shown: Mismatch[] = [];
  const seenKinds = new Set<string>();
  for (const m of sorted) {
    const kind = `${m.want}|${workloadKey(space.sources[m.s]!)}|${workloadKey(space.destinations[m.d]!)}`;
    if (seenKinds.has(kind)) continue;
    seenKinds.add(kind);
    if (shown.length < SHOWN) shown.push(m);
  }
  const messages = shown.map((m) => describeMismatch(check, space, now, before, m));
  const more = seenKinds.size - shown.length;
  if (more > 0) messages.push(`... and ${more} more kind${more === 1 ? '' : 's'} of connection like these.`);
  return { ...base, status: 'fail', messages };
}

/** Pods of one workload (same namespace and labels) count as one kind of endpoint. */
function workloadKey(e: SpaceEndpoint): string {
  if (e.kind === 'ip') return `ip ${e.ip}`;
  if (e.hypothetical) return `${e.description}`;
  return `${e.pod!.namespace} ${JSON.stringify(e.pod!.labels)}`;
}

function describeMismatch(
  check: IntentCheck,
  space: TrafficSpace,
  now: Behaviour,
  before: Behaviour | undefined,
  m: Mismatch,
): string {
  const src = space.sources[m.s]!;
  const dst = space.destinations[m.d]!;
  // Different ports may be decided by different rules: say which decides which.
  const byReason = new Map<string, number[]>();
  for (const a of m.atoms) {
    const atom = space.atoms[a]!;
    const verdict = witnessVerdict(now, src, dst, atom.lo, atom.protocol);
    const reason = m.want ? blockedBecause(verdict) : allowedBecause(verdict);
    byReason.set(reason, [...(byReason.get(reason) ?? []), a]);
  }
  const parts = [...byReason.entries()].map(([reason, atoms]) =>
    m.want ? `on ${describeAtoms(space, atoms)} (${reason})` : `on ${describeAtoms(space, atoms)}, ${reason}`,
  );
  const what = `${src.description} -> ${dst.description}`;
  if (check.kind === 'traffic') {
    return m.want
      ? `not reachable: ${what} ${parts.join('; ')}.`
      : `also reachable: ${what} ${parts.join('; ')}.`;
  }
  return m.want
    ? `no longer reachable (open with the scenario alone): ${what} ${parts.join('; ')}.`
    : `newly reachable (blocked with the scenario alone): ${what} ${parts.join('; ')}.`;
}

/** The engine's verdict for one concrete connection of a cell, with its reasons. */
function witnessVerdict(
  behaviour: Behaviour,
  src: SpaceEndpoint,
  dst: SpaceEndpoint,
  port: number,
  protocol: Protocol,
): ConnectionVerdict {
  const endpoint = (e: SpaceEndpoint) =>
    e.kind === 'ip' ? { kind: 'ip' as const, ip: e.ip! } : { kind: 'pod' as const, pod: e.pod! };
  let to = endpoint(dst);
  if (dst.kind === 'pod' && dst.namesEveryPort.size > 0) {
    // A pod that really has those names on this port; renamed so the engine does not mistake it
    // for the witness it was copied from.
    const pod = dst.pod!;
    to = {
      kind: 'pod',
      pod: {
        ...pod,
        name: `${pod.name}-named`,
        ports: [...dst.namesEveryPort].map((n) => ({
          name: n.split('/')[1]!,
          port,
          protocol: n.split('/')[0] as Protocol,
        })),
      },
    };
  }
  return evaluate(behaviour.net, endpoint(src), to, port, protocol);
}

function ruleWords(ref: RuleRef): string {
  return `${ref.policy} ${ref.direction} rule ${ref.rule + 1} (spec.${ref.direction}[${ref.rule}])`;
}

function allowedBecause(v: ConnectionVerdict): string {
  const parts: string[] = [];
  if (v.egress.isolated) parts.push(`allowed by ${v.egress.allowedBy.map(ruleWords).join(' and ')}`);
  else parts.push('as nothing restricts egress from the source');
  if (v.ingress.isolated) parts.push(`admitted by ${v.ingress.allowedBy.map(ruleWords).join(' and ')}`);
  return parts.join(', ');
}

function blockedBecause(v: ConnectionVerdict): string {
  const parts: string[] = [];
  if (!v.egress.allowed)
    parts.push(
      `egress is restricted by ${v.egress.isolatingPolicies.join(', ')} and no egress rule there allows it`,
    );
  if (!v.ingress.allowed)
    parts.push(
      `ingress is restricted by ${v.ingress.isolatingPolicies.join(', ')} and no ingress rule there admits it`,
    );
  return parts.join('; ') || 'blocked';
}

/** `TCP 1-1110, 1112-65535; UDP 53`, or `every port of TCP, UDP and SCTP`. */
export function describeAtoms(space: TrafficSpace, atoms: number[]): string {
  const byProtocol = new Map<Protocol, Array<[number, number]>>();
  for (const a of [...atoms].sort((x, y) => x - y)) {
    const atom = space.atoms[a]!;
    const list = byProtocol.get(atom.protocol) ?? [];
    const last = list[list.length - 1];
    if (last && last[1] + 1 === atom.lo) last[1] = atom.hi;
    else list.push([atom.lo, atom.hi]);
    byProtocol.set(atom.protocol, list);
  }
  const full = [...byProtocol.values()].every((l) => l.length === 1 && l[0]![0] === 1 && l[0]![1] === 65535);
  if (full && byProtocol.size === 3) return 'every port of TCP, UDP and SCTP';
  return [...byProtocol.entries()]
    .map(
      ([protocol, ranges]) =>
        `${protocol} ${ranges.map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}-${hi}`)).join(', ')}`,
    )
    .join('; ');
}

/** Peers of the learner's policies that match nothing that exists: a likely typo, worth a note. */
export function emptySelectorNotes(
  policies: NetworkPolicyModel[],
  namespaces: NamespaceModel[],
  pods: PodModel[],
  skip: (p: NetworkPolicyModel) => boolean,
): string[] {
  const notes: string[] = [];
  const nsLabels = new Map(namespaces.map((n) => [n.name, { ...n.labels, [NAME_LABEL]: n.name }]));
  const matchesAny = (sel: Parameters<typeof formatSelector>[0], labels: Array<Record<string, string>>) =>
    labels.some((l) => selectorMatches(sel, l));
  for (const policy of policies) {
    if (skip(policy)) continue;
    const id = `${policy.namespace}/${policy.name}`;
    const inNs = pods.filter((p) => p.namespace === policy.namespace);
    if (
      !matchesAny(
        policy.spec.podSelector,
        inNs.map((p) => p.labels),
      )
    )
      notes.push(
        `${id} spec.podSelector {${formatSelector(policy.spec.podSelector)}} matches no pod in ${policy.namespace}.`,
      );
    for (const direction of ['ingress', 'egress'] as const) {
      (policy.spec[direction] ?? []).forEach((rule, r) => {
        const peers =
          (direction === 'ingress'
            ? (rule as { from?: NetworkPolicyPeer[] }).from
            : (rule as { to?: NetworkPolicyPeer[] }).to) ?? [];
        peers.forEach((peer, i) => {
          if (peer.ipBlock) return;
          const field = `spec.${direction}[${r}].${direction === 'ingress' ? 'from' : 'to'}[${i}]`;
          const nsNames = peer.namespaceSelector
            ? [...nsLabels.entries()]
                .filter(([, l]) => selectorMatches(peer.namespaceSelector!, l))
                .map(([n]) => n)
            : [policy.namespace];
          if (peer.namespaceSelector && nsNames.length === 0) {
            notes.push(
              `${id} ${field} namespaceSelector {${formatSelector(peer.namespaceSelector)}} matches no namespace.`,
            );
            return;
          }
          if (peer.podSelector) {
            const candidates = pods.filter((p) => nsNames.includes(p.namespace) && !p.hostNetwork);
            if (
              !matchesAny(
                peer.podSelector,
                candidates.map((p) => p.labels),
              )
            )
              notes.push(
                `${id} ${field} podSelector {${formatSelector(peer.podSelector)}} matches no pod in ${nsNames.length === 1 ? nsNames[0] : `the ${nsNames.length} namespaces its namespaceSelector matches`}.`,
              );
          }
        });
      });
    }
  }
  return notes;
}
