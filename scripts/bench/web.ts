/**
 * The web app under 50 learners on the simulated cluster, over real HTTP on loopback (the real app,
 * its worker pool and SQLite store in memory). Three phases, a bounded number of requests in all:
 *
 * - one learner alone: what a single check costs;
 * - a class of 50: every learner checks 6 times, reading each result for 1-3 s before the next
 *   check (quicker than people are); target: p95 of the checks < 200 ms with 0 errors;
 * - a burst: all 50 press Check at the same instant, 3 times in a row, with no pause (a stress
 *   figure: the checks queue for the CPU), while a page is loaded meanwhile to show the HTTP thread
 *   stays responsive.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchSection } from '../bench.js';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { loadLab } from '../../server/labs/index.js';

const LEARNERS = 50;
const CLASS_CHECKS = 6;
const THINK_MS: [number, number] = [1000, 3000];
const BURST_CHECKS = 3;
const SOLO_CHECKS = 20;
const WARMUP_CHECKS = 8;
const TARGET_P95_MS = 200;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Deterministic think times, so two runs load the server the same way. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * The server runs in its own process, as `npm start` does, so the load generator here does not
 * compete with it for the event loop.
 */
async function startServerProcess(): Promise<{
  url: string;
  peakRssMiB(): Promise<number | undefined>;
  /** CPU time the server process (every thread) has used so far. */
  cpuMs(): Promise<number | undefined>;
  close(): Promise<void>;
}> {
  const bin = fileURLToPath(new URL('../../bin/kubelab.js', import.meta.url));
  const child = spawn(process.execPath, [bin, 'serve', '--simulated', '--port', '0', '--db', ':memory:'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      output += chunk;
      const m = /serving the labs on (http:\/\/\S+)/.exec(output);
      if (m?.[1]) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`kubelab serve exited with ${code}: ${output}`)));
  });
  return {
    url,
    // Linux keeps the high-water mark of a process's resident memory in /proc.
    peakRssMiB: async () => {
      try {
        const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
        const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
        return kb ? Number(kb) / 1024 : undefined;
      } catch {
        return undefined;
      }
    },
    // Fields 14 and 15 of /proc/PID/stat: user and system time in clock ticks (100 per second on Linux).
    cpuMs: async () => {
      try {
        const stat = await readFile(`/proc/${child.pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return (Number(fields[11]) + Number(fields[12])) * 10;
      } catch {
        return undefined;
      }
    },
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Figures {
  p50: number;
  p95: number;
  max: number;
  count: number;
}

function figures(latencies: number[]): Figures {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    max: sorted.at(-1) ?? NaN,
    count: sorted.length,
  };
}

const show = (f: Figures) =>
  `p50 ${f.p50.toFixed(1)} ms, p95 ${f.p95.toFixed(1)} ms, max ${f.max.toFixed(1)} ms`;

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
    const server = await startServerProcess();
    const errors: string[] = [];
    let requests = 0;

    /** A new learner: their first request gets them the identity cookie. */
    const learnerCookie = async () => {
      requests++;
      const hello = await fetch(`${server.url}api/labs`);
      await hello.arrayBuffer();
      return (hello.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    };
    /** One check; returns its latency, recording any error or wrong verdict. */
    const check = async (cookie: string, attempt: { text: string; shouldPass: boolean }): Promise<number> => {
      requests++;
      const t0 = performance.now();
      try {
        const res = await fetch(`${server.url}api/labs/np-backend/check`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
          body: JSON.stringify({ manifests: attempt.text }),
        });
        const body = (await res.json()) as { passed?: boolean };
        if (res.status !== 200) errors.push(`HTTP ${res.status}`);
        else if (body.passed !== attempt.shouldPass)
          errors.push(`passed=${body.passed}, expected ${attempt.shouldPass}`);
      } catch (e) {
        errors.push(e instanceof Error ? e.message : String(e));
      }
      return performance.now() - t0;
    };

    let classFigures: Figures;
    try {
      // Warm-up (not measured): grading workers start and load the lab on their first requests.
      await Promise.all(Array.from({ length: WARMUP_CHECKS }, () => check('', attempts[0]!)));

      const solo: number[] = [];
      const soloCookie = await learnerCookie();
      for (let i = 0; i < SOLO_CHECKS; i++)
        solo.push(await check(soloCookie, attempts[i % attempts.length]!));
      console.log(`one learner alone: ${show(figures(solo))}`);

      const random = prng(42);
      const classLatencies: number[] = [];
      const classStart = performance.now();
      await Promise.all(
        Array.from({ length: LEARNERS }, async (_, learner) => {
          const cookie = await learnerCookie();
          const offsets = Array.from(
            { length: CLASS_CHECKS },
            () => THINK_MS[0] + random() * (THINK_MS[1] - THINK_MS[0]),
          );
          // Learners arrive over the first couple of seconds, as a class does.
          await sleep(random() * THINK_MS[1]);
          for (let i = 0; i < CLASS_CHECKS; i++) {
            classLatencies.push(await check(cookie, attempts[(learner + i) % attempts.length]!));
            if (i < CLASS_CHECKS - 1) await sleep(offsets[i]!);
          }
        }),
      );
      classFigures = figures(classLatencies);
      const classSeconds = (performance.now() - classStart) / 1000;
      console.log(
        `a class of ${LEARNERS} (${CLASS_CHECKS} checks each, ${THINK_MS[0] / 1000}-${THINK_MS[1] / 1000} s between checks, ` +
          `${(classFigures.count / classSeconds).toFixed(0)} checks/s): ${show(classFigures)}`,
      );

      const burstLatencies: number[] = [];
      const pageLatencies: number[] = [];
      let bursting = true;
      const pages = (async () => {
        while (bursting) {
          requests++;
          const t0 = performance.now();
          const res = await fetch(`${server.url}api/labs`);
          await res.arrayBuffer();
          pageLatencies.push(performance.now() - t0);
          await sleep(50);
        }
      })();
      const burstStart = performance.now();
      const generatorCpuBefore = process.cpuUsage();
      const serverCpuBefore = await server.cpuMs();
      const cookies = await Promise.all(Array.from({ length: LEARNERS }, () => learnerCookie()));
      await Promise.all(
        cookies.map(async (cookie, learner) => {
          for (let i = 0; i < BURST_CHECKS; i++) {
            burstLatencies.push(await check(cookie, attempts[(learner + i) % attempts.length]!));
          }
        }),
      );
      bursting = false;
      await pages;
      const generatorCpu = process.cpuUsage(generatorCpuBefore);
      const serverCpuAfter = await server.cpuMs();
      const burst = figures(burstLatencies);
      const burstSeconds = (performance.now() - burstStart) / 1000;
      console.log(
        `a burst of ${LEARNERS} at once (${BURST_CHECKS} checks each, no pause, ${(burst.count / burstSeconds).toFixed(0)} checks/s): ` +
          `${show(burst)}; the catalogue API meanwhile: ${show(figures(pageLatencies))}`,
      );
      // CPU per check bounds the burst: 50 checks in flight on N cores wait about 50 x CPU / N.
      // This load generator runs on the same cores as the server, so its share is shown too.
      const perCheck = (ms: number) => `${(ms / burst.count).toFixed(1)} ms`;
      console.log(
        `  CPU per check during the burst: server (all threads) ${
          serverCpuBefore !== undefined && serverCpuAfter !== undefined
            ? perCheck(serverCpuAfter - serverCpuBefore)
            : 'unknown'
        }, this load generator ${perCheck((generatorCpu.user + generatorCpu.system) / 1000)}; ${availableParallelism()} cores`,
      );
    } finally {
      const rss = await server.peakRssMiB();
      if (rss !== undefined) console.log(`server peak RSS (main thread and workers): ${rss.toFixed(0)} MiB`);
      await server.close();
    }
    console.log(`${requests} requests in all, ${errors.length} errors`);
    for (const e of errors.slice(0, 5)) console.log(`  error: ${e}`);
    const ok = classFigures.p95 < TARGET_P95_MS && errors.length === 0;
    console.log(
      `target (class of ${LEARNERS}) p95 < ${TARGET_P95_MS} ms with 0 errors: ${ok ? 'ok' : 'MISSED'}`,
    );
    return { ok };
  },
};
