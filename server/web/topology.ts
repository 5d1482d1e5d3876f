/**
 * The picture of a scenario: for each namespace, its workloads (with pod labels, replicas and
 * ports) and Services, and which pods the lab's checks are about. Drawn as HTML boxes by the view.
 */
import type { KubeObject } from '../cluster/types.js';
import type { Lab } from '../labs/model.js';
import { isRecord } from '../manifests/load.js';
import { matchesSelector } from '../selectors/index.js';

export interface TopologyWorkload {
  kind: string;
  name: string;
  labels: Record<string, string>;
  replicas: number;
  ports: string[];
  /** The pods the learner's policy is about (sources of the lab's checks). */
  subject: boolean;
}

export interface TopologyService {
  name: string;
  selector: Record<string, string>;
  ports: string[];
}

export interface TopologyNamespace {
  name: string;
  workloads: TopologyWorkload[];
  services: TopologyService[];
  /** Shown instead of contents, e.g. for the cluster DNS the simulator always provides. */
  note?: string;
}

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Pod']);

export function buildTopology(objects: KubeObject[], lab: Lab): TopologyNamespace[] {
  const byName = new Map<string, TopologyNamespace>();
  const ns = (name: string): TopologyNamespace => {
    let entry = byName.get(name);
    if (!entry) {
      entry = { name, workloads: [], services: [] };
      byName.set(name, entry);
    }
    return entry;
  };
  // The pods the learner's policy must select; labs without a policy check: the probe sources.
  const policySubjects = lab.checks.flatMap((c) =>
    c.kind === 'policy' && c.selects ? [{ namespace: c.namespace, podSelector: c.selects }] : [],
  );
  const subjects =
    policySubjects.length > 0
      ? policySubjects
      : lab.checks.flatMap((c) => (c.kind === 'connectivity' || c.kind === 'dns' ? [c.from] : []));
  for (const o of objects) {
    const namespace = o.metadata.namespace ?? (o.kind === 'Namespace' ? o.metadata.name : 'default');
    if (o.kind === 'Namespace') ns(o.metadata.name);
    else if (WORKLOAD_KINDS.has(o.kind)) {
      const labels = podLabels(o);
      ns(namespace).workloads.push({
        kind: o.kind,
        name: o.metadata.name,
        labels,
        replicas: replicasOf(o),
        ports: containerPorts(o),
        subject: subjects.some((s) => s.namespace === namespace && matchesSelector(s.podSelector, labels)),
      });
    } else if (o.kind === 'Service') {
      const spec = isRecord(o.spec) ? o.spec : {};
      ns(namespace).services.push({
        name: o.metadata.name,
        selector: stringMap(spec.selector),
        ports: (Array.isArray(spec.ports) ? spec.ports : []).filter(isRecord).map((p) => {
          const target =
            p.targetPort !== undefined && p.targetPort !== p.port ? ` -> ${String(p.targetPort)}` : '';
          return `${String(p.port)}/${typeof p.protocol === 'string' ? p.protocol : 'TCP'}${target}`;
        }),
      });
    }
  }
  if (!byName.has('kube-system')) {
    ns('kube-system').note =
      'Cluster DNS: CoreDNS pods (k8s-app: kube-dns) behind the kube-dns Service, UDP and TCP 53.';
  }
  const lead = lab.namespace;
  return [...byName.values()].sort((a, b) =>
    a.name === lead
      ? -1
      : b.name === lead
        ? 1
        : a.name === 'kube-system'
          ? 1
          : b.name === 'kube-system'
            ? -1
            : a.name.localeCompare(b.name),
  );
}

function podLabels(o: KubeObject): Record<string, string> {
  if (o.kind === 'Pod') return stringMap(o.metadata.labels);
  const spec = isRecord(o.spec) ? o.spec : {};
  const template = isRecord(spec.template) ? spec.template : {};
  return stringMap(isRecord(template.metadata) ? template.metadata.labels : undefined);
}

function podSpec(o: KubeObject): Record<string, unknown> {
  const spec = isRecord(o.spec) ? o.spec : {};
  if (o.kind === 'Pod') return spec;
  const template = isRecord(spec.template) ? spec.template : {};
  return isRecord(template.spec) ? template.spec : {};
}

function replicasOf(o: KubeObject): number {
  if (o.kind === 'Pod') return 1;
  const spec = isRecord(o.spec) ? o.spec : {};
  return typeof spec.replicas === 'number' ? spec.replicas : 1;
}

function containerPorts(o: KubeObject): string[] {
  const containers = podSpec(o).containers;
  const out: string[] = [];
  for (const c of Array.isArray(containers) ? containers : []) {
    if (!isRecord(c) || !Array.isArray(c.ports)) continue;
    for (const p of c.ports) {
      if (!isRecord(p)) continue;
      const proto = typeof p.protocol === 'string' ? p.protocol : 'TCP';
      out.push(`${String(p.containerPort)}/${proto}${typeof p.name === 'string' ? ` (${p.name})` : ''}`);
    }
  }
  return out;
}

function stringMap(v: unknown): Record<string, string> {
  if (!isRecord(v)) return {};
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return out;
}
