/**
 * Loading and validating scenarios/<name>/: scenario.yaml plus plain Kubernetes manifests. Besides
 * the schema, the manifests are read and summarised (workloads with their labels and ports,
 * Services), so a lab's checks can be validated against what the scenario really runs.
 */
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Problem } from '../errors.js';
import { isRecord, problemAt, type LoadedDocument, type SourceRef } from '../manifests/load.js';
import type { Protocol } from '../netpol/types.js';
import type { Scenario } from './model.js';
import { fileKind, insideFolder, isNamespaced, kubeObjectsOf, readYamlFile, type CheckedObject } from './files.js';
import { problemIn as at, zodProblems } from './problems.js';
import { ID_PATTERN, scenarioFileSchema } from './schema.js';
import { matchesSelector } from '../netpol/index.js';

export const SCENARIO_FILE = 'scenario.yaml';

export interface PortInfo {
  name?: string;
  port: number;
  protocol: Protocol;
}

/** A pod template (or bare Pod) the scenario runs. */
export interface WorkloadInfo {
  kind: string;
  name: string;
  namespace: string;
  labels: Record<string, string>;
  ports: PortInfo[];
}

export interface ServiceInfo {
  name: string;
  namespace: string;
  ports: PortInfo[];
}

export interface ScenarioInventory {
  workloads: WorkloadInfo[];
  services: ServiceInfo[];
}

export interface ScenarioInspection {
  /** False when the folder or its scenario.yaml does not exist. */
  found: boolean;
  file: string;
  /** Set when scenario.yaml itself is valid (manifests may still have problems). */
  scenario?: Scenario;
  inventory: ScenarioInventory;
  problems: Problem[];
  /** A manifest could not be read, so the inventory misses objects: comparing a lab with it would mislead. */
  unreadableManifests?: boolean;
}

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']);

export async function inspectScenario(name: string, root: string): Promise<ScenarioInspection> {
  const dir = join(root, name);
  const file = join(dir, SCENARIO_FILE);
  const inventory: ScenarioInventory = { workloads: [], services: [] };
  const result: ScenarioInspection = { found: false, file, inventory, problems: [] };
  if (!ID_PATTERN.test(name) || (await fileKind(file)) !== 'file') return result;
  result.found = true;

  const read = await readYamlFile(file);
  result.problems.push(...read.problems);
  if (read.problems.length > 0) return result;
  const doc = singleDocument(read.docs, file, result.problems);
  if (!doc) return result;
  const parsed = scenarioFileSchema.safeParse(doc.value);
  if (!parsed.success) {
    result.problems.push(...zodProblems(parsed.error.issues, doc));
    return result;
  }
  const data = parsed.data;
  if (data.name !== basename(dir)) {
    result.problems.push(at(doc, ['name'], `must be "${basename(dir)}", the name of the scenario's folder`));
  }

  const manifests: string[] = [];
  if (data.manifests) {
    for (const [i, rel] of data.manifests.entries()) {
      const { path, escapes } = await insideFolder(dir, rel);
      if (escapes) result.problems.push(at(doc, ['manifests', i], `${rel} is outside the scenario folder`));
      else if ((await fileKind(path)) !== 'file') result.problems.push(at(doc, ['manifests', i], `file not found: ${path}`));
      else manifests.push(path);
    }
  } else {
    const names = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name) && e.name !== SCENARIO_FILE)
      .map((e) => e.name)
      .sort();
    if (names.length === 0) {
      result.problems.push({ file, message: `no manifests: put *.yaml files next to ${SCENARIO_FILE} or list them under manifests` });
    }
    manifests.push(...names.map((n) => join(dir, n)));
  }

  const namespaces = new Set(data.namespaces);
  const seen = new Map<string, SourceRef>();
  const serviceSelectors: ServiceSelector[] = [];
  for (const manifest of manifests) {
    const m = await readYamlFile(manifest);
    result.problems.push(...m.problems);
    if (m.problems.length > 0) result.unreadableManifests = true;
    const { objects, problems } = kubeObjectsOf(m.docs);
    result.problems.push(...problems);
    for (const obj of objects) {
      result.problems.push(...checkScenarioObject(obj, namespaces, seen));
      collect(obj, inventory, serviceSelectors);
    }
  }
  // Checked once every workload is known: a Service may come before its Deployment.
  for (const { svc, labels, loaded } of serviceSelectors) {
    const matches = inventory.workloads.some(
      (w) => w.namespace === svc.namespace && matchesSelector({ matchLabels: labels }, w.labels),
    );
    if (!matches) result.problems.push(problemAt(loaded, ['spec', 'selector'], `selects no pod of the scenario in ${svc.namespace}`));
  }

  result.scenario = {
    name: data.name,
    description: data.description,
    namespaces: data.namespaces,
    externalHosts: data.externalHosts.map((h) => ({ name: h.name, ip: h.ip, ports: h.ports })),
    dir,
    manifests,
  };
  return result;
}

