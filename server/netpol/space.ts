/**
 * The whole traffic space, made finite: every connection there could ever be, as far as a given
 * collection of policies (and extra peers and ports, e.g. a lab's statement of intent) can tell.
 *
 * A connection is (source, destination, protocol, port). Sources and destinations are pods or
 * addresses outside the cluster, and policies only look at them through a fixed set of questions:
 * is this pod selected by policy P, does peer Q match it, is this address inside CIDR C, is this
 * port inside entry E, does the destination give this port the name N. So we build:
 * - endpoints: every existing pod; one witness pod for each class of pods that could be created
 *   later (any existing or new namespace, any labels, any free address of the pod network: see
 *   label-classes.ts), kept only when no earlier endpoint answers every question the same way;
 *   one witness address for each class of addresses outside the cluster, IPv4 and IPv6
 *   (ip-classes.ts);
 * - port atoms: 1-65535 for TCP, UDP and SCTP, cut at every port and range boundary in sight;
 * - named ports: an existing pod's names are what its containers say; a new pod may give any name
 *   to any port, so each new-pod destination comes once per set of names it gives to the port
 *   being asked (for one connection, any such set can be realised).
 * Within one (source, destination, atom) cell every connection gets the same verdict from every
 * policy collection the space was built for, so comparing cells is comparing all traffic.
 */
import { compileNetwork, type CompiledNetwork, type CompiledRule, type Direction } from './compile.js';
import { addressClasses, addressesIn, type AddressClass } from './ip-classes.js';
import { LabelSpace, type LabelClass } from './label-classes.js';
import { PROTOCOLS, resolveNamedPort } from './ports.js';
import type {
  NamespaceModel,
  NetworkModel,
  NetworkPolicyModel,
  NetworkPolicyPeer,
  NetworkPolicyPort,
  PodModel,
  Protocol,
} from './types.js';

const NAME_LABEL = 'kubernetes.io/metadata.name';

/** Too many port names would make the named-port variants explode: refuse instead of guessing. */
export const MAX_PORT_NAMES = 6;

export interface SpaceInput {
  namespaces: NamespaceModel[];
  /** The pods that exist now. */
  pods: PodModel[];
  /** Every policy collection the space must be exact for (e.g. the learner's and the baseline). */
  policySets: NetworkPolicyModel[][];
  /** Further peers the space must be exact for, each as written in `namespace`. */
  extraPeers?: Array<{ peer: NetworkPolicyPeer; namespace: string }>;
  /** Further port entries the space must be exact for. */
  extraPorts?: NetworkPolicyPort[];
  /** Where pods get their addresses (new pods are placed here). */
  podNetworks: string[];
  /** Other in-cluster ranges (Service addresses): neither pods nor "outside". */
  clusterNetworks?: string[];
}

export interface SpaceEndpoint {
  kind: 'pod' | 'ip';
  /** Index into `TrafficSpace.model.pods` (pods only). */
  podIndex: number;
  pod?: PodModel;
  ip?: string;
  /** A pod that does not exist yet, standing for a whole class of possible pods. */
  hypothetical: boolean;
  /** `TCP/http`: names this (hypothetical) destination gives to whatever port is asked. */
  namesEveryPort: ReadonlySet<string>;
  /** In words, e.g. `a new pod in np-lab labelled app=backend`. */
  description: string;
  /** For addresses: the class it stands for. */
  addresses?: AddressClass;
}

export interface PortAtom {
  protocol: Protocol;
  lo: number;
  hi: number;
}

export class TrafficSpace {
  /** Existing pods first (same indexes as the input), then the witnesses of possible pods. */
  readonly model: NetworkModel;
  readonly sources: SpaceEndpoint[];
  readonly destinations: SpaceEndpoint[];
  readonly atoms: PortAtom[];
  /** No policies: used for peer and selector questions that do not depend on any policy. */
  private readonly bare: CompiledNetwork;

