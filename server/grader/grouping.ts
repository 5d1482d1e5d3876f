/**
 * Folds a check's probe results into one row per cause, so a learner reads "the backend (2 pods)
 * reaches db1 on 2222 and 3333, because no policy restricts its egress" once instead of twelve
 * near-identical lines with hashed pod names.
 *
 * Replicas of one workload are interchangeable to a learner: their pod names add nothing unless
 * the replicas behave differently, and then the names are kept.
 */
import type { KubeObject } from '../cluster/types.js';
import { labelsOf } from './snapshot.js';
import type { Expectation, ProbeResult } from './report.js';

/**
 * `ns/pod` -> `ns/workload` for every pod a controller made. A Deployment's pod belongs to a
 * ReplicaSet named `<deployment>-<pod-template-hash>`, so the Deployment's name is recovered from
 * the owner and the hash label rather than guessed from the pod name's shape.
 */
export function workloadsOf(pods: KubeObject[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pod of pods) {
    const refs = pod.metadata.ownerReferences;
    const owner = Array.isArray(refs)
      ? ((refs as Array<{ kind?: unknown; name?: unknown; controller?: unknown }>).find(
          (r) => r.controller === true,
        ) ?? (refs as Array<{ kind?: unknown; name?: unknown }>)[0])
      : undefined;
    if (!owner || typeof owner.name !== 'string') continue;
    const hash = labelsOf(pod)['pod-template-hash'];
    const name =
      owner.kind === 'ReplicaSet' && hash && owner.name.endsWith(`-${hash}`)
        ? owner.name.slice(0, -hash.length - 1)
        : owner.name;
    out[`${pod.metadata.namespace}/${pod.metadata.name}`] = `${pod.metadata.namespace}/${name}`;
  }
  return out;
}

export interface ProbeGroup {
  /** The source as a learner would name it: `np-lab/backend (2 pods)` or a pod's own name. */
  from: string;
  /** Every target that failed for this cause, in probe order. */
  to: string[];
  expected: Expectation;
  actual: ProbeResult['actual'];
  /** What the first probe of the group printed (the others printed the same up to timings). */
  detail: string;
  explanation: string;
  probes: ProbeResult[];
}

/**
 * Groups `probes` that share source workload, expectation, outcome and explanation (pod names in
 * the explanation read as their workloads). A workload's replicas are merged only when every one
 * of them that the whole check (`all`) starts from is in the group; otherwise each pod keeps its
 * name, because then the difference between replicas is the point.
 */
export function groupProbes(
  probes: ProbeResult[],
  workloads: Record<string, string>,
  all: ProbeResult[] = probes,
): ProbeGroup[] {
  const sourcesOfWorkload = new Map<string, Set<string>>();
  for (const p of all) {
    const w = workloads[p.from];
    if (w) (sourcesOfWorkload.get(w) ?? sourcesOfWorkload.set(w, new Set()).get(w)!).add(p.from);
  }
  const general = generaliser(workloads);
  const draft = new Map<string, ProbeResult[]>();
  for (const p of probes) {
    const key = JSON.stringify([workloads[p.from] ?? p.from, p.expected, p.actual, general(p.explanation)]);
    (draft.get(key) ?? draft.set(key, []).get(key)!).push(p);
  }
  const groups: ProbeGroup[] = [];
  for (const members of draft.values()) {
    const first = members[0]!;
    const workload = workloads[first.from];
    const pods = new Set(members.map((m) => m.from));
    const whole = workload !== undefined && pods.size === sourcesOfWorkload.get(workload)!.size;
    const parts = whole ? [members] : [...pods].map((pod) => members.filter((m) => m.from === pod));
    for (const part of parts) {
      const lead = part[0]!;
      groups.push({
        from: whole ? `${workload}${pods.size > 1 ? ` (${pods.size} pods)` : ''}` : lead.from,
        to: [...new Set(part.map((m) => (whole ? general(m.to) : m.to)))],
        expected: lead.expected,
        actual: lead.actual,
        detail: lead.detail,
        explanation: whole ? general(lead.explanation) : lead.explanation,
        probes: part,
      });
    }
  }
  return groups;
}

/**
 * Generalisers by the workloads map they were made for: a grade uses one map for every check it
 * summarises, and the simulated cluster's grades share one per state (see workloadsOfSnapshot in
 * ./index.ts). Callers never change a map once made.
 */
const generalisers = new WeakMap<Record<string, string>, (text: string) => string>();

/** Replaces every whole `ns/pod` a workload owns by `ns/workload` (`web-1` never inside `web-10`). */
export function generaliser(workloads: Record<string, string>): (text: string) => string {
  let general = generalisers.get(workloads);
  if (!general) {
    general = makeGeneraliser(workloads);
    generalisers.set(workloads, general);
  }
  return general;
}

function makeGeneraliser(workloads: Record<string, string>): (text: string) => string {
  const pods = Object.keys(workloads).sort((a, b) => b.length - a.length);
  if (pods.length === 0) return (text) => text;
  const escaped = pods.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const pattern = new RegExp(`(?<![a-z0-9.-])(?:${escaped.join('|')})(?![a-z0-9-]|\\.[a-z0-9])`, 'g');
  return (text) => text.replace(pattern, (pod) => workloads[pod]!);
}
