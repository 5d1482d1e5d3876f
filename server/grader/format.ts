/** A GradeReport as terminal text: the verdict first, then each check, then the probes that matter. */
import type { GradeReport } from './report.js';
import { describeOutcome } from './index.js';

const MARK = { pass: 'PASS', fail: 'FAIL', error: 'ERROR' } as const;

export function formatReport(r: GradeReport, opts: { verbose?: boolean } = {}): string {
  const lines: string[] = [];
  const verdict =
    r.status === 'passed' ? 'PASSED' : r.status === 'failed' ? 'FAILED' : 'NOT GRADED (environment problem)';
  lines.push(`${r.lab}: ${verdict} on the ${r.cluster.description} (${r.durationMs} ms)`);
  lines.push(r.summary);
  for (const c of r.checks) {
    lines.push('');
    lines.push(`[${MARK[c.status]}] ${c.id}: ${c.title}`);
    for (const m of c.messages) lines.push(`    ${m}`);
    if (opts.verbose) {
      for (const p of c.probes) {
        const dns = p.expected === 'resolves' || p.expected === 'fails';
        lines.push(
          `      ${p.passed ? 'ok  ' : 'BAD '} ${p.from} -> ${p.to}: expected ${p.expected}, got ${describeOutcome(p.actual, dns)}` +
            (p.attempts > 1 ? ` after ${p.attempts} attempts` : ''),
        );
      }
    }
  }
  return `${lines.join('\n')}\n`;
}