  constructor(input: SpaceInput) {
    const policies = input.policySets.flat();
    const extraPeers = input.extraPeers ?? [];
    const peers = [
      ...policies.flatMap((p) =>
        [
          ...(p.spec.ingress ?? []).flatMap((r) => r.from ?? []),
          ...(p.spec.egress ?? []).flatMap((r) => r.to ?? []),
        ].map((peer) => ({ peer, namespace: p.namespace })),
      ),
      ...extraPeers,
    ];
    const portEntries = [
      ...policies.flatMap((p) => [
        ...(p.spec.ingress ?? []).flatMap((r) => r.ports ?? []),
        ...(p.spec.egress ?? []).flatMap((r) => r.ports ?? []),
      ]),
      ...(input.extraPorts ?? []),
    ];

    // Addresses: cut at every CIDR that matters; the pod network's classes host the new pods.
    const podNets = input.podNetworks;
    const clusterNets = input.clusterNetworks ?? [];
    const cidrs = [
      ...podNets,
      ...clusterNets,
      ...peers.flatMap(({ peer }) =>
        peer.ipBlock ? [peer.ipBlock.cidr, ...(peer.ipBlock.except ?? [])] : [],
      ),
    ];
    const classes = addressClasses(cidrs);
    const podNetIdx = new Set(podNets.map((_, i) => i));
    const clusterIdx = new Set(clusterNets.map((_, i) => podNets.length + i));
    const podAddressClasses = classes.filter((c) => c.inside.some((i) => podNetIdx.has(i)));
    const outside = classes.filter((c) => !c.inside.some((i) => podNetIdx.has(i) || clusterIdx.has(i)));

    // Labels: pods and namespaces each get their own space.
    const podLabels = new LabelSpace();
    const nsLabels = new LabelSpace(new Set([NAME_LABEL]));
    for (const p of policies) podLabels.mention(p.spec.podSelector);
    for (const { peer } of peers) {
      if (peer.podSelector) podLabels.mention(peer.podSelector);
      if (peer.namespaceSelector) nsLabels.mention(peer.namespaceSelector);
    }
    // Scoping by namespace is a question about the name: make sure every namespace in play is a cell.
    for (const ns of input.namespaces) nsLabels.mentionValue(NAME_LABEL, ns.name);
    for (const { namespace } of peers) nsLabels.mentionValue(NAME_LABEL, namespace);
    for (const p of policies) nsLabels.mentionValue(NAME_LABEL, p.namespace);

    let podClasses: LabelClass[] = [podLabels.universe()];
    for (const p of policies) podClasses = podLabels.refine(podClasses, p.spec.podSelector);
    for (const { peer } of peers)
      if (peer.podSelector) podClasses = podLabels.refine(podClasses, peer.podSelector);

    const existingNames = input.namespaces.map((n) => n.name);
    const newNsStart = nsLabels.without(nsLabels.universe(), NAME_LABEL, existingNames);
    let nsClasses: LabelClass[] = newNsStart ? [newNsStart] : [];
    for (const { peer } of peers)
      if (peer.namespaceSelector) nsClasses = nsLabels.refine(nsClasses, peer.namespaceSelector);
    // A scoped peer or a policy asks "is it namespace X": split on that too.
    for (const name of new Set([...peers.map((p) => p.namespace), ...policies.map((p) => p.namespace)])) {
      nsClasses = nsLabels.refine(nsClasses, { matchLabels: { [NAME_LABEL]: name } });
    }

    const namespaces: NamespaceModel[] = [...input.namespaces];
    const newNamespaces: Array<{ ns: NamespaceModel; words: string }> = [];
    const takenNames = new Set(existingNames);
    nsClasses.forEach((cls) => {
      const labels = nsLabels.witness(cls);
      let name = labels[NAME_LABEL];
      const pinned = name !== undefined && nsLabels.mentions(NAME_LABEL, name);
      if (name === undefined || takenNames.has(name) || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) {
        // A fresh name must not be one a selector names, or the witness would leave its class.
        let i = newNamespaces.length + 1;
        while (takenNames.has(`new-namespace-${i}`) || nsLabels.mentions(NAME_LABEL, `new-namespace-${i}`))
          i++;
        name = `new-namespace-${i}`;
      }
      takenNames.add(name);
      const ns = { name, labels: { ...labels, [NAME_LABEL]: name } };
      namespaces.push(ns);
      const described = nsLabels
        .describe(cls)
        .filter((d) => !d.startsWith(NAME_LABEL) && !d.includes(`label ${NAME_LABEL}`));
      newNamespaces.push({
        ns,
        words:
          (pinned ? `a new namespace named ${name}` : 'a new namespace') +
          (described.length > 0 ? ` labelled ${described.join(', ')}` : ''),
      });
    });

    // Candidate new pods: every namespace x label class x pod-network address class.
    const existing = input.pods;
    const takenIps = new Set(existing.flatMap((p) => p.ips));
    const nsWords = new Map<string, string>([
      ...input.namespaces.map((n) => [n.name, `namespace ${n.name}`] as const),
      ...newNamespaces.map((n) => [n.ns.name, n.words] as const),
    ]);
    // Every candidate of one address class borrows the class's first free address while the
    // candidates are compared; only the kept ones get addresses of their own (below).
    const representative = podAddressClasses.map((c) => addressesIn(c, 1, takenIps)[0]);
    const candidates: Array<{ pod: PodModel; words: string; addressClass: number }> = [];
    for (const ns of namespaces) {
      for (const cls of podClasses) {
        const labels = podLabels.witness(cls);
        const words = podLabels.describe(cls);
        podAddressClasses.forEach((_, k) => {
          const ip = representative[k];
          if (ip === undefined) return; // no free address there: no new pod can have one
          candidates.push({
            addressClass: k,
            pod: { namespace: ns.name, name: '', labels, ips: [ip], ports: [] },
            words:
              `a new pod in ${nsWords.get(ns.name)}` +
              (words.length > 0 ? ` with ${words.join(', ')}` : ' with any labels'),
          });
        });
      }
    }

    // Keep a candidate only when it answers some question differently from every kept one.
    const probeNet = compileNetwork({ namespaces, pods: [], policies: [] });
    const signature = (pod: PodModel) => {
      let sig = '';
      for (const p of policies) sig += probeNet.policySelectsPod(p, pod) ? '1' : '0';
      for (const { peer, namespace } of peers)
        sig += probeNet.peerMatchesPod(peer, namespace, pod) ? '1' : '0';
      return sig;
    };
    const seen = new Set<string>();
    const witnesses: Array<{ pod: PodModel; words: string; addressClass: number }> = [];
    for (const c of candidates) {
      const sig = signature(c.pod);
      if (seen.has(sig)) continue;
      seen.add(sig);
      witnesses.push(c);
    }
    podAddressClasses.forEach((cls, k) => {
      const mine = witnesses.filter((w) => w.addressClass === k);
      const ips = addressesIn(cls, mine.length, takenIps);
      mine.forEach((w, i) => {
        // A class too small for them all: the extra witnesses share its last address (same answers).
        const ip = ips[i] ?? ips[ips.length - 1] ?? w.pod.ips[0]!;
        w.pod.ips = [ip];
        if (podAddressClasses.length > 1) w.words += ` at ${ip}`;
      });
    });
    witnesses.forEach((w, i) => (w.pod.name = `new-pod-${i + 1}`));

    const pods = [...existing, ...witnesses.map((w) => w.pod)];
    this.model = { namespaces, pods, policies: [] };
    this.bare = compileNetwork(this.model);

    // Port atoms, per protocol, cut at every boundary: entries, and every existing pod's ports
    // (so a named port resolves inside one atom).
    const cuts: Record<Protocol, Set<number>> = { TCP: new Set([1]), UDP: new Set([1]), SCTP: new Set([1]) };
    const cut = (protocol: Protocol, lo: number, hi: number) => {
      cuts[protocol].add(lo);
      if (hi < 65535) cuts[protocol].add(hi + 1);
    };
    const names = new Set<string>();
    for (const e of portEntries) {
      const protocol = e.protocol ?? 'TCP';
      if (typeof e.port === 'number') cut(protocol, e.port, e.endPort ?? e.port);
      else if (typeof e.port === 'string') names.add(`${protocol}/${e.port}`);
    }
    for (const pod of existing) for (const p of pod.ports) cut(p.protocol, p.port, p.port);
    this.atoms = PROTOCOLS.flatMap((protocol) => {
      const starts = [...cuts[protocol]].sort((a, b) => a - b);
      return starts.map((lo, i) => ({
        protocol,
        lo,
        hi: i + 1 < starts.length ? starts[i + 1]! - 1 : 65535,
      }));
    });
    if (names.size > MAX_PORT_NAMES) {
      throw new SpaceTooLarge(
        `${names.size} different port names are in play; at most ${MAX_PORT_NAMES} can be proven over every possible pod`,
      );
    }

    const podEndpoints = pods.map((pod, podIndex): SpaceEndpoint => {
      const hypothetical = podIndex >= existing.length;
      return {
        kind: 'pod',
        podIndex,
        pod,
        hypothetical,
        namesEveryPort: new Set(),
        description: hypothetical
          ? witnesses[podIndex - existing.length]!.words
          : `${pod.namespace}/${pod.name}`,
      };
    });
    const ipEndpoints = outside.map((addresses): SpaceEndpoint => ({
      kind: 'ip',
      podIndex: -1,
      ip: addresses.witness,
      hypothetical: false,
      namesEveryPort: new Set(),
      description: describeOutside(addresses, cidrs, podNets.length + clusterNets.length),
      addresses,
    }));
    this.sources = [...podEndpoints, ...ipEndpoints];
    const nameList = [...names].sort();
    const variants: Array<Set<string>> = [];
    for (let m = 0; m < 1 << nameList.length; m++)
      variants.push(new Set(nameList.filter((_, i) => m & (1 << i))));
    this.destinations = [
      ...podEndpoints.flatMap((e) =>
        !e.hypothetical || nameList.length === 0
          ? [e]
          : variants.map((v) => ({
              ...e,
              namesEveryPort: v,
              description:
                v.size === 0
                  ? e.description
                  : `${e.description}, naming the port ${[...v].map((n) => `"${n.split('/')[1]}"`).join(' and ')}`,
            })),
      ),
      ...ipEndpoints,
    ];
  }

