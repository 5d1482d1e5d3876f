/**
 * The connectivity matrix on the lab page: source pods down the side, (target, port) across the top,
 * each cell saying what happens now and what the lab expects. Built from probe-like rows, so the same
 * code draws the engine's live prediction and the results of the last check.
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
  sources: string[];
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

export function buildMatrix(
  probes: MatrixProbe[],
  opts: { basis: string; before: boolean },
): ConnectivityMatrix {
  const sources: string[] = [];
  const targets: string[] = [];
  for (const p of probes) {
    if (!sources.includes(p.from)) sources.push(p.from);
    if (!targets.includes(p.to)) targets.push(p.to);
  }
  const cells = sources.map(() => targets.map((): MatrixCell | null => null));
  for (const p of probes) {
    const row = cells[sources.indexOf(p.from)];
    if (!row) continue;
    row[targets.indexOf(p.to)] = {
      expected: p.expected,
      outcome: p.outcome,
      ok: cellOk(p.expected, p.outcome),
      explanation: p.explanation,
    };
  }
  return { basis: opts.basis, before: opts.before, sources, targets, cells };
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
