/**
 * Server-side printing: `kubectl get` asks for a `meta.k8s.io/v1 Table` and prints its cells, so
 * the columns and cell texts here are what the learner sees. They follow the API server's own
 * printers for each kind (priority 1 columns appear with `-o wide`); kinds without a printer of
 * their own get the API server's default (Name, Created At).
 */
import type { KubeObject } from '../../types.js';
import { asArray, asRecord, specOf, statusOf, type Json } from '../state.js';

interface Column {
  name: string;
  type?: 'string' | 'integer' | 'date';
  format?: string;
  priority?: number;
  description?: string;
}

interface Printer {
  columns: Column[];
  cells(obj: KubeObject, now: Date): unknown[];
}

/** How long ago, the way kubectl and the API server print it (`45s`, `3m20s`, `5h`, `12d`). */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8)
    return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  const days = Math.floor(hours / 24);
  if (days < 365 * 2) return `${days}d`;
  if (days < 365 * 8) return `${Math.floor(days / 365)}y${days % 365}d`;
  return `${Math.floor(days / 365)}y`;
}

export function age(obj: KubeObject, now: Date): string {
  const created = Date.parse(String(obj.metadata.creationTimestamp ?? ''));
  return Number.isNaN(created) ? '<unknown>' : humanDuration(now.getTime() - created);
}

const NAME: Column = { name: 'Name', format: 'name', description: 'Name must be unique within a namespace.' };
const AGE: Column = {
  name: 'Age',
  description: 'CreationTimestamp is a timestamp of when the object was created.',
};

function str(v: unknown, fallback = '<none>'): string {
  return typeof v === 'string' && v !== '' ? v : fallback;
}

/** `app=backend,tier=web`, or `<none>`. */
export function selectorText(selector: unknown): string {
  const s = asRecord(selector);
  if (!s) return '<none>';
  const parts: string[] = [];
  const labels = asRecord(s.matchLabels) ?? (s.matchExpressions === undefined ? s : {});
  for (const [k, v] of Object.entries(labels)) if (typeof v === 'string') parts.push(`${k}=${v}`);
  for (const e of asArray(s.matchExpressions)) {
    const x = asRecord(e) ?? {};
    const values = asArray(x.values).map(String).join(',');
    switch (x.operator) {
      case 'In':
        parts.push(`${String(x.key)} in (${values})`);
        break;
      case 'NotIn':
        parts.push(`${String(x.key)} notin (${values})`);
        break;
      case 'Exists':
        parts.push(String(x.key));
        break;
      case 'DoesNotExist':
        parts.push(`!${String(x.key)}`);
        break;
    }
  }
  return parts.length > 0 ? parts.join(',') : '<none>';
}

function containersOf(podSpec: Json): Json[] {
  return asArray(podSpec.containers).map((c) => asRecord(c) ?? {});
}

function templateSpec(obj: KubeObject): Json {
  return asRecord(asRecord(specOf(obj).template)?.spec) ?? {};
}

const WORKLOAD_WIDE: Column[] = [
  { name: 'Containers', priority: 1, description: 'Names of each container in the template.' },
  { name: 'Images', priority: 1, description: 'Images referenced by each container in the template.' },
  { name: 'Selector', priority: 1, description: 'Label selector for pods.' },
];

function workloadWide(obj: KubeObject): string[] {
  const cs = containersOf(templateSpec(obj));
  return [
    cs.map((c) => String(c.name)).join(','),
    cs.map((c) => String(c.image)).join(','),
    selectorText(specOf(obj).selector),
  ];
}

/** The STATUS of a pod: Terminating, a waiting reason (ImagePullBackOff), or the phase. */
export function podStatusText(pod: KubeObject): string {
  if (pod.metadata.deletionTimestamp) return 'Terminating';
  for (const s of asArray(statusOf(pod).containerStatuses)) {
    const reason = asRecord(asRecord(asRecord(s)?.state)?.waiting)?.reason;
    if (typeof reason === 'string') return reason;
  }
  return str(statusOf(pod).phase, 'Pending');
}

function servicePorts(svc: KubeObject): string {
  const ports = asArray(specOf(svc).ports).map((p) => asRecord(p) ?? {});
  if (ports.length === 0) return '<none>';
  return ports
    .map((p) => `${String(p.port)}${p.nodePort ? `:${String(p.nodePort)}` : ''}/${str(p.protocol, 'TCP')}`)
    .join(',');
}

function endpointsText(ep: KubeObject): string {
  const all: string[] = [];
  for (const subset of asArray(ep.subsets)) {
    const s = asRecord(subset) ?? {};
    for (const a of asArray(s.addresses))
      for (const p of asArray(s.ports)) all.push(`${String(asRecord(a)?.ip)}:${String(asRecord(p)?.port)}`);
  }
  if (all.length === 0) return '<none>';
  return all.length > 3 ? `${all.slice(0, 3).join(',')} + ${all.length - 3} more...` : all.join(',');
}

