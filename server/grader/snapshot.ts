/**
 * One consistent read of the cluster for a grade: the objects the grader reasons about, and small
 * readers for their wire shape. Both cluster implementations return the same shapes.
 */
import type { Cluster, KubeObject, ListableKind } from '../cluster/types.js';
import { isRecord } from '../manifests/load.js';

export interface Snapshot {
  namespaces: KubeObject[];
  pods: KubeObject[];
  services: KubeObject[];
  endpoints: KubeObject[];
  policies: KubeObject[];
  /**
   * Deployments, StatefulSets and DaemonSets, read only for labs about workload settings (see
   * readWorkloads): NetworkPolicy labs see a changed workload in its pods' labels.
   */
  workloads?: KubeObject[];
  /**
   * Given by a simulated cluster: equal numbers mean equal objects besides NetworkPolicies, so what
   * depends only on those (the pre-flight) can be remembered by it.
   */
  versionBesidesPolicies?: number;
}

/**
 * What the simulated cluster offers a snapshot: a name for its content apart from NetworkPolicies,
 * and its stored objects without copies (they are frozen, and a snapshot is only read).
 */
interface SimulatedReads {
  versionBesidesPolicies(): number | undefined;
  listFrozen(kind: ListableKind): readonly KubeObject[];
}

function isSimulated(c: Cluster): c is Cluster & SimulatedReads {
  return (
    typeof (c as Partial<SimulatedReads>).versionBesidesPolicies === 'function' &&
    typeof (c as Partial<SimulatedReads>).listFrozen === 'function'
  );
}

/** The scenario namespaces' workloads, for the scenario-intact check of labs that change them. */
export async function readWorkloads(cluster: Cluster): Promise<KubeObject[]> {
  const lists = await Promise.all(
    (['Deployment', 'StatefulSet', 'DaemonSet'] as const).map((k) => cluster.list(k)),
  );
  return lists.flat();
}

export async function takeSnapshot(cluster: Cluster): Promise<Snapshot> {
  if (isSimulated(cluster)) {
    // One synchronous read: nothing can change the cluster in between.
    const version = cluster.versionBesidesPolicies();
    const read = (kind: ListableKind) => cluster.listFrozen(kind) as KubeObject[];
    return {
      namespaces: read('Namespace'),
      pods: read('Pod'),
      services: read('Service'),
      endpoints: read('Endpoints'),
      policies: read('NetworkPolicy'),
      ...(version !== undefined ? { versionBesidesPolicies: version } : {}),
    };
  }
  const [namespaces, pods, services, endpoints, policies] = await Promise.all([
    cluster.list('Namespace'),
    cluster.list('Pod'),
    cluster.list('Service'),
    cluster.list('Endpoints'),
    cluster.list('NetworkPolicy'),
  ]);
  return { namespaces, pods, services, endpoints, policies };
}

export const nameOf = (o: KubeObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

export function labelsOf(o: KubeObject): Record<string, string> {
  return o.metadata.labels ?? {};
}

function field(o: unknown, ...path: string[]): unknown {
  let cur: unknown = o;
  for (const key of path) {
    if (!isRecord(cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}

export function podIP(pod: KubeObject): string | undefined {
  const ip = field(pod, 'status', 'podIP');
  return typeof ip === 'string' && ip.length > 0 ? ip : undefined;
}

export function podReady(pod: KubeObject): boolean {
  if (field(pod, 'metadata', 'deletionTimestamp') !== undefined) return false;
  const conditions = field(pod, 'status', 'conditions');
  if (!Array.isArray(conditions)) return false;
  return conditions.some((c) => isRecord(c) && c.type === 'Ready' && c.status === 'True');
}

/** Why a pod is not ready, in a few words (phase, waiting reason of its containers). */
export function podNotReadyReason(pod: KubeObject): string {
  const phase = field(pod, 'status', 'phase');
  const statuses = field(pod, 'status', 'containerStatuses');
  const reasons: string[] = [];
  if (Array.isArray(statuses)) {
    for (const s of statuses) {
      const waiting = field(s, 'state', 'waiting', 'reason');
      if (typeof waiting === 'string') reasons.push(waiting);
    }
  }
  return [typeof phase === 'string' ? phase : 'unknown phase', ...reasons].join(', ');
}

/** Container ports of a pod (for named-port resolution). */
export function containerPorts(pod: KubeObject): Array<{ name?: string; port: number; protocol: string }> {
  const out: Array<{ name?: string; port: number; protocol: string }> = [];
  const containers = field(pod, 'spec', 'containers');
  if (!Array.isArray(containers)) return out;
  for (const c of containers) {
    const ports = field(c, 'ports');
    if (!Array.isArray(ports)) continue;
    for (const p of ports) {
      if (!isRecord(p) || typeof p.containerPort !== 'number') continue;
      const port = p.containerPort;
      const protocol = typeof p.protocol === 'string' ? p.protocol : 'TCP';
      // Two literals rather than a conditional spread, which is many times slower in V8.
      out.push(typeof p.name === 'string' ? { name: p.name, port, protocol } : { port, protocol });
    }
  }
  return out;
}

export interface ServicePort {
  name?: string;
  port: number;
  protocol: string;
  targetPort: number | string;
}

export function servicePorts(svc: KubeObject): ServicePort[] {
  const ports = field(svc, 'spec', 'ports');
  if (!Array.isArray(ports)) return [];
  const out: ServicePort[] = [];
  for (const p of ports) {
    if (!isRecord(p) || typeof p.port !== 'number') continue;
    const target = p.targetPort;
    const port = p.port;
    const protocol = typeof p.protocol === 'string' ? p.protocol : 'TCP';
    const targetPort = typeof target === 'number' || typeof target === 'string' ? target : p.port;
    // Two literals rather than a conditional spread, which is many times slower in V8; every
    // probe through a Service asks for its ports.
    out.push(
      typeof p.name === 'string'
        ? { name: p.name, port, protocol, targetPort }
        : { port, protocol, targetPort },
    );
  }
  return out;
}

export function serviceClusterIP(svc: KubeObject): string | undefined {
  const ip = field(svc, 'spec', 'clusterIP');
  return typeof ip === 'string' && ip !== 'None' && ip.length > 0 ? ip : undefined;
}

export function serviceSelector(svc: KubeObject): Record<string, string> | undefined {
  const sel = field(svc, 'spec', 'selector');
  if (!isRecord(sel)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(sel)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** Names (`ns/name`) of the ready endpoint pods of a Service, from its Endpoints object. */
export function endpointPodNames(snapshot: Snapshot, namespace: string, service: string): string[] {
  const ep = snapshot.endpoints.find(
    (e) => e.metadata.namespace === namespace && e.metadata.name === service,
  );
  const names: string[] = [];
  const subsets = ep ? field(ep, 'subsets') : undefined;
  if (!Array.isArray(subsets)) return names;
  for (const subset of subsets) {
    const addresses = field(subset, 'addresses');
    if (!Array.isArray(addresses)) continue;
    for (const a of addresses) {
      const ref = field(a, 'targetRef');
      if (isRecord(ref) && ref.kind === 'Pod' && typeof ref.name === 'string') {
        names.push(`${typeof ref.namespace === 'string' ? ref.namespace : namespace}/${ref.name}`);
      }
    }
  }
  return names;
}
