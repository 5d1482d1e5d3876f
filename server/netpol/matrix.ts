/**
 * computeMatrix: every source x destination verdict at once, without building a Verdict per pair.
 *
 * The same rules as evaluate.ts, computed on pod sets: for each egress-isolating policy we OR the
 * destinations its rules admit on the port (peers AND port match), for each destination we OR the
 * sources its ingress rules admit, and a pair is allowed when the source's egress set contains the
 * destination and the destination's ingress set contains the source (or it is the same pod).
 * Cost: about one bit test per pair plus one bitset OR per (pod, isolating policy).
 *
 * Without a port, each destination is probed on every port it declares, and a pair counts as
 * allowed when at least one of those ports is reachable.
 */
import { Bitset } from './bitset.js';
import type { CompiledNetwork, CompiledRule } from './compile.js';
import { podKey } from './compile.js';
import { portsMatch, resolveNamedPort } from './ports.js';
import type { PodModel, Protocol } from './types.js';

export interface MatrixPort {
  port: number | string;
  protocol: Protocol;
}

export interface MatrixOptions {
  /** Probe this port on every destination; absent: each destination's declared ports. */
  port?: MatrixPort;
}

export interface MatrixCounts {
  pods: number;
  namespaces: number;
  policies: number;
  /** Every ordered (source, destination) pair, self pairs included: pods squared. */
  pairs: number;
  allowed: number;
  denied: number;
}

export interface Matrix {
  /** Pods in output order (namespace, then name). Matrix indexes refer to this list. */
  pods: readonly PodModel[];
  /** The port asked for, or undefined when each destination's declared ports were probed. */
  port: MatrixPort | undefined;
  /** Ports probed on destination j (the asked port, or j's declared ports). */
  portsOf(j: number): readonly MatrixPort[];
  /** The probed ports of j that i can reach. */
  allowedPorts(i: number, j: number): MatrixPort[];
  /** Can i reach j (on the asked port / on at least one declared port)? */
  allowed(i: number, j: number): boolean;
  counts: MatrixCounts;
}

