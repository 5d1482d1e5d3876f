/**
 * The command line as people run it: whole processes (`node bin/kubelab.js ...`, what `npx
 * kubelab` starts), from spawn to exit, median of several runs. Peak memory is read from
 * /proc at exit through a tiny --import hook, in runs of their own so it does not skew the timings.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { BenchRow, BenchSection } from '../bench.js';
import { syntheticCluster } from './netpol.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/kubelab.js');
const RUNS = 7;

// Writes the process's peak resident memory (kB) and the CPU it used (ms, every thread, since it
// started) to fd 3 as it exits. CPU time hardly depends on how busy the machine is, wall time does.
const PEAK_HOOK =
  'data:text/javascript,' +
  encodeURIComponent(
    "import { readFileSync, writeSync } from 'node:fs';" +
      "process.on('exit', () => { try { const c = process.cpuUsage(); writeSync(3, /VmHWM:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1] + ' ' + Math.round((c.user + c.system) / 1000)); } catch {} });",
  );

interface Run {
  ms: number;
  code: number | null;
  stdoutBytes: number;
  stderr: string;
  peakKiB?: number;
  cpuMs?: number;
}

function runOnce(args: string[], opts: { peak?: boolean } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [...(opts.peak ? ['--import', PEAK_HOOK] : []), BIN, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      env: { ...process.env, KUBELAB_DEBUG: '' },
    });
    let stdoutBytes = 0;
    let stderr = '';
    let peak = '';
    child.stdout!.on('data', (b: Buffer) => (stdoutBytes += b.length));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    (child.stdio[3] as NodeJS.ReadableStream).setEncoding('utf8');
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (s: string) => (peak += s));
    child.once('error', reject);
    child.once('close', (code) =>
      resolve({
        ms: performance.now() - t0,
        code,
        stdoutBytes,
        stderr,
        ...(peak ? { peakKiB: Number(peak.split(' ')[0]), cpuMs: Number(peak.split(' ')[1]) } : {}),
      }),
    );
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(label: string, args: string[], expectCode: number) {
  await runOnce(args); // page cache and the build check warm, as on a second call
  const runs: Run[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await runOnce(args));
  const bad = runs.find((r) => r.code !== expectCode);
  if (bad) throw new Error(`${label}: exit ${bad.code}, expected ${expectCode}: ${bad.stderr.slice(0, 500)}`);
  if (runs.some((r) => r.stderr.includes('running the TypeScript sources')))
    throw new Error(`${label}: ran the sources through tsx; run npm run build first`);
  const peak = await runOnce(args, { peak: true });
  const ms = runs.map((r) => r.ms);
  console.log(
    `${label}: median ${median(ms).toFixed(0)} ms (min ${Math.min(...ms).toFixed(0)}, max ${Math.max(...ms).toFixed(0)}, ${RUNS} runs), ` +
      `peak RSS ${peak.peakKiB !== undefined ? `${(peak.peakKiB / 1024).toFixed(0)} MB` : 'unknown'}, ` +
      `CPU ${peak.cpuMs ?? '?'} ms, exit ${runs[0]!.code}, ${runs[0]!.stdoutBytes} bytes out`,
  );
  return {
    medianMs: median(ms),
    peakMB: peak.peakKiB !== undefined ? peak.peakKiB / 1024 : NaN,
    cpuMs: peak.cpuMs ?? NaN,
  };
}

/** Ten objects: a namespace, five workloads and four policies. */
function tenObjects(): unknown[] {
  const ns = 'shop';
  const apps = ['web', 'api', 'db', 'cache', 'batch'];
  const workload = (app: string, port: number) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: app, namespace: ns },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app } },
      template: {
        metadata: { labels: { app, tier: app === 'db' || app === 'cache' ? 'data' : 'front' } },
        spec: {
          containers: [{ name: app, image: 'agnhost', ports: [{ name: 'main', containerPort: port }] }],
        },
      },
    },
  });
  const policy = (name: string, spec: object) => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace: ns },
    spec,
  });
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { team: 'shop' } } },
    ...apps.map((a, i) => workload(a, 8000 + i)),
    policy('default-deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
    policy('web-to-api', {
      podSelector: { matchLabels: { app: 'api' } },
      ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ port: 'main' }] }],
    }),
    policy('api-to-data', {
      podSelector: { matchLabels: { tier: 'data' } },
      ingress: [{ from: [{ podSelector: { matchLabels: { app: 'api' } } }] }],
    }),
    policy('egress-in-namespace', {
      podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'api'] }] },
      policyTypes: ['Egress'],
      egress: [{ to: [{ podSelector: {} }] }, { ports: [{ port: 53, protocol: 'UDP' }] }],
    }),
  ];
}