const PRINTERS: Record<string, Printer> = {
  Pod: {
    columns: [
      NAME,
      { name: 'Ready', description: 'The aggregate readiness state of this pod for accepting traffic.' },
      { name: 'Status', description: 'The aggregate status of the containers in this pod.' },
      {
        name: 'Restarts',
        description: 'The number of times the containers in this pod have been restarted.',
      },
      AGE,
      { name: 'IP', priority: 1, description: 'IP address assigned to the pod' },
      { name: 'Node', priority: 1, description: 'Name of the node assigned' },
      { name: 'Nominated Node', priority: 1, description: 'Name of the nominated node' },
      { name: 'Readiness Gates', priority: 1, description: 'Readiness gates' },
    ],
    cells(pod, now) {
      const statuses = asArray(statusOf(pod).containerStatuses).map((s) => asRecord(s) ?? {});
      const total = containersOf(specOf(pod)).length;
      const ready = statuses.filter((s) => s.ready === true).length;
      const restarts = statuses.reduce(
        (n, s) => n + (typeof s.restartCount === 'number' ? s.restartCount : 0),
        0,
      );
      return [
        pod.metadata.name,
        `${ready}/${total}`,
        podStatusText(pod),
        restarts,
        age(pod, now),
        str(statusOf(pod).podIP),
        str(specOf(pod).nodeName),
        '<none>',
        '<none>',
      ];
    },
  },
  Service: {
    columns: [
      NAME,
      { name: 'Type', description: 'Type of the service.' },
      { name: 'Cluster-IP', description: 'Cluster IP of the service.' },
      { name: 'External-IP', description: 'External IPs of the service.' },
      { name: 'Port(s)', description: 'Ports of the service.' },
      AGE,
      { name: 'Selector', priority: 1, description: 'Label selector of the service.' },
    ],
    cells(svc, now) {
      const spec = specOf(svc);
      const type = str(spec.type, 'ClusterIP');
      const external =
        type === 'ExternalName' ? str(spec.externalName) : type === 'LoadBalancer' ? '<pending>' : '<none>';
      return [
        svc.metadata.name,
        type,
        str(spec.clusterIP),
        external,
        servicePorts(svc),
        age(svc, now),
        selectorText(spec.selector),
      ];
    },
  },
  Endpoints: {
    columns: [NAME, { name: 'Endpoints', description: 'Endpoints of the service.' }, AGE],
    cells: (ep, now) => [ep.metadata.name, endpointsText(ep), age(ep, now)],
  },
  Deployment: {
    columns: [
      NAME,
      { name: 'Ready', description: 'Number of the pod with ready state.' },
      {
        name: 'Up-to-date',
        type: 'integer',
        description:
          'Total number of non-terminated pods targeted by this deployment that have the desired template spec.',
      },
      {
        name: 'Available',
        type: 'integer',
        description:
          'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.',
      },
      AGE,
      ...WORKLOAD_WIDE,
    ],
    cells(d, now) {
      const s = statusOf(d);
      const want = typeof specOf(d).replicas === 'number' ? Number(specOf(d).replicas) : 1;
      return [
        d.metadata.name,
        `${Number(s.readyReplicas ?? 0)}/${want}`,
        Number(s.updatedReplicas ?? 0),
        Number(s.availableReplicas ?? 0),
        age(d, now),
        ...workloadWide(d),
      ];
    },
  },
  ReplicaSet: {
    columns: [
      NAME,
      { name: 'Desired', type: 'integer' },
      { name: 'Current', type: 'integer' },
      { name: 'Ready', type: 'integer' },
      AGE,
      ...WORKLOAD_WIDE,
    ],
    cells(rs, now) {
      const s = statusOf(rs);
      return [
        rs.metadata.name,
        Number(specOf(rs).replicas ?? 1),
        Number(s.replicas ?? 0),
        Number(s.readyReplicas ?? 0),
        age(rs, now),
        ...workloadWide(rs),
      ];
    },
  },
  StatefulSet: {
    columns: [NAME, { name: 'Ready' }, AGE, ...WORKLOAD_WIDE.slice(0, 2)],
    cells(ss, now) {
      const s = statusOf(ss);
      return [
        ss.metadata.name,
        `${Number(s.readyReplicas ?? 0)}/${Number(specOf(ss).replicas ?? 1)}`,
        age(ss, now),
        ...workloadWide(ss).slice(0, 2),
      ];
    },
  },
  DaemonSet: {
    columns: [
      NAME,
      { name: 'Desired', type: 'integer' },
      { name: 'Current', type: 'integer' },
      { name: 'Ready', type: 'integer' },
      { name: 'Up-to-date', type: 'integer' },
      { name: 'Available', type: 'integer' },
      { name: 'Node Selector' },
      AGE,
      ...WORKLOAD_WIDE,
    ],
    cells(ds, now) {
      const s = statusOf(ds);
      const nodeSelector = asRecord(templateSpec(ds).nodeSelector);
      return [
        ds.metadata.name,
        Number(s.desiredNumberScheduled ?? 0),
        Number(s.currentNumberScheduled ?? 0),
        Number(s.numberReady ?? 0),
        Number(s.updatedNumberScheduled ?? 0),
        Number(s.numberAvailable ?? 0),
        nodeSelector
          ? Object.entries(nodeSelector)
              .map(([k, v]) => `${k}=${String(v)}`)
              .join(',')
          : '<none>',
        age(ds, now),
        ...workloadWide(ds),
      ];
    },
  },
  NetworkPolicy: {
    columns: [NAME, { name: 'Pod-Selector', description: 'Pod selector of the network policy.' }, AGE],
    cells: (np, now) => [np.metadata.name, selectorText(specOf(np).podSelector), age(np, now)],
  },
  Namespace: {
    columns: [NAME, { name: 'Status', description: 'The status of the namespace' }, AGE],
    cells: (ns, now) => [ns.metadata.name, str(statusOf(ns).phase, 'Active'), age(ns, now)],
  },
  Node: {
    columns: [
      NAME,
      { name: 'Status' },
      { name: 'Roles' },
      AGE,
      { name: 'Version' },
      { name: 'Internal-IP', priority: 1 },
      { name: 'External-IP', priority: 1 },
      { name: 'OS-Image', priority: 1 },
      { name: 'Kernel-Version', priority: 1 },
      { name: 'Container-Runtime', priority: 1 },
    ],
    cells(node, now) {
      const s = statusOf(node);
      const ready = asArray(s.conditions).some(
        (c) => asRecord(c)?.type === 'Ready' && asRecord(c)?.status === 'True',
      );
      const roles = Object.keys(node.metadata.labels ?? {})
        .filter((k) => k.startsWith('node-role.kubernetes.io/'))
        .map((k) => k.slice('node-role.kubernetes.io/'.length));
      const info = asRecord(s.nodeInfo) ?? {};
      const internal = asArray(s.addresses)
        .map((a) => asRecord(a) ?? {})
        .find((a) => a.type === 'InternalIP')?.address;
      return [
        node.metadata.name,
        ready ? 'Ready' : 'NotReady',
        roles.length > 0 ? roles.join(',') : '<none>',
        age(node, now),
        str(info.kubeletVersion),
        str(internal),
        '<none>',
        str(info.osImage),
        str(info.kernelVersion),
        str(info.containerRuntimeVersion),
      ];
    },
  },
  ConfigMap: {
    columns: [NAME, { name: 'Data', type: 'integer' }, AGE],
    cells: (cm, now) => [
      cm.metadata.name,
      Object.keys(asRecord(cm.data) ?? {}).length + Object.keys(asRecord(cm.binaryData) ?? {}).length,
      age(cm, now),
    ],
  },
  Secret: {
    columns: [NAME, { name: 'Type' }, { name: 'Data', type: 'integer' }, AGE],
    cells: (s, now) => [
      s.metadata.name,
      str(s.type, 'Opaque'),
      Object.keys(asRecord(s.data) ?? {}).length,
      age(s, now),
    ],
  },
  ServiceAccount: {
    columns: [NAME, { name: 'Secrets', type: 'integer' }, AGE],
    cells: (sa, now) => [sa.metadata.name, asArray(sa.secrets).length, age(sa, now)],
  },
};

const DEFAULT_PRINTER: Printer = {
  columns: [NAME, { name: 'Created At', type: 'date', description: AGE.description }],
  cells: (obj) => [obj.metadata.name, String(obj.metadata.creationTimestamp ?? '')],
};

export function table(
  kind: string,
  objects: KubeObject[],
  opts: { now: Date; resourceVersion: string; includeObject: 'Metadata' | 'Object' | 'None' },
): Json {
  const printer = PRINTERS[kind] ?? DEFAULT_PRINTER;
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion: opts.resourceVersion },
    columnDefinitions: printer.columns.map((c) => ({
      name: c.name,
      type: c.type ?? 'string',
      format: c.format ?? '',
      description: c.description ?? '',
      priority: c.priority ?? 0,
    })),
    rows: objects.map((obj) => ({
      cells: printer.cells(obj, opts.now),
      ...(opts.includeObject === 'None'
        ? {}
        : {
            object:
              opts.includeObject === 'Object'
                ? obj
                : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata },
          }),
    })),
  };
}
