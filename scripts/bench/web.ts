/**
 * The web app on the simulated cluster, over real HTTP on loopback (the real server process as
 * `npm start` runs it, its worker pool, SQLite in memory). Phases, a bounded number of requests:
 *
 * - one learner alone: what a single check costs;
 * - a class of 50: every learner checks 6 times, reading each result for 1-3 s before the next
 *   check (quicker than people are); target: p95 of the checks < 200 ms with 0 errors;
 * - a burst: all 50 press Check at the same instant, 10 times in a row with no pause (the checks
 *   queue for the CPU), while a page is loaded meanwhile to show the HTTP thread stays responsive;
 *   target p95 <= 200 ms, 0 errors;
 * - 200 learners, each checking again as soon as the answer is back, for 20 s: target p95 <= 500 ms;
 * - visitors without a cookie asking for the matrix (they must not cost a simulated cluster each);
 * - learners until there are 1000 sessions: target server memory (all threads) <= 400 MB.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchRow, BenchSection } from '../bench.js';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { Agent, request } from 'node:http';
import { loadLab } from '../../server/labs/index.js';

const LEARNERS = 50;
const CLASS_CHECKS = 6;
const THINK_MS: [number, number] = [1000, 3000];
const BURST_CHECKS = 10;
const SUSTAINED_LEARNERS = 200;
const SUSTAINED_MS = 20_000;
const SESSIONS = 1000;
const ANONYMOUS_MATRIX = 200;
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
  rssMiB(): Promise<number | undefined>;
  /** CPU time the server process (every thread) has used so far. */
  cpuMs(): Promise<number | undefined>;
  /** CPU time of its main thread (the HTTP thread) alone. */
  httpThreadCpuMs(): Promise<number | undefined>;
  close(): Promise<void>;
}> {
  const bin = fileURLToPath(new URL('../../bin/kubelab.js', import.meta.url));
  // KUBELAB_BENCH_NODE_FLAGS, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`, profiles the server
  // (NODE_OPTIONS refuses --cpu-prof; workers write their profiles when they exit).
  const nodeFlags = (process.env.KUBELAB_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const child = spawn(
    process.execPath,
    [...nodeFlags, bin, 'serve', '--simulated', '--port', '0', '--db', ':memory:'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
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
    rssMiB: async () => {
      try {
        const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
        const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
        return kb ? Number(kb) / 1024 : undefined;
      } catch {
        return undefined;
      }
    },
    cpuMs: () => cpuOf(`/proc/${child.pid}/stat`),
    // The main thread's task id is the process id.
    httpThreadCpuMs: () => cpuOf(`/proc/${child.pid}/task/${child.pid}/stat`),
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Fields 14 and 15 of a /proc stat file: user and system time in clock ticks (100 per second on Linux). */
async function cpuOf(statFile: string): Promise<number | undefined> {
  try {
    const stat = await readFile(statFile, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Server CPU (all threads, and the HTTP thread's part) and this generator's, per check of a phase. */
function cpuPerCheck(
  checks: number,
  server: [number | undefined, number | undefined],
  http: [number | undefined, number | undefined],
  generator: NodeJS.CpuUsage,
): string {
  const per = (ms: number) => `${(ms / checks).toFixed(2)} ms`;
  const delta = ([a, b]: [number | undefined, number | undefined]) =>
    a !== undefined && b !== undefined ? b - a : undefined;
  const all = delta(server);
  const main = delta(http);
  return (
    `server (all threads) ${all !== undefined ? per(all) : 'unknown'}` +
    (main !== undefined ? ` (HTTP thread ${per(main)})` : '') +
    `, this load generator ${per((generator.user + generator.system) / 1000)}; ${availableParallelism()} cores`
  );
}

/**
 * The load generator shares the machine's cores with the server, so it should cost as little as
 * it can: plain node:http over kept-alive connections costs a fraction of what fetch does per
 * request, which leaves the CPU to the server being measured.
 */
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

function httpRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

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
      const hello = await httpRequest(`${server.url}api/labs`);
      const setCookie = hello.headers['set-cookie'];
      return ((Array.isArray(setCookie) ? setCookie[0] : setCookie) ?? '').split(';')[0] ?? '';
    };
    /** One check; returns its latency, recording any error or wrong verdict. */
    const check = async (cookie: string, attempt: { text: string; shouldPass: boolean }): Promise<number> => {
      requests++;
      const t0 = performance.now();
      try {
        const res = await httpRequest(`${server.url}api/labs/np-backend/check`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
          body: JSON.stringify({ manifests: attempt.text }),
        });
        const body = JSON.parse(res.body) as { passed?: boolean };
        if (res.status !== 200) errors.push(`HTTP ${res.status}`);
        else if (body.passed !== attempt.shouldPass)
          errors.push(`passed=${body.passed}, expected ${attempt.shouldPass}`);
      } catch (e) {
        errors.push(e instanceof Error ? e.message : String(e));
      }
      return performance.now() - t0;
    };

    let classFigures: Figures | undefined;
    let burst: Figures | undefined;
    let burstErrors = 0;
    let sustained: Figures | undefined;
    let sustainedErrors = 0;
    let sessionsRssMiB: number | undefined;
    let peakRssMiB: number | undefined;
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
          await httpRequest(`${server.url}api/labs`);
          pageLatencies.push(performance.now() - t0);
          await sleep(50);
        }
      })();
      const burstStart = performance.now();
      const errorsBeforeBurst = errors.length;
      const generatorCpuBefore = process.cpuUsage();
      const serverCpuBefore = await server.cpuMs();
      const httpCpuBefore = await server.httpThreadCpuMs();
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
      const httpCpuAfter = await server.httpThreadCpuMs();
      burst = figures(burstLatencies);
      burstErrors = errors.length - errorsBeforeBurst;
      const burstSeconds = (performance.now() - burstStart) / 1000;
      console.log(
        `a burst of ${LEARNERS} at once (${BURST_CHECKS} checks each, no pause, ${(burst.count / burstSeconds).toFixed(0)} checks/s): ` +
          `${show(burst)}; the catalogue API meanwhile: ${show(figures(pageLatencies))}`,
      );
      // CPU per check bounds the burst: 50 checks in flight on N cores wait about 50 x CPU / N.
      // This load generator runs on the same cores as the server, so its share is shown too.
      console.log(
        `  CPU per check during the burst: ${cpuPerCheck(
          burst.count,
          [serverCpuBefore, serverCpuAfter],
          [httpCpuBefore, httpCpuAfter],
          generatorCpu,
        )}`,
      );

      // Closed loop: each learner checks again as soon as the answer is back.
      const errorsBeforeSustained = errors.length;
      const sustainedCookies = await Promise.all(
        Array.from({ length: SUSTAINED_LEARNERS }, () => learnerCookie()),
      );
      const sustainedLatencies: number[] = [];
      const sustainedGeneratorBefore = process.cpuUsage();
      const sustainedServerBefore = await server.cpuMs();
      const sustainedHttpBefore = await server.httpThreadCpuMs();
      const sustainedStart = performance.now();
      const sustainedEnd = sustainedStart + SUSTAINED_MS;
      await Promise.all(
        sustainedCookies.map(async (cookie, learner) => {
          for (let i = 0; performance.now() < sustainedEnd; i++) {
            sustainedLatencies.push(await check(cookie, attempts[(learner + i) % attempts.length]!));
          }
        }),
      );
      const sustainedGenerator = process.cpuUsage(sustainedGeneratorBefore);
      const sustainedServerAfter = await server.cpuMs();
      const sustainedHttpAfter = await server.httpThreadCpuMs();
      sustained = figures(sustainedLatencies);
      sustainedErrors = errors.length - errorsBeforeSustained;
      console.log(
        `${SUSTAINED_LEARNERS} learners checking back to back for ${SUSTAINED_MS / 1000} s ` +
          `(${(sustained.count / ((performance.now() - sustainedStart) / 1000)).toFixed(0)} checks/s): ${show(sustained)}, ${sustainedErrors} errors`,
      );
      // With every learner waiting, the busiest thread sets the pace: the grading worker's share is
      // the server's minus the HTTP thread's.
      console.log(
        `  CPU per check meanwhile: ${cpuPerCheck(
          sustained.count,
          [sustainedServerBefore, sustainedServerAfter],
          [sustainedHttpBefore, sustainedHttpAfter],
          sustainedGenerator,
        )}`,
      );

      // Visitors without a cookie: each is a new learner id, so each used to cost a cluster.
      const rssBeforeVisitors = await server.rssMiB();
      const matrixLatencies: number[] = [];
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          for (let i = 0; i < ANONYMOUS_MATRIX / 10; i++) {
            requests++;
            const t0 = performance.now();
            const res = await httpRequest(`${server.url}api/labs/np-backend/matrix`);
            const body = JSON.parse(res.body) as { before?: boolean };
            if (res.status !== 200 || body.before !== true) errors.push(`matrix: HTTP ${res.status}`);
            matrixLatencies.push(performance.now() - t0);
          }
        }),
      );
      const rssAfterVisitors = await server.rssMiB();
      console.log(
        `${ANONYMOUS_MATRIX} matrix requests without a cookie: ${show(figures(matrixLatencies))}; server RSS ` +
          `${rssBeforeVisitors?.toFixed(0)} -> ${rssAfterVisitors?.toFixed(0)} MiB`,
      );

      // Everyone so far had a session of their own; add learners until there are SESSIONS.
      const sessionsSoFar = WARMUP_CHECKS + 1 + LEARNERS * 2 + SUSTAINED_LEARNERS;
      const more = Math.max(0, SESSIONS - sessionsSoFar);
      let next = 0;
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          while (next < more) {
            next++;
            await check(await learnerCookie(), attempts[next % attempts.length]!);
          }
        }),
      );
      sessionsRssMiB = await server.rssMiB();
      console.log(
        `server RSS with ${sessionsSoFar + more} learner sessions: ${sessionsRssMiB?.toFixed(0)} MiB`,
      );
    } finally {
      peakRssMiB = await server.peakRssMiB();
      if (peakRssMiB !== undefined)
        console.log(
          `server peak RSS over the whole run (main thread and workers): ${peakRssMiB.toFixed(0)} MiB`,
        );
      await server.close();
      agent.destroy();
    }
    console.log(`${requests} requests in all, ${errors.length} errors`);
    for (const e of errors.slice(0, 5)) console.log(`  error: ${e}`);
    // Reached only when every phase ran (an exception in one skips this).
    if (!classFigures || !burst || !sustained) throw new Error('a web bench phase did not finish');
    const classOk = classFigures.p95 < TARGET_P95_MS && errors.length === 0;
    console.log(
      `target (class of ${LEARNERS}) p95 < ${TARGET_P95_MS} ms with 0 errors: ${classOk ? 'ok' : 'MISSED'}`,
    );
    const memory = Math.max(sessionsRssMiB ?? Infinity, peakRssMiB ?? Infinity) * 1.048576; // MiB -> MB
    const rows: BenchRow[] = [
      {
        figure: `${LEARNERS} learners pressing Check at the same instant (${BURST_CHECKS} each)`,
        measured: `p95 ${burst.p95.toFixed(0)} ms, ${burstErrors} errors`,
        target: 'p95 <= 200 ms, 0 errors',
        met: burst.p95 <= 200 && burstErrors === 0,
      },
      {
        figure: `${SUSTAINED_LEARNERS} concurrent learners for ${SUSTAINED_MS / 1000} s`,
        measured: `p95 ${sustained.p95.toFixed(0)} ms, ${sustainedErrors} errors`,
        target: 'p95 <= 500 ms, 0 errors',
        met: sustained.p95 <= 500 && sustainedErrors === 0,
      },
      {
        figure: `server memory with ${SESSIONS} learner sessions`,
        measured: `${memory.toFixed(0)} MB (peak RSS, all threads)`,
        target: '<= 400 MB',
        met: memory <= 400,
      },
    ];
    return { ok: classOk && rows.every((r) => r.met), rows };
  },
};
