/**
 * The simulated cluster's whole state: plain data only (Maps, arrays, numbers, strings), so it can
 * be saved with v8.serialize.
 *
 * Stored objects are frozen (deeply) when they are stored: a change is always a new object put in
 * the place of the old one. That is what makes a fork cheap: forkState copies the maps and shares
 * every object with the state it came from, and since neither side can change a shared object, the
 * two stay independent. Code that changes a stored object changes a deepCopy() of it (./objects.ts) and stores that.
 */
import { freezeDeep } from '../../freeze.js';
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
  /** New on every change (see newVersion); caches of derived data (the compiled network) key on it. */
  version: number;
  /**
   * The version of the last change to anything but a NetworkPolicy: what a policy-free copy of the
   * cluster (the grader's pre-flight) depends on. Absent in clusters saved before it existed.
   */
  versionBesidesPolicies?: number;
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
    version: newVersion(),
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

/**
 * Stores an object (bumping its resourceVersion) and marks derived data stale. The object is frozen
 * from then on: a stored object that is still stored elsewhere (a fork shares it) must never change.
 */
export function putObject(state: SimState, obj: KubeObject): void {
  obj.metadata.resourceVersion = nextResourceVersion(state);
  state.objects.set(keyOf(obj), freezeDeep(obj));
  changed(state, obj.kind);
}

function changed(state: SimState, kind: string): void {
  state.version = newVersion();
  if (kind !== 'NetworkPolicy') state.versionBesidesPolicies = state.version;
}

/**
 * A new version of a stored object with some top-level fields replaced; the rest is shared (it is
 * frozen). Its metadata is a copy, for putObject to stamp.
 */
export function revised(obj: KubeObject, fields: Partial<KubeObject>): KubeObject {
  return { ...obj, ...fields, metadata: { ...obj.metadata, ...fields.metadata } };
}

/**
 * An independent state that starts equal to this one. The maps are copied; the stored objects,
 * frozen, are shared; the small mutable parts (IP blocks, the random sequence) are copied.
 */
export function forkState(state: SimState): SimState {
  return {
    objects: new Map(state.objects),
    lastApplied: new Map(state.lastApplied),
    random: { ...state.random },
    resourceVersion: state.resourceVersion,
    podSerial: new Map(state.podSerial),
    nextSerial: state.nextSerial,
    podBlocks: new Map(
      [...state.podBlocks].map(([node, blocks]) => [
        node,
        blocks.map((b) => ({ base: b.base, used: [...b.used] })),
      ]),
    ),
    usedIps: new Set(state.usedIps),
    // Equal states may share what is derived from them (see newVersion).
    version: state.version,
    ...(state.versionBesidesPolicies !== undefined
      ? { versionBesidesPolicies: state.versionBesidesPolicies }
      : {}),
  };
}

/**
 * Every state change gets a version no other change in this process has had, so two states (a
 * cluster and its forks) with the same version hold the same objects, and derived data (the
 * compiled network, the pre-flight's outcome) can be shared between them.
 */
let lastVersion = 0;
export function newVersion(): number {
  lastVersion += 1;
  return lastVersion;
}

/** A state read from bytes (a saved cluster): its objects frozen, its version new in this process. */
export function adoptState(state: SimState): SimState {
  for (const obj of state.objects.values()) freezeDeep(obj);
  state.version = newVersion();
  state.versionBesidesPolicies = state.version;
  return state;
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
  changed(state, kind);
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
