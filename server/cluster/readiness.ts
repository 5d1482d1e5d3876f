/**
 * Reading readiness from wire-shape objects: pods, workloads, nodes, and the Calico install.
 * Pure functions over what the API server returns, so the real waits are tested with fixtures.
 */
import { isRecord } from '../manifests/load.js';
import type { KubeObject, ReadyReport } from './types.js';

function field(o: unknown, ...path: string[]): unknown {
  let cur = o;
  for (const key of path) {
    if (!isRecord(cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const ref = (o: KubeObject) => `${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;

function conditionTrue(o: unknown, type: string): boolean {
  const conditions = field(o, 'status', 'conditions');
  return (
    Array.isArray(conditions) && conditions.some((c) => isRecord(c) && c.type === type && c.status === 'True')
  );
}

export function podIsReady(pod: KubeObject): boolean {
  return field(pod, 'metadata', 'deletionTimestamp') === undefined && conditionTrue(pod, 'Ready');
}

/** Completed pods (Jobs) are never going to be Ready and are not waited for. */
export const podIsFinished = (pod: KubeObject): boolean =>
  ['Succeeded', 'Failed'].includes(String(field(pod, 'status', 'phase')));

/** Why a pod is not ready, as specific as the status allows: `ImagePullBackOff: Back-off pulling image "x"`. */
export function podProblem(pod: KubeObject): string {
  if (field(pod, 'metadata', 'deletionTimestamp') !== undefined) return 'Terminating';
  const statuses = [
    ...((field(pod, 'status', 'initContainerStatuses') as unknown[] | undefined) ?? []),
    ...((field(pod, 'status', 'containerStatuses') as unknown[] | undefined) ?? []),
  ];
  for (const s of statuses) {
    const waiting = field(s, 'state', 'waiting');
    const reason = field(waiting, 'reason');
    if (typeof reason === 'string' && reason !== 'PodInitializing' && reason !== 'ContainerCreating') {
      const message = field(waiting, 'message');
      return typeof message === 'string' ? `${reason}: ${message.split('\n')[0]!.slice(0, 160)}` : reason;
    }
    const terminated = field(s, 'state', 'terminated', 'reason');
    if (typeof terminated === 'string' && field(s, 'ready') === false && terminated !== 'Completed')
      return `container terminated: ${terminated}`;
  }
  const conditions = field(pod, 'status', 'conditions');
  if (Array.isArray(conditions)) {
    const scheduled = conditions.find((c) => isRecord(c) && c.type === 'PodScheduled');
    if (isRecord(scheduled) && scheduled.status === 'False') {
      return `not scheduled: ${String(scheduled.reason ?? '')}${typeof scheduled.message === 'string' ? ` (${scheduled.message.slice(0, 160)})` : ''}`;
    }
  }
  for (const s of statuses) {
    const reason = field(s, 'state', 'waiting', 'reason');
    if (typeof reason === 'string') return reason;
  }
  const phase = field(pod, 'status', 'phase');
  return typeof phase === 'string'
    ? phase === 'Running'
      ? 'Running, not ready yet (readiness probe)'
      : phase
    : 'no status yet';
}

/** Deployments, StatefulSets and DaemonSets that have not rolled out every replica yet. */
export function workloadProblem(w: KubeObject): string | undefined {
  const generation = num(field(w, 'metadata', 'generation'));
  const observed = num(field(w, 'status', 'observedGeneration'));
  if (generation > 0 && observed < generation)
    return `${w.kind} ${ref(w)}: the controller has not seen the latest change yet`;
  if (w.kind === 'DaemonSet') {
    const desired = num(field(w, 'status', 'desiredNumberScheduled'));
    const ready = num(field(w, 'status', 'numberReady'));
    const updated = num(field(w, 'status', 'updatedNumberScheduled'));
    if (desired === 0) return `DaemonSet ${ref(w)}: no node runs it yet`;
    if (ready < desired || updated < desired)
      return `DaemonSet ${ref(w)}: ${ready}/${desired} ready, ${updated}/${desired} updated`;
    return undefined;
  }
  const wanted = field(w, 'spec', 'replicas') === undefined ? 1 : num(field(w, 'spec', 'replicas'));
  const ready = num(field(w, 'status', 'readyReplicas'));
  const updated = num(field(w, 'status', 'updatedReplicas'));
  if (w.kind === 'Deployment') {
    const available = num(field(w, 'status', 'availableReplicas'));
    if (available < wanted || updated < wanted)
      return `Deployment ${ref(w)}: ${available}/${wanted} available`;
    return undefined;
  }
  if (w.kind === 'StatefulSet') {
    if (ready < wanted) return `StatefulSet ${ref(w)}: ${ready}/${wanted} ready`;
    return undefined;
  }
  return undefined;
}

/**
 * Ready means: every workload has rolled out and every (unfinished) pod is Ready. Workloads are
 * part of it because right after an apply their pods may not exist yet, and "no pods" is not
 * "all pods ready".
 */
export function readinessReport(
  pods: KubeObject[],
  workloads: KubeObject[] = [],
): ReadyReport & { readyPods: number; totalPods: number } {
  const notReady: string[] = [];
  const live = pods.filter((p) => !podIsFinished(p));
  let readyPods = 0;
  for (const p of live) {
    if (podIsReady(p)) readyPods++;
    else notReady.push(`${ref(p)}: ${podProblem(p)}`);
  }
  for (const w of workloads) {
    const problem = workloadProblem(w);
    if (problem) notReady.push(problem);
  }
  return { ready: notReady.length === 0, notReady, readyPods, totalPods: live.length };
}

export function nodeProblems(nodes: KubeObject[]): string[] {
  if (nodes.length === 0) return ['no nodes registered yet'];
  return nodes
    .filter((n) => !conditionTrue(n, 'Ready'))
    .map((n) => `node ${n.metadata.name} is not Ready${nodeReason(n)}`);
}

function nodeReason(n: KubeObject): string {
  const conditions = field(n, 'status', 'conditions');
  if (!Array.isArray(conditions)) return '';
  const ready = conditions.find((c) => isRecord(c) && c.type === 'Ready');
  const message = isRecord(ready) && typeof ready.message === 'string' ? ready.message : undefined;
  return message ? ` (${message.slice(0, 160)})` : '';
}

export function deploymentAvailable(d: KubeObject | undefined): boolean {
  return d !== undefined && conditionTrue(d, 'Available') && workloadProblem(d) === undefined;
}

/** The container images of a workload's pod template (to tell which Calico version is installed). */
export function templateImages(w: KubeObject): string[] {
  const containers = field(w, 'spec', 'template', 'spec', 'containers');
  if (!Array.isArray(containers)) return [];
  return containers.map((c) => field(c, 'image')).filter((i): i is string => typeof i === 'string');
}
