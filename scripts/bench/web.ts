/**
 * 50 learners checking np-backend at once on the simulated cluster, over real HTTP on loopback.
 * Each learner gets a cookie, then checks a fixed number of times (wrong and right attempts in turn),
 * waiting for each answer as a person would. Target: p95 of the checks < 200 ms with no errors.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchSection } from '../bench.js';
import { startServer } from '../../server/cli/serve.js';
import { loadLab } from '../../server/labs/index.js';

const LEARNERS = 50;
const CHECKS_PER_LEARNER = 6;
const TARGET_P95_MS = 200;
const WARMUP_CHECKS = 8;
const SOLO_CHECKS = 20;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export const section: BenchSection = {
  name: 'web',
  async run() {
    const lab = await loadLab('np-backend');
    const attempts = await Promise.all(
      [...lab.knownWrong.slice(0, 2).map((w) => w.file), 'solution.yaml'].map(async (file) => ({
        text: await readFile(join(lab.dir, file), 'utf8'),
        shouldPass: file === 'solution.yaml',
      })),
    );
    const server = await startServer({ port: 0, dbPath: ':memory:', mode: 'simulated' });
    const latencies: number[] = [];
    const errors: string[] = [];
    let requests = 0;
    const check = async (cookie: string, manifests: string) => {
      requests++;
      const res = await fetch(`${server.url}api/labs/np-backend/check`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
        body: JSON.stringify({ manifests }),
      });
      return { status: res.status, body: (await res.json()) as { passed?: boolean } };
    };
    /** A new learner: their first request gets them the identity cookie. */
    const learnerCookie = async () => {
      requests++;
      const hello = await fetch(`${server.url}api/labs`);
      await hello.arrayBuffer();
      return (hello.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    };
    let started = 0;
    try {
      // Warm-up (not measured): grading workers start and load the lab on their first request.
      await Promise.all(Array.from({ length: WARMUP_CHECKS }, () => check('', attempts[0]!.text)));
      // One learner alone: the time a single check takes with nothing else going on.
      const alone: number[] = [];
      const soloCookie = await learnerCookie();
      for (let i = 0; i < SOLO_CHECKS; i++) {
        const t0 = performance.now();
        await check(soloCookie, attempts[i % attempts.length]!.text);
        alone.push(performance.now() - t0);
      }
      alone.sort((a, b) => a - b);
      console.log(
        `one learner alone: check p50 ${percentile(alone, 50).toFixed(1)} ms, p95 ${percentile(alone, 95).toFixed(1)} ms`,
      );
      started = performance.now();
      await Promise.all(
        Array.from({ length: LEARNERS }, async (_, learner) => {
          const cookie = await learnerCookie();
          for (let i = 0; i < CHECKS_PER_LEARNER; i++) {
            const attempt = attempts[(learner + i) % attempts.length]!;
            const t0 = performance.now();
            try {
              const { status, body } = await check(cookie, attempt.text);
              latencies.push(performance.now() - t0);
              if (status !== 200) errors.push(`HTTP ${status}`);
              else if (body.passed !== attempt.shouldPass)
                errors.push(`learner ${learner}: passed=${body.passed}`);
            } catch (e) {
              errors.push(e instanceof Error ? e.message : String(e));
            }
          }
        }),
      );
    } finally {
      await server.close();
    }
    const wallMs = performance.now() - started;
    const sorted = [...latencies].sort((a, b) => a - b);
    const p50 = percentile(sorted, 50);
    const p95 = percentile(sorted, 95);
    const max = sorted.at(-1) ?? NaN;
    console.log(
      `${LEARNERS} learners x ${CHECKS_PER_LEARNER} checks at once (${requests} requests in all) in ${wallMs.toFixed(0)} ms: ` +
        `check p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, max ${max.toFixed(1)} ms, ` +
        `${((latencies.length / wallMs) * 1000).toFixed(0)} checks/s, ${errors.length} errors`,
    );
    for (const e of errors.slice(0, 5)) console.log(`  error: ${e}`);
    console.log(`peak RSS (whole process): ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
    const ok = p95 < TARGET_P95_MS && errors.length === 0;
    console.log(`target p95 < ${TARGET_P95_MS} ms with 0 errors: ${ok ? 'ok' : 'MISSED'}`);
    return { ok };
  },
};
