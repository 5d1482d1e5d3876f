/**
 * `npm test` wall time: the whole suite once, as a child process (once, not a median: it takes a
 * minute or more and uses both cores). The skipped tests are listed, so a skip that could run here
 * does not go unnoticed.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchSection } from '../bench.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TARGET_S = 90;

/**
 * CPU seconds of this process's waited-for children (npm, vitest and all they ran), on Linux; the
 * wall time alone depends on whatever else runs on a shared machine, the CPU time much less.
 */
async function childrenCpuSeconds(): Promise<number | undefined> {
  try {
    const stat = await readFile('/proc/self/stat', 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3; cutime and cstime are 16 and 17.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return undefined;
  }
}

interface VitestJson {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  testResults: Array<{ assertionResults: Array<{ status: string; fullName: string }> }>;
}

export const section: BenchSection = {
  name: 'test',
  async run() {
    const tmp = await mkdtemp(join(tmpdir(), 'kubelab-bench-test-'));
    try {
      const out = join(tmp, 'results.json');
      const cpu0 = await childrenCpuSeconds();
      const t0 = performance.now();
      const code = await new Promise<number | null>((resolve, reject) => {
        const child = spawn('npm', ['test', '--', '--reporter=json', `--outputFile=${out}`], {
          cwd: ROOT,
          stdio: ['ignore', 'ignore', 'inherit'],
        });
        child.once('error', reject);
        child.once('close', resolve);
      });
      const seconds = (performance.now() - t0) / 1000;
      const cpu1 = await childrenCpuSeconds();
      const cpu = cpu0 !== undefined && cpu1 !== undefined ? `, ${(cpu1 - cpu0).toFixed(0)} CPU-s` : '';
      const r = JSON.parse(await readFile(out, 'utf8')) as VitestJson;
      const skipped = r.testResults.flatMap((f) =>
        f.assertionResults.filter((a) => a.status !== 'passed' && a.status !== 'failed'),
      );
      console.log(
        `npm test: ${seconds.toFixed(1)} s${cpu}, exit ${code}: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`,
      );
      for (const s of skipped) console.log(`  skipped: ${s.fullName}`);
      const failed = r.testResults.flatMap((f) => f.assertionResults.filter((a) => a.status === 'failed'));
      for (const f of failed) console.log(`  FAILED: ${f.fullName}`);
      const met = seconds <= TARGET_S && code === 0;
      return {
        ok: met,
        rows: [
          {
            figure: '`npm test` wall time',
            measured: `${seconds.toFixed(0)} s${cpu} (${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped)`,
            target: `<= ${TARGET_S} s, nothing skipped that could run here`,
            met,
          },
        ],
      };
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  },
};