  /** Does a peer (as written in `namespace`) match this endpoint? Addresses only match ipBlocks. */
  peerMatches(peer: NetworkPolicyPeer, namespace: string, e: SpaceEndpoint): boolean {
    if (e.kind === 'ip')
      return peer.ipBlock !== undefined && this.bare.peerMatchesPod(peer, namespace, ipPod(e.ip!));
    return this.bare.peerMatchesPod(peer, namespace, e.pod!);
  }

  /** The atoms a list of port entries covers on this destination (absent or empty: all of them). */
  portMask(entries: readonly NetworkPolicyPort[] | undefined, destination: SpaceEndpoint): Uint8Array {
    const mask = new Uint8Array(this.atoms.length);
    if (!entries || entries.length === 0) return mask.fill(1);
    for (const entry of entries) this.orEntry(mask, entry, destination);
    return mask;
  }

  private orEntry(mask: Uint8Array, entry: NetworkPolicyPort, destination: SpaceEndpoint): void {
    const protocol = entry.protocol ?? 'TCP';
    this.atoms.forEach((atom, a) => {
      if (atom.protocol !== protocol) return;
      if (entry.port === undefined) mask[a] = 1;
      else if (typeof entry.port === 'number') {
        const hi = entry.endPort ?? entry.port;
        if (atom.lo >= entry.port && atom.hi <= hi) mask[a] = 1;
      } else if (destination.kind === 'pod') {
        if (destination.namesEveryPort.has(`${protocol}/${entry.port}`)) mask[a] = 1;
        else {
          const n = resolveNamedPort(destination.pod, entry.port, protocol)?.port;
          if (n !== undefined && atom.lo <= n && n <= atom.hi) mask[a] = 1;
        }
      }
    });
  }

