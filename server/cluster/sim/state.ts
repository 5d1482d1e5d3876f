/**
 * The simulated cluster's whole state: plain data only (Maps, arrays, numbers, strings), so that
 * `structuredClone` makes an independent fork in one call.
 */
import type { KubeObject } from '../types.js';
import type { RandomState } from './random.js';

export interface NodeBlock {
  /** First address of a /26 inside 192.168.0.0/16, as a 32-bit number. */
  base: number;
  /** Offsets 1..63 in use (offset 0 stays free, as Calico gives it to the node's tunnel). */
  used: number[];
}

export interface SimState {
  /** Every stored object by `Kind/namespace/name` (namespace empty for cluster-scoped kinds). */
  objects: Map<string, KubeObject>;
  /** What the user last applied for each object (stable JSON), to tell `configured` from `unchanged`. */
  lastApplied: Map<string, string>;
  random: RandomState;
  resourceVersion: number;
  /** Creation order of pods (for scale-down: the newest go first). */
  podSerial: Map<string, number>;
  nextSerial: number;
  /** Calico-style IPAM: /26 blocks per node. */
  podBlocks: Map<string, NodeBlock[]>;
  usedIps: Set<string>;
  /** Bumped on every change; caches of derived data (the compiled network) key on it. */
  version: number;
}

export function objectKey(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace ?? ''}/${name}`;
}

export function keyOf(obj: KubeObject): string {
  return objectKey(obj.kind, obj.metadata.namespace, obj.metadata.name);
}

export function emptyState(seed: number): SimState {
  return {
    objects: new Map(),
    lastApplied: new Map(),
    random: { seed: seed >>> 0 },
    resourceVersion: 1000,
    podSerial: new Map(),
    nextSerial: 1,
    podBlocks: new Map(),
    usedIps: new Set(),
    version: 0,
  };
}

/** Typed views of stored objects. Everything stays in wire shape; these only name what we read. */
export function listObjects(state: SimState, kind: string, namespace?: string): KubeObject[] {
  const out: KubeObject[] = [];
  for (const obj of state.objects.values()) {
    if (obj.kind !== kind) continue;
    if (namespace !== undefined && obj.metadata.namespace !== namespace) continue;
    out.push(obj);
  }
  return out.sort((a, b) => {
    const an = `${a.metadata.namespace ?? ''}/${a.metadata.name}`;
    const bn = `${b.metadata.namespace ?? ''}/${b.metadata.name}`;
    return an < bn ? -1 : an > bn ? 1 : 0;
  });
}

export function getObject(
  state: SimState,
  kind: string,
  namespace: string | undefined,
  name: string,
): KubeObject | undefined {
  return state.objects.get(objectKey(kind, namespace, name));
}

export function nextResourceVersion(state: SimState): string {
  state.resourceVersion += 1;
  return String(state.resourceVersion);
}

/** Stores an object (bumping its resourceVersion) and marks derived data stale. */
export function putObject(state: SimState, obj: KubeObject): void {
  obj.metadata.resourceVersion = nextResourceVersion(state);
  state.objects.set(keyOf(obj), obj);
  state.version += 1;
}

export function removeObject(
  state: SimState,
  kind: string,
  namespace: string | undefined,
  name: string,
): KubeObject | undefined {
  const key = objectKey(kind, namespace, name);
  const obj = state.objects.get(key);
  if (!obj) return undefined;
  state.objects.delete(key);
  state.lastApplied.delete(key);
  if (kind === 'Pod') {
    state.podSerial.delete(key);
    for (const ip of podIps(obj)) state.usedIps.delete(ip);
    releasePodIp(state, obj);
  }
  state.version += 1;
  return obj;
}

function releasePodIp(state: SimState, pod: KubeObject): void {
  const node = nodeNameOf(pod);
  const ip = podIps(pod)[0];
  if (!node || !ip) return;
  const n = ipToNumber(ip);
  for (const block of state.podBlocks.get(node) ?? []) {
    if (n >= block.base && n < block.base + 64) block.used = block.used.filter((o) => o !== n - block.base);
  }
}

// ---- small readers over wire-shaped objects ------------------------------------------------

export type Json = Record<string, unknown>;

export function asRecord(v: unknown): Json | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
}

export function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function specOf(obj: KubeObject): Json {
  return asRecord(obj.spec) ?? {};
}

export function statusOf(obj: KubeObject): Json {
  return asRecord(obj.status) ?? {};
}

export function labelsOf(obj: KubeObject): Record<string, string> {
  return obj.metadata.labels ?? {};
}

export function nodeNameOf(pod: KubeObject): string | undefined {
  const n = specOf(pod).nodeName;
  return typeof n === 'string' ? n : undefined;
}

export function podIps(pod: KubeObject): string[] {
  const status = statusOf(pod);
  const ips = asArray(status.podIPs)
    .map((e) => asRecord(e)?.ip)
    .filter((ip): ip is string => typeof ip === 'string' && ip !== '');
  if (ips.length === 0 && typeof status.podIP === 'string' && status.podIP !== '') ips.push(status.podIP);
  return ips;
}

export function isPodReady(pod: KubeObject): boolean {
  return asArray(statusOf(pod).conditions).some(
    (c) => asRecord(c)?.type === 'Ready' && asRecord(c)?.status === 'True',
  );
}

export function controllerOf(obj: KubeObject): { kind: string; name: string; uid: string } | undefined {
  for (const ref of asArray(obj.metadata.ownerReferences)) {
    const r = asRecord(ref);
    if (
      r &&
      r.controller === true &&
      typeof r.kind === 'string' &&
      typeof r.name === 'string' &&
      typeof r.uid === 'string'
    ) {
      return { kind: r.kind, name: r.name, uid: r.uid };
    }
  }
  return undefined;
}

// ---- IPv4 helpers ------------------------------------------------------------------------------

export function ipToNumber(ip: string): number {
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0) >>> 0;
}

export function numberToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}
