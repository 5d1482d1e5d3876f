/**
 * The scenario's objects belong to the scenario. A learner's submission may add objects but never
 * replace or delete one the scenario ships; and before grading, the live cluster is compared with
 * the scenario's manifests, so a scenario policy that was edited, a namespace relabelled or a pod
 * relabelled (with kubectl, on a real cluster) is reported as such instead of being graded as if
 * it were the scenario.
 */
import type { KubeObject } from '../cluster/types.js';
import { badInput } from '../errors.js';
import { readScenarioObjects } from '../labs/index.js';
import type { Lab, Scenario } from '../labs/model.js';
import { isRecord } from '../manifests/load.js';
import { buildNetworkModel, effectivePolicyTypes, validateNetworkPolicy } from '../netpol/index.js';
import type { NetworkPolicyModel } from '../netpol/types.js';
import type { CheckResult } from './report.js';
import { labelsOf, servicePorts, serviceSelector, type Snapshot } from './snapshot.js';

const loaded = new WeakMap<Scenario, Promise<KubeObject[]>>();

/** The scenario's objects, read once per loaded Scenario (a reloaded scenario is a new object). */
export function scenarioObjects(scenario: Scenario): Promise<KubeObject[]> {
  let objects = loaded.get(scenario);
  if (!objects) {
    objects = readScenarioObjects(scenario);
    loaded.set(scenario, objects);
    objects.catch(() => loaded.delete(scenario));
  }
  return objects;
}