  /** Every connection's verdict under these policies (the space must have been built for them). */
  behaviour(policies: NetworkPolicyModel[]): Behaviour {
    const net = compileNetwork({ ...this.model, policies });
    const S = this.sources.length;
    const D = this.destinations.length;
    const A = this.atoms.length;
    const data = new Uint8Array(S * D * A);
    const ruleMasks = new Map<CompiledRule, Map<number, Uint8Array>>();
    const maskOf = (rule: CompiledRule, d: number): Uint8Array => {
      let perDest = ruleMasks.get(rule);
      if (!perDest) ruleMasks.set(rule, (perDest = new Map()));
      // Without named ports the mask does not depend on the destination.
      const key = rule.namedPorts ? d : -1;
      let m = perDest.get(key);
      if (!m) perDest.set(key, (m = this.portMask(rule.ports, this.destinations[d]!)));
      return m;
    };
    const allowedPorts = (
      direction: Direction,
      subject: SpaceEndpoint,
      peer: SpaceEndpoint,
      d: number,
    ): Uint8Array | undefined => {
      if (subject.kind !== 'pod') return undefined; // addresses outside are never isolated
      const isolating = net.isolatingPolicies(direction, subject.podIndex);
      if (isolating.length === 0) return undefined;
      const out = new Uint8Array(A);
      for (const p of isolating) {
        const policy = net.policies[p]!;
        for (const rule of direction === 'egress' ? policy.egressRules : policy.ingressRules) {
          if (!ruleMatchesPeer(rule, peer)) continue;
          const m = maskOf(rule, d);
          for (let a = 0; a < A; a++) out[a]! |= m[a]!;
        }
      }
      return out;
    };
    for (let s = 0; s < S; s++) {
      const src = this.sources[s]!;
      for (let d = 0; d < D; d++) {
        const dst = this.destinations[d]!;
        const base = (s * D + d) * A;
        if (!isJudged(src, dst)) {
          if (isSelf(src, dst)) data.fill(1, base, base + A);
          continue;
        }
        const egress = allowedPorts('egress', src, dst, d);
        const ingress = allowedPorts('ingress', dst, src, d);
        for (let a = 0; a < A; a++) data[base + a] = (egress ? egress[a]! : 1) & (ingress ? ingress[a]! : 1);
      }
    }
    return new Behaviour(this, net, data);
  }
}