function checkScenarioObject(obj: CheckedObject, namespaces: Set<string>, seen: Map<string, SourceRef>): Problem[] {
  const problems: Problem[] = [];
  const { kind, metadata } = obj.object;
  const listed = [...namespaces].join(', ');
  if (kind === 'Namespace' && !namespaces.has(metadata.name)) {
    problems.push(
      problemAt(obj.loaded, ['metadata', 'name'], `namespace ${metadata.name} is not listed under namespaces in ${SCENARIO_FILE}`),
    );
  }
  if (isNamespaced(kind)) {
    if (metadata.namespace === undefined) {
      problems.push(
        problemAt(obj.loaded, ['metadata'], `${kind} ${metadata.name} needs metadata.namespace (one of ${listed}), or it lands in whatever namespace is current`),
      );
    } else if (!namespaces.has(metadata.namespace)) {
      problems.push(
        problemAt(obj.loaded, ['metadata', 'namespace'], `${metadata.namespace} is not a namespace this scenario creates (${listed})`),
      );
    }
  }
  const key = `${kind}/${metadata.namespace ?? ''}/${metadata.name}`;
  // The line is asked for only when there is a duplicate: finding it may take a second parse.
  const earlier = seen.get(key);
  if (earlier) problems.push(problemAt(obj.loaded, ['metadata', 'name'], `${kind} ${metadata.name} is defined twice (also at ${earlier.file}:${earlier.line})`));
  else seen.set(key, obj.loaded.doc.source);

  if (WORKLOAD_KINDS.has(kind)) {
    const spec = isRecord(obj.object.spec) ? obj.object.spec : {};
    const template = isRecord(spec.template) ? spec.template : undefined;
    const labels = template && isRecord(template.metadata) ? stringRecord(template.metadata.labels) : {};
    if (!template) problems.push(problemAt(obj.loaded, ['spec', 'template'], 'is required'));
    const selector = isRecord(spec.selector) ? spec.selector : undefined;
    if (selector && isRecord(selector.matchLabels)) {
      if (!matchesSelector({ matchLabels: stringRecord(selector.matchLabels) }, labels)) {
        problems.push(
          problemAt(obj.loaded, ['spec', 'selector', 'matchLabels'], 'does not match spec.template.metadata.labels (the API server would refuse this)'),
        );
      }
    }
  }
  return problems;
}

interface ServiceSelector {
  svc: ServiceInfo;
  labels: Record<string, string>;
  loaded: CheckedObject['loaded'];
}

function collect(obj: CheckedObject, inventory: ScenarioInventory, serviceSelectors: ServiceSelector[]): void {
  const o = obj.object;
  const namespace = o.metadata.namespace;
  if (namespace === undefined) return;
  const spec = isRecord(o.spec) ? o.spec : {};
  if (o.kind === 'Pod') {
    inventory.workloads.push({ kind: 'Pod', name: o.metadata.name, namespace, labels: stringRecord(o.metadata.labels), ports: containerPorts(spec) });
  } else if (WORKLOAD_KINDS.has(o.kind) && isRecord(spec.template)) {
    const t = spec.template;
    inventory.workloads.push({
      kind: o.kind,
      name: o.metadata.name,
      namespace,
      labels: isRecord(t.metadata) ? stringRecord(t.metadata.labels) : {},
      ports: containerPorts(isRecord(t.spec) ? t.spec : {}),
    });
  } else if (o.kind === 'Service') {
    const ports: PortInfo[] = (Array.isArray(spec.ports) ? spec.ports : []).filter(isRecord).flatMap((p) =>
      typeof p.port === 'number'
        ? [{ ...(typeof p.name === 'string' ? { name: p.name } : {}), port: p.port, protocol: protocolOf(p.protocol) }]
        : [],
    );
    const svc: ServiceInfo = { name: o.metadata.name, namespace, ports };
    inventory.services.push(svc);
    if (isRecord(spec.selector)) serviceSelectors.push({ svc, labels: stringRecord(spec.selector), loaded: obj.loaded });
  }
}

function containerPorts(podSpec: Record<string, unknown>): PortInfo[] {
  const containers = [podSpec.containers, podSpec.initContainers].flatMap((c) => (Array.isArray(c) ? c : []));
  return containers
    .filter(isRecord)
    .flatMap((c) => (Array.isArray(c.ports) ? c.ports : []))
    .filter(isRecord)
    .flatMap((p) =>
      typeof p.containerPort === 'number'
        ? [{ ...(typeof p.name === 'string' ? { name: p.name } : {}), port: p.containerPort, protocol: protocolOf(p.protocol) }]
        : [],
    );
}

function protocolOf(v: unknown): Protocol {
  return v === 'UDP' || v === 'SCTP' ? v : 'TCP';
}

function stringRecord(v: unknown): Record<string, string> {
  if (!isRecord(v)) return {};
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return out;
}

export function singleDocument(docs: LoadedDocument[], file: string, problems: Problem[]): LoadedDocument | undefined {
  if (docs.length === 0) {
    problems.push({ file, line: 1, message: 'is empty' });
    return undefined;
  }
  if (docs.length > 1) {
    problems.push({ ...docs[1]!.source, message: 'must hold one YAML document (remove the extra ---)' });
    return undefined;
  }
  const doc = docs[0]!;
  if (!isRecord(doc.value)) {
    problems.push({ ...doc.source, message: 'must be a mapping (key: value lines)' });
    return undefined;
  }
  return doc;
}