const key = (o: { kind: string; metadata: { name: string; namespace?: string | undefined } }) =>
  `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** Refuses a submission that would replace an object the scenario ships. */
export function guardScenarioObjects(submitted: KubeObject[], scenario: KubeObject[], lab: Lab): void {
  const mayChange = new Set(changeableKeys(lab));
  const owned = new Set(scenario.map(key).filter((k) => !mayChange.has(k)));
  const clashes = submitted.filter((o) => owned.has(key(o)));
  if (clashes.length === 0) return;
  const names = clashes.map(
    (o) => `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`,
  );
  throw badInput(
    `${names.join(', ')} ${clashes.length === 1 ? 'belongs' : 'belong'} to the scenario of lab ${lab.id} and cannot be changed or replaced.`,
    [],
    clashes.some((o) => o.kind === 'NetworkPolicy')
      ? "Give your NetworkPolicy another name: policies add up, so a new one can allow more but the scenario's stays as it is."
      : "Leave the scenario's objects as they are and add your own.",
  );
}

/** `kind/namespace/name` of each scenario object the lab lets the learner change. */
function changeableKeys(lab: Lab): string[] {
  return (lab.changeable ?? []).map((c) => `${c.kind}/${c.namespace ?? ''}/${c.name}`);
}

const POD_SECURITY_LABEL = /^pod-security\.kubernetes\.io\//;

/**
 * What a workload runs, which no fix of its security settings may change: replicas, selector,
 * the pod template's labels and each container's name, image, command, args and ports. Defaults
 * an API server adds (a port's protocol) are filled in, so a live object compares with its file.
 */
export function workloadRuns(obj: KubeObject): string {
  const spec = isRecord(obj.spec) ? obj.spec : {};
  const template =
    obj.kind === 'Pod' ? { metadata: obj.metadata, spec } : isRecord(spec.template) ? spec.template : {};
  const tmeta = isRecord(template.metadata) ? template.metadata : {};
  const tspec = isRecord(template.spec) ? template.spec : {};
  const containers = (list: unknown) =>
    (Array.isArray(list) ? list : []).filter(isRecord).map((c) => ({
      name: c.name,
      image: c.image,
      command: c.command ?? [],
      args: c.args ?? [],
      ports: (Array.isArray(c.ports) ? c.ports : []).filter(isRecord).map((p) => ({
        containerPort: p.containerPort,
        name: p.name ?? null,
        protocol: p.protocol ?? 'TCP',
      })),
    }));
  return JSON.stringify({
    replicas: obj.kind === 'Pod' || obj.kind === 'DaemonSet' ? null : (spec.replicas ?? 1),
    selector: spec.selector ?? null,
    labels: Object.entries(isRecord(tmeta.labels) ? tmeta.labels : {}).sort(),
    containers: containers(tspec.containers),
    initContainers: containers(tspec.initContainers),
  });
}

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

/** Keys the controllers add to pods; anything else on a scenario pod must come from its template. */
const CONTROLLER_LABELS = new Set([
  'pod-template-hash',
  'controller-revision-hash',
  'statefulset.kubernetes.io/pod-name',
  'apps.kubernetes.io/pod-index',
  'batch.kubernetes.io/controller-uid',
  'batch.kubernetes.io/job-name',
  'controller-uid',
  'job-name',
]);

/**
 * Compares the live cluster with the scenario: every scenario NetworkPolicy present with the same
 * meaning, every scenario namespace with the same labels, every scenario Service with the same
 * selector and ports, every scenario pod carrying exactly its template's labels.
 */
export function scenarioIntactCheck(snapshot: Snapshot, scenario: KubeObject[], lab: Lab): CheckResult {
  const problems: string[] = [];
  const fix = `restore it (kubelab lab reset ${lab.id} redeploys the scenario)`;
  const mayChange = new Set(changeableKeys(lab));
  for (const obj of scenario) {
    const ns = obj.metadata.namespace;
    const name = obj.metadata.name;
    const changeable = mayChange.has(key(obj));
    if (WORKLOADS.has(obj.kind) && snapshot.workloads) {
      // The learner may fix a workload's settings, never what it runs or how many of it.
      const live = snapshot.workloads.find(
        (w) => w.kind === obj.kind && w.metadata.namespace === ns && w.metadata.name === name,
      );
      if (!live) problems.push(`the scenario's ${obj.kind} ${ns}/${name} was deleted: ${fix}.`);
      else if (workloadRuns(live) !== workloadRuns(obj))
        problems.push(
          `the scenario's ${obj.kind} ${ns}/${name} runs something else now (replicas, labels, images, commands or ports changed)${changeable ? '; change only what the task asks' : ''}: ${fix}.`,
        );
      continue;
    }
    if (obj.kind === 'NetworkPolicy') {
      const live = snapshot.policies.find((p) => p.metadata.namespace === ns && p.metadata.name === name);
      if (!live) problems.push(`the scenario's NetworkPolicy ${ns}/${name} was deleted: ${fix}.`);
      else if (!samePolicy(obj, live))
        problems.push(`the scenario's NetworkPolicy ${ns}/${name} was changed: ${fix}.`);
    } else if (obj.kind === 'Namespace') {
      const live = snapshot.namespaces.find((n) => n.metadata.name === name);
      const strip = (l: Record<string, string>) =>
        JSON.stringify(
          Object.entries(l)
            .filter(([k]) => k !== 'kubernetes.io/metadata.name')
            .sort(),
        );
      // A namespace the learner labels for Pod Security keeps its other labels.
      const keep = (l: Record<string, string>) =>
        changeable ? Object.fromEntries(Object.entries(l).filter(([k]) => !POD_SECURITY_LABEL.test(k))) : l;
      if (live && strip(keep(labelsOf(live))) !== strip(keep(labelsOf(obj))))
        problems.push(
          `the labels of namespace ${name} were changed (the scenario gives it ${strip(labelsOf(obj))}): ${fix}.`,
        );
    } else if (obj.kind === 'Service' && !changeable) {
      const live = snapshot.services.find((s) => s.metadata.namespace === ns && s.metadata.name === name);
      const portsOf = (s: KubeObject) =>
        JSON.stringify(servicePorts(s).map((p) => [p.port, p.protocol, p.targetPort]));
      if (
        live &&
        (JSON.stringify(serviceSelector(live)) !== JSON.stringify(serviceSelector(obj)) ||
          portsOf(live) !== portsOf(obj))
      )
        problems.push(`the scenario's Service ${ns}/${name} was changed: ${fix}.`);
    }
  }
  problems.push(...relabelledPods(snapshot, scenario, fix));
  return {
    id: 'scenario-intact',
    title: "The scenario's own objects are as the scenario ships them",
    kind: 'scenario',
    status: problems.length > 0 ? 'fail' : 'pass',
    messages: problems.length > 0 ? problems : ['every object of the scenario is as shipped.'],
    probes: [],
  };
}