function ruleMatchesPeer(rule: CompiledRule, peer: SpaceEndpoint): boolean {
  if (rule.allPeers) return true;
  if (peer.kind === 'pod') return rule.peerPods.has(peer.podIndex);
  return rule.peers.some((p) => p.ipBlock?.contains(peer.ip!) ?? false);
}

export function isSelf(src: SpaceEndpoint, dst: SpaceEndpoint): boolean {
  // A witness stands for many pods: from one of them to another of the same class is not self.
  return src.kind === 'pod' && dst.kind === 'pod' && !src.hypothetical && src.podIndex === dst.podIndex;
}

/**
 * Can these two endpoints talk at all? Not when both are outside the cluster, not to itself (always
 * allowed, never judged), and not across address families: an IPv4-only pod neither sends to nor
 * hears from an IPv6 address, whatever the policies say.
 */
export function isJudged(src: SpaceEndpoint, dst: SpaceEndpoint): boolean {
  if (src.kind === 'ip' && dst.kind === 'ip') return false;
  if (isSelf(src, dst)) return false;
  return (families(src) & families(dst)) !== 0;
}

/**
 * The address families an endpoint has, as bits (1: IPv4, 2: IPv6). Asked for every pair of
 * endpoints of a space, so it allocates nothing.
 */
function families(e: SpaceEndpoint): number {
  if (e.kind === 'ip') return familyBit(e.ip!);
  let bits = 0;
  for (const ip of e.pod!.ips) bits |= familyBit(ip);
  return bits;
}

const familyBit = (ip: string) => (ip.includes(':') ? 2 : 1);

/** An address as a pod-like thing, so ipBlock questions go through the engine's own code. */
function ipPod(ip: string): PodModel {
  return { namespace: '', name: ip, labels: {}, ips: [ip], ports: [], hostNetwork: true };
}

function describeOutside(cls: AddressClass, cidrs: string[], skip: number): string {
  const holders = cls.inside.filter((i) => i >= skip).map((i) => cidrs[i]!);
  const family = cls.family === 'ipv4' ? 'IPv4' : 'IPv6';
  if (holders.length === 0 || holders.every((h) => /\/0$/.test(h)))
    return `${cls.witness} (any ${family} address outside the cluster)`;
  // The narrowest CIDR holding the class says the most.
  const narrowest = holders.reduce((a, b) => (Number(a.split('/')[1]) >= Number(b.split('/')[1]) ? a : b));
  return `${cls.witness} (an address outside the cluster in ${narrowest})`;
}

export class SpaceTooLarge extends Error {}

/** The verdict of every cell of a TrafficSpace under one collection of policies. */
export class Behaviour {
  constructor(
    readonly space: TrafficSpace,
    /** The compiled network the verdicts came from (witness pods included), for explanations. */
    readonly net: CompiledNetwork,
    private readonly data: Uint8Array,
  ) {}

  allowed(s: number, d: number, a: number): boolean {
    const D = this.space.destinations.length;
    const A = this.space.atoms.length;
    return this.data[(s * D + d) * A + a] === 1;
  }
}