/** The engine bench's synthetic cluster (1000 pods, 500 policies) as Kubernetes YAML. */
function syntheticManifests(pods: number): unknown[] {
  const model = syntheticCluster(pods);
  return [
    ...model.namespaces.map((n) => ({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: n.name, labels: n.labels },
    })),
    ...model.pods.map((p) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: p.name, namespace: p.namespace, labels: p.labels },
      spec: {
        containers: [
          {
            name: 'main',
            image: 'agnhost',
            ports: p.ports.map((port) => ({
              name: port.name,
              containerPort: port.port,
              protocol: port.protocol,
            })),
          },
        ],
      },
      status: { podIP: p.ips[0] },
    })),
    ...model.policies.map((p) => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: p.name, namespace: p.namespace },
      spec: p.spec,
    })),
  ];
}

const yamlStream = (objects: unknown[]) => objects.map((o) => stringify(o)).join('---\n');

export const section: BenchSection = {
  name: 'cli',
  async run() {
    const tmp = await mkdtemp(join(tmpdir(), 'kubelab-bench-'));
    try {
      const small = join(tmp, 'ten-objects.yaml');
      const large = join(tmp, 'synthetic-1000-pods.yaml');
      await writeFile(small, yamlStream(tenObjects()));
      await writeFile(large, yamlStream(syntheticManifests(1000)));
      const solution = join(ROOT, 'labs/np-backend/solution.yaml');

      // The floor: Node starting and exiting with nothing to do, on this machine under this load.
      const floor: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const t0 = performance.now();
        await new Promise((r) => spawn(process.execPath, ['-e', '']).once('close', r));
        floor.push(performance.now() - t0);
      }
      console.log(
        `node -e '' (the floor): median ${median(floor).toFixed(0)} ms (idle, these machines start Node in ~40 ms)`,
      );
      const version = await measure('kubelab --version', ['--version'], 0);
      const help = await measure('kubelab --help', ['--help'], 0);
      const check = await measure('kubelab netpol check (10 objects)', ['netpol', 'check', small], 0);
      const matrix = await measure(
        'kubelab netpol matrix (1000 pods x 500 policies, YAML, --port 80, table)',
        ['netpol', 'matrix', large, '--port', '80'],
        0,
      );
      const summary = await measure(
        'kubelab netpol matrix (same, --format summary)',
        ['netpol', 'matrix', large, '--port', '80', '--format', 'summary'],
        0,
      );
      const lab = await measure(
        'kubelab lab check np-backend --simulated -f solution.yaml',
        ['lab', 'check', 'np-backend', '--simulated', '-f', solution],
        0,
      );
      void help;
      void summary;
      const rows: BenchRow[] = [
        {
          figure: '`kubelab --version`, whole process',
          measured: `${version.medianMs.toFixed(0)} ms (CPU ${version.cpuMs} ms), ${version.peakMB.toFixed(0)} MB`,
          target: '<= 250 ms and <= 60 MB',
          met: version.medianMs <= 250 && version.peakMB <= 60,
        },
        {
          figure: '`kubelab netpol check` on a 10-object file, whole process',
          measured: `${check.medianMs.toFixed(0)} ms (CPU ${check.cpuMs} ms)`,
          target: '<= 400 ms',
          met: check.medianMs <= 400,
        },
        {
          figure: '`kubelab netpol matrix`, 1000 pods x 500 policies, whole process',
          measured: `${matrix.medianMs.toFixed(0)} ms (CPU ${matrix.cpuMs} ms)`,
          target: '<= 1000 ms',
          met: matrix.medianMs <= 1000,
        },
        {
          figure: '`kubelab lab check np-backend --simulated -f FILE`, whole process',
          measured: `${lab.medianMs.toFixed(0)} ms (CPU ${lab.cpuMs} ms)`,
          target: '<= 800 ms',
          met: lab.medianMs <= 800,
        },
      ];
      return { ok: rows.every((r) => r.met), rows };
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  },
};
