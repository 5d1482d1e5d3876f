/**
 * Pod Security admission in the simulated API server, decided by server/podsecurity from the
 * namespace's labels exactly as the API server's PodSecurity plugin does:
 * - a Pod (created by a user or by a controller) that violates the enforce level is refused with
 *   403 Forbidden and the API server's message;
 * - a Pod or a workload's pod template that violates the warn level gets a `Warning:` line
 *   (workloads are never refused: their pods meet enforce when the controller creates them);
 * - a namespace whose enforce level is changed warns about the existing pods that violate it.
 * Audit annotations go to the audit log, which the simulation does not keep.
 */
import type { KubeObject } from '../types.js';
import {
  admit,
  hasPodSpec,
  LABEL_PREFIX,
  policyFromLabels,
  POD_SPEC_LOCATIONS,
  readPodSpec,
  formatLevelVersion,
  type AdmissionVerdict,
  type NamespacePolicy,
} from '../../podsecurity/index.js';
import { asRecord, controllerOf, getObject, listObjects, type Json, type SimState } from './state.js';

/** The Pod Security policy of a namespace, from its labels (absent labels: privileged). */
export function namespacePolicy(labels: Record<string, string>): NamespacePolicy {
  return policyFromLabels(labels).policy;
}

function labelsOfNamespace(
  state: SimState,
  namespace: string,
  pending?: Map<string, Json>,
): Record<string, string> {
  const fromBatch = pending?.get(namespace);
  const ns =
    fromBatch ?? (getObject(state, 'Namespace', undefined, namespace) as unknown as Json | undefined);
  const labels = asRecord(asRecord(ns?.metadata)?.labels) ?? {};
  return Object.fromEntries(
    Object.entries(labels).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
}

/**
 * The verdict for one object that carries a pod spec (undefined for other kinds). `pending`
 * holds Namespaces of the same batch, which the API server would have stored first.
 */
export function admissionVerdict(
  state: SimState,
  obj: Json,
  pending?: Map<string, Json>,
): AdmissionVerdict | undefined {
  const kind = obj.kind;
  if (typeof kind !== 'string' || !hasPodSpec(kind)) return undefined;
  const meta = asRecord(obj.metadata) ?? {};
  const namespace = typeof meta.namespace === 'string' ? meta.namespace : 'default';
  const name = typeof meta.name === 'string' ? meta.name : String(meta.generateName ?? '');
  const where = POD_SPEC_LOCATIONS[kind]!;
  const { pod } = readPodSpec(obj, where.metadata, where.spec);
  return admit({ kind, name, namespace, pod }, namespacePolicy(labelsOfNamespace(state, namespace, pending)));
}

/** The 403 message for a pod a controller (or a user) may not create, or undefined when admitted. */
export function podRejection(
  state: SimState,
  namespace: string,
  name: string,
  labels: Record<string, string>,
  annotations: Record<string, string>,
  spec: Json,
): string | undefined {
  const verdict = admissionVerdict(state, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels, annotations },
    spec,
  });
  return verdict && !verdict.admitted ? verdict.error : undefined;
}

/**
 * What the API server says when a namespace's enforce level changes: every existing pod that
 * violates the new level, grouped by the reasons (pods are not evicted; new ones would be refused).
 */
export function relabelWarnings(state: SimState, before: Json | undefined, after: Json): string[] {
  const labelsIn = (o: Json | undefined) =>
    Object.fromEntries(
      Object.entries(asRecord(asRecord(o?.metadata)?.labels) ?? {}).filter(
        (e): e is [string, string] => typeof e[1] === 'string',
      ),
    );
  if (!before) return [];
  const name = String(asRecord(after.metadata)?.name ?? '');
  const oldPolicy = namespacePolicy(labelsIn(before));
  const newLabels = labelsIn(after);
  const newPolicy = namespacePolicy(newLabels);
  const changed =
    formatLevelVersion(oldPolicy.enforce) !== formatLevelVersion(newPolicy.enforce) ||
    Object.keys(newLabels).some((k) => k.startsWith(LABEL_PREFIX) && labelsIn(before)[k] !== newLabels[k]);
  if (!changed || newPolicy.enforce.level === 'privileged') return [];
  const groups = new Map<string, string[]>();
  for (const pod of listObjects(state, 'Pod', name)) {
    const where = POD_SPEC_LOCATIONS.Pod!;
    const { pod: model } = readPodSpec(pod as unknown as Json, where.metadata, where.spec);
    const verdict = admit({ kind: 'Pod', name: pod.metadata.name, namespace: name, pod: model }, newPolicy);
    if (verdict.enforce.allowed) continue;
    const reasons = verdict.enforce.violations.map((v) => v.reason).join(', ');
    const list = groups.get(reasons) ?? [];
    list.push(pod.metadata.name);
    groups.set(reasons, list);
  }
  if (groups.size === 0) return [];
  const out = [
    `existing pods in namespace "${name}" violate the new PodSecurity enforce level "${formatLevelVersion(newPolicy.enforce)}"`,
  ];
  for (const [reasons, pods] of groups) {
    const others = pods.length - 1;
    out.push(
      `${pods[0]}${others > 0 ? ` (and ${others} other pod${others === 1 ? '' : 's'})` : ''}: ${reasons}`,
    );
  }
  return out;
}

/** `Deployment web` for a pod's controller chain, to say who created a refused pod. */
export function ownerText(obj: KubeObject): string {
  const owner = controllerOf(obj);
  return owner ? `${owner.kind} ${owner.name}` : `${obj.kind} ${obj.metadata.name}`;
}
