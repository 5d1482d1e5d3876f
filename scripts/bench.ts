/**
 * `npm run bench`: runs every benchmark section in scripts/bench/ (or the ones named on the
 * command line), prints their figures, then one table with every target of issue 12: what was
 * measured, the target, and whether it is met. Targets are checked and reported, not asserted in
 * tests (timings on a shared 2-core machine would make such tests flaky, or useless).
 */
import { readdir } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

/** One line of the targets table. */
export interface BenchRow {
  figure: string;
  measured: string;
  target: string;
  met: boolean;
}

export interface BenchSection {
  name: string;
  run(): Promise<{ ok: boolean; rows?: BenchRow[] }>;
}

const dir = join(dirname(fileURLToPath(import.meta.url)), 'bench');
const only = process.argv.slice(2);
// The whole test suite goes last: it loads both cores for minutes, and the load average it leaves
// behind would weigh on whichever section came after it.
const files = (await readdir(dir))
  .filter((f) => f.endsWith('.ts'))
  .sort((a, b) => Number(a === 'test-suite.ts') - Number(b === 'test-suite.ts') || a.localeCompare(b));
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
let allOk = true;
const rows: BenchRow[] = [];
console.log(`load average at the start: ${load()}`);
for (const file of files) {
  const mod = (await import(pathToFileURL(join(dir, file)).href)) as { section?: BenchSection };
  if (!mod.section) continue;
  if (only.length > 0 && !only.includes(mod.section.name)) continue;
  console.log(`\n== ${mod.section.name} (load average ${load()})`);
  const result = await mod.section.run();
  allOk &&= result.ok;
  rows.push(...(result.rows ?? []));
  console.log(result.ok ? `-- ${mod.section.name}: targets met` : `-- ${mod.section.name}: TARGET MISSED`);
}
if (rows.length > 0) {
  const table = [
    ['figure', 'measured', 'target', 'met'],
    ...rows.map((r) => [r.figure, r.measured, r.target, r.met ? 'yes' : 'NO']),
  ];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
  console.log(`\n== targets (issue 12; load average at the end ${load()})`);
  for (const [i, r] of table.entries()) {
    console.log(`| ${r.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`);
    if (i === 0) console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  }
}
process.exitCode = allOk ? 0 : 1;