function samePolicy(a: KubeObject, b: KubeObject): boolean {
  const pa = validateNetworkPolicy(a, a.metadata.namespace).policy;
  const pb = validateNetworkPolicy(b, b.metadata.namespace).policy;
  if (!pa || !pb) return false;
  return canonical(pa) === canonical(pb);
}

/** The policy's meaning in a form where defaults are filled in (an API server adds them). */
function canonical(p: NetworkPolicyModel): string {
  const types = effectivePolicyTypes(p.spec);
  const ports = (list: unknown[] | undefined) =>
    list?.map((x) => (isRecord(x) ? { ...x, protocol: x.protocol ?? 'TCP' } : x));
  const rules = (list: Array<{ ports?: unknown[] }> | undefined) =>
    (list ?? []).map((r) => ({ ...r, ports: ports(r.ports) ?? [] }));
  return JSON.stringify({
    podSelector: p.spec.podSelector,
    types,
    ingress: types.ingress ? rules(p.spec.ingress) : [],
    egress: types.egress ? rules(p.spec.egress) : [],
  });
}

interface PodTemplate {
  namespace: string;
  /** The workload's (or bare pod's) name: its pods are named so, or so plus `-suffix`. */
  name: string;
  /** Its pods' labels (controllers' own labels aside), as sorted entries in JSON. */
  labels: string;
}

const sortedLabels = (labels: Record<string, string>) => JSON.stringify(Object.entries(labels).sort());

/** Per scenario object list (read once per scenario): every grade compares pods with it. */
const templatesOf = new WeakMap<KubeObject[], PodTemplate[]>();

/** The pods the scenario's workloads make, with the labels of their templates; longest names first. */
function podTemplates(scenario: KubeObject[]): PodTemplate[] {
  let templates = templatesOf.get(scenario);
  if (templates) return templates;
  const { model } = buildNetworkModel(scenario);
  const byKey = new Map<string, PodTemplate>();
  const add = (namespace: string, name: string, labels: Record<string, string>) =>
    byKey.set(`${namespace}/${name}`, { namespace, name, labels: sortedLabels(labels) });
  for (const pod of model.pods) add(pod.namespace, pod.name.replace(/-\d+$/, ''), pod.labels);
  for (const obj of scenario)
    if (obj.kind === 'Pod') add(obj.metadata.namespace ?? '', obj.metadata.name, labelsOf(obj));
  // The longest matching name wins, so `web-api-...` belongs to web-api and not to web.
  templates = [...byKey.values()].sort(
    (a, b) => b.namespace.length + b.name.length - (a.namespace.length + a.name.length),
  );
  templatesOf.set(scenario, templates);
  return templates;
}

function relabelledPods(snapshot: Snapshot, scenario: KubeObject[], fix: string): string[] {
  const templates = podTemplates(scenario);
  const out: string[] = [];
  for (const pod of snapshot.pods) {
    const ns = pod.metadata.namespace ?? '';
    const name = pod.metadata.name;
    // A pod of workload W is named W-<hash>-<suffix> (Deployment), W-<n> (StatefulSet) or W.
    const owner = templates.find(
      (t) => t.namespace === ns && (name === t.name || name.startsWith(`${t.name}-`)),
    );
    if (!owner) continue;
    const have = Object.fromEntries(Object.entries(labelsOf(pod)).filter(([k]) => !CONTROLLER_LABELS.has(k)));
    if (sortedLabels(have) !== owner.labels)
      out.push(`the labels of pod ${ns}/${name} were changed: ${fix}.`);
  }
  return out;
}
