/**
 * The connectivity matrix on the lab page: source pods down the side, (destination, port) across the
 * top, each cell saying what happens now and what the lab expects. That is the orientation of
 * `kubelab netpol matrix` (and of the Kubernetes e2e reachability tables): a row reads like a packet,
 * from left to right. Built from probe-like rows, so the same code draws the engine's live prediction
 * and the results of the last check.
 */
import type { Expectation, GradeReport } from '../grader/report.js';
import type { ProbeOutcome } from '../probe/types.js';

export interface MatrixProbe {
  from: string;
  to: string;
  expected: Expectation;
  outcome: ProbeOutcome | 'unknown';
  explanation: string;
}

export interface MatrixCell {
  expected: Expectation;
  outcome: ProbeOutcome | 'unknown';
  /** The outcome is what the lab asks for. */
  ok: boolean;
  explanation: string;
}

export interface ConnectivityMatrix {
  /** Where the outcomes come from, in a few words for the caption. */
  basis: string;
  /** True when no NetworkPolicy is in force yet (the "before" picture: everything open). */
  before: boolean;
  /** Sources named as `netpol matrix` names them (`ns/workload-N`), see podDisplayNames. */
  sources: string[];
  /** The real pod name behind each source, for a tooltip. */
  sourcePods: string[];
  targets: string[];
  /** cells[source][target]; null where no check pairs that source with that target. */
  cells: Array<Array<MatrixCell | null>>;
}

/** Whether traffic got through to the destination (a refusal means it reached the pod). */
export function reached(outcome: ProbeOutcome | 'unknown'): boolean | undefined {
  if (outcome === 'allowed' || outcome === 'refused') return true;
  if (outcome === 'blocked' || outcome === 'dns-failure') return false;
  return undefined;
}

export function cellOk(expected: Expectation, outcome: ProbeOutcome | 'unknown'): boolean {
  const got = reached(outcome);
  if (got === undefined) return false;
  return expected === 'open' || expected === 'resolves' ? got : !got;
}

/** Kubernetes' safe alphabet for generated name suffixes (no vowels, no 0, 1 or 3). */
const SAFE = '[bcdfghjklmnpqrstvwxz2456789]';
/** `ns/W-<replicaset hash>-<pod hash>`: a Deployment's pod. */
const DEPLOYMENT_POD = new RegExp(
  `([a-z0-9][a-z0-9-]*)/([a-z0-9][a-z0-9.-]*?)-${SAFE}{6,10}-${SAFE}{5}(?![a-z0-9-])`,
  'g',
);

/**
 * Display names for the pods in probe rows: a Deployment's pod `ns/web-6f4bc979cb-k8mvq` becomes
 * `ns/web-0`, `ns/web-1`, ... (numbered in the order of the real names), as the netpol engine names
 * the pods it expands from a Deployment. The hash says nothing to a learner and differs per cluster.
 */
export function podDisplayNames(texts: string[]): Map<string, string> {
  const byWorkload = new Map<string, Set<string>>();
  for (const text of texts)
    for (const m of text.matchAll(DEPLOYMENT_POD)) {
      const workload = `${m[1]}/${m[2]}`;
      byWorkload.set(workload, (byWorkload.get(workload) ?? new Set()).add(m[0]));
    }
  const names = new Map<string, string>();
  for (const [workload, pods] of byWorkload)
    [...pods].sort().forEach((pod, i) => names.set(pod, `${workload}-${i}`));
  return names;
}

function rename(text: string, names: Map<string, string>): string {
  return text.replace(DEPLOYMENT_POD, (pod) => names.get(pod) ?? pod);
}

/**
 * One column per destination: an open expectation probes a Service by name, a blocked one by its
 * ClusterIP (so broken DNS cannot pass it), but both are the same destination.
 */
function targetKey(to: string): string {
  return to.replace(/ \(ClusterIP [^)]*\)$/, '');
}

export function buildMatrix(
  probes: MatrixProbe[],
  opts: { basis: string; before: boolean },
): ConnectivityMatrix {
  const names = podDisplayNames(probes.flatMap((p) => [p.from, p.to]));
  const sources: string[] = [];
  const sourcePods: string[] = [];
  const targets: string[] = [];
  for (const p of probes) {
    const from = rename(p.from, names);
    if (!sources.includes(from)) {
      sources.push(from);
      sourcePods.push(p.from);
    }
    const to = rename(targetKey(p.to), names);
    if (!targets.includes(to)) targets.push(to);
  }
  const cells = sources.map(() => targets.map((): MatrixCell | null => null));
  for (const p of probes) {
    const row = cells[sources.indexOf(rename(p.from, names))];
    if (!row) continue;
    const j = targets.indexOf(rename(targetKey(p.to), names));
    const cell: MatrixCell = {
      expected: p.expected,
      outcome: p.outcome,
      ok: cellOk(p.expected, p.outcome),
      explanation: rename(p.explanation, names),
    };
    // Two probes in one cell (one by name, one by ClusterIP): a failing one must not be hidden.
    const had = row[j];
    if (!had || (had.ok && !cell.ok)) row[j] = cell;
  }
  return { basis: opts.basis, before: opts.before, sources, sourcePods, targets, cells };
}

/** The matrix of what a check actually observed. */
export function matrixFromReport(report: GradeReport): ConnectivityMatrix {
  const probes: MatrixProbe[] = [];
  for (const check of report.checks) {
    if (check.kind !== 'connectivity') continue;
    for (const p of check.probes) {
      probes.push({
        from: p.from,
        to: p.to,
        expected: p.expected,
        outcome: p.actual,
        explanation: p.explanation,
      });
    }
  }
  return buildMatrix(probes, { basis: 'observed by your last check', before: false });
}

/** Short words for a cell. */
export function outcomeLabel(outcome: ProbeOutcome | 'unknown'): string {
  switch (outcome) {
    case 'allowed':
      return 'open';
    case 'refused':
      return 'open (refused)';
    case 'blocked':
      return 'blocked';
    case 'dns-failure':
      return 'no DNS';
    case 'error':
      return 'error';
    default:
      return 'unknown';
  }
}