export function computeMatrix(net: CompiledNetwork, opts: MatrixOptions = {}): Matrix {
  const n = net.pods.length;
  const order = net.pods
    .map((_, i) => i)
    .sort((a, b) => {
      const pa = net.pods[a]!;
      const pb = net.pods[b]!;
      return pa.namespace === pb.namespace ? cmp(pa.name, pb.name) : cmp(pa.namespace, pb.namespace);
    });
  const position = new Int32Array(n);
  order.forEach((netIndex, pos) => (position[netIndex] = pos));

  // Per destination (net index): the probed ports and, per port, the sources (net indexes) allowed.
  const probed: MatrixPort[][] = [];
  const sources: Bitset[][] = [];
  if (opts.port) {
    const all = order.map((_, i) => i);
    const result = allowedSourcesOnPort(net, opts.port, all);
    for (let d = 0; d < n; d++) {
      probed[d] = [opts.port];
      sources[d] = [result.get(d)!];
    }
  } else {
    const destinationsByPort = new Map<string, { port: MatrixPort; destinations: number[] }>();
    for (let d = 0; d < n; d++) {
      probed[d] = [];
      sources[d] = [];
      const seen = new Set<string>();
      for (const p of net.pods[d]!.ports) {
        const key = `${p.port}/${p.protocol}`;
        if (seen.has(key)) continue;
        seen.add(key);
        probed[d]!.push({ port: p.port, protocol: p.protocol });
        const entry = destinationsByPort.get(key) ?? {
          port: { port: p.port, protocol: p.protocol },
          destinations: [],
        };
        entry.destinations.push(d);
        destinationsByPort.set(key, entry);
      }
    }
    const byKey = new Map<string, Map<number, Bitset>>();
    for (const [key, { port, destinations }] of destinationsByPort) {
      byKey.set(key, allowedSourcesOnPort(net, port, destinations));
    }
    for (let d = 0; d < n; d++) {
      sources[d] = probed[d]!.map((p) => byKey.get(`${p.port}/${p.protocol}`)!.get(d)!);
    }
  }

  // Whether i reaches j on any probed port, as one bit per pair (rows by source position).
  const words = (n + 31) >>> 5;
  const reach = new Uint32Array(n * words);
  let allowedCount = 0;
  for (let d = 0; d < n; d++) {
    const any = new Bitset(n);
    for (const set of sources[d]!) any.orInPlace(set);
    const dPos = position[d]!;
    for (const s of any) {
      const sPos = position[s]!;
      reach[sPos * words + (dPos >>> 5)]! |= 1 << (dPos & 31);
      allowedCount++;
    }
  }

  const pods = order.map((i) => net.pods[i]!);
  const namespaces = new Set([...net.model.namespaces.map((ns) => ns.name), ...pods.map((p) => p.namespace)]);
  return {
    pods,
    port: opts.port,
    portsOf: (j) => probed[order[j]!] ?? [],
    allowedPorts: (i, j) => {
      const d = order[j]!;
      const s = order[i]!;
      return probed[d]!.filter((_, k) => sources[d]![k]!.has(s));
    },
    allowed: (i, j) => ((reach[i * words + (j >>> 5)] ?? 0) & (1 << (j & 31))) !== 0,
    counts: {
      pods: n,
      namespaces: namespaces.size,
      policies: net.policies.length,
      pairs: n * n,
      allowed: allowedCount,
      denied: n * n - allowedCount,
    },
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * For each destination (net index) in `destinations`: the sources allowed to open `port` on it.
 * A named port that a destination does not define reaches nothing there, not even from itself.
 */
export function allowedSourcesOnPort(
  net: CompiledNetwork,
  probe: MatrixPort,
  destinations: number[],
): Map<number, Bitset> {
  const n = net.pods.length;
  const { protocol } = probe;
  const full = Bitset.full(n);
  const empty = new Bitset(n);
  const portOf = (d: number): number | undefined =>
    typeof probe.port === 'number' ? probe.port : resolveNamedPort(net.pods[d], probe.port, protocol)?.port;

  // Which destinations a rule's `ports` admits. Constant unless a name is involved.
  const dstOkCache = new Map<CompiledRule, Bitset>();
  const dstOk = (rule: CompiledRule): Bitset => {
    let ok = dstOkCache.get(rule);
    if (ok) return ok;
    if (!rule.ports) ok = full;
    else if (typeof probe.port === 'number' && !rule.namedPorts) {
      ok = portsMatch(rule.ports, probe.port, protocol, undefined) ? full : empty;
    } else {
      ok = new Bitset(n);
      for (const d of destinations) {
        if (portsMatch(rule.ports, portOf(d), protocol, net.pods[d])) ok.add(d);
      }
    }
    dstOkCache.set(rule, ok);
    return ok;
  };
  const peersOf = (rule: CompiledRule): Bitset => (rule.allPeers ? full : rule.peerPods);

  // Egress: destinations each isolating policy admits, then per source the union over its policies.
  const egressOfPolicy = new Map<number, Bitset>();
  const policyEgress = (p: number): Bitset => {
    let set = egressOfPolicy.get(p);
    if (set) return set;
    set = new Bitset(n);
    for (const rule of net.policies[p]!.egressRules) {
      const ok = dstOk(rule);
      if (ok === empty) continue;
      set.orInPlace(ok === full ? peersOf(rule) : peersOf(rule).clone().andInPlace(ok));
    }
    egressOfPolicy.set(p, set);
    return set;
  };
  const egressBySet = new Map<string, Bitset>();
  const egressOf: Bitset[] = [];
  for (let s = 0; s < n; s++) {
    const isolating = net.isolatingPolicies('egress', s);
    if (isolating.length === 0) {
      egressOf[s] = full;
      continue;
    }
    const key = isolating.join(',');
    let set = egressBySet.get(key);
    if (!set) {
      set = new Bitset(n);
      for (const p of isolating) set.orInPlace(policyEgress(p));
      egressBySet.set(key, set);
    }
    egressOf[s] = set;
  }

  // Ingress per destination; a policy's contribution is shared unless a named port makes it differ.
  const ingressOfPolicy = new Map<number, Bitset>();
  const policyIngress = (p: number, d: number): Bitset => {
    const rules = net.policies[p]!.ingressRules;
    const perDestination = typeof probe.port === 'string' || rules.some((r) => r.namedPorts);
    if (!perDestination) {
      const cached = ingressOfPolicy.get(p);
      if (cached) return cached;
    }
    const set = new Bitset(n);
    for (const rule of rules) if (dstOk(rule).has(d)) set.orInPlace(peersOf(rule));
    if (!perDestination) ingressOfPolicy.set(p, set);
    return set;
  };

  const result = new Map<number, Bitset>();
  for (const d of destinations) {
    if (portOf(d) === undefined) {
      result.set(d, new Bitset(n));
      continue;
    }
    const isolating = net.isolatingPolicies('ingress', d);
    let ingress: Bitset;
    if (isolating.length === 0) ingress = full;
    else if (isolating.length === 1) ingress = policyIngress(isolating[0]!, d);
    else {
      ingress = new Bitset(n);
      for (const p of isolating) ingress.orInPlace(policyIngress(p, d));
    }
    const allowed = new Bitset(n);
    for (const s of ingress) if (egressOf[s]!.has(d)) allowed.add(s);
    allowed.add(d); // a pod always reaches itself
    result.set(d, allowed);
  }
  return result;
}

export const matrixPodName = (pod: PodModel): string => podKey(pod.namespace, pod.name);
