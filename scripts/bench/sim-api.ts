/**
 * The simulated cluster's Kubernetes API over loopback HTTP, through the real-cluster client
 * (server/cluster/kube.ts): cost per request of a get (list), a server-side apply and an exec of a
 * probe over WebSocket, and a whole np-backend check through the API (canary skipped: the grader
 * as `lab check` runs it after the canary). Targets (the server's share, on a shared 2-core machine): a plain GET and an exec p95 < 100 ms; the client's
 * figures are reported as measured (client-node converts every object to and from its models).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchSection } from '../bench.js';
import { simUp } from '../../server/cli/sim.js';
import { connectKube } from '../../server/cluster/kube.js';
import { buildProbeArgv, probeDeadlineMs } from '../../server/probe/index.js';
import { loadLab, loadScenario, readManifestFile } from '../../server/labs/index.js';
import { gradeLab } from '../../server/grader/index.js';

async function measure(n: number, fn: (i: number) => Promise<unknown>) {
  const timings: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    timings.push(performance.now() - t);
  }
  timings.sort((a, b) => a - b);
  const at = (q: number) => timings[Math.min(timings.length - 1, Math.floor(timings.length * q))]!;
  return { p50: at(0.5), p95: at(0.95) };
}

export const section: BenchSection = {
  name: 'sim-api',
  async run() {
    const up = await simUp({ lab: 'np-backend', dir: mkdtempSync(join(tmpdir(), 'kubelab-bench-')) });
    try {
      const kube = await connectKube({ kubeconfig: up.kubeconfigPath });
      const lab = await loadLab('np-backend');
      const scenario = await loadScenario(lab.scenario);
      const solution = await readManifestFile(lab.files.solution);
      const wrong = await readManifestFile(`${lab.dir}/${lab.knownWrong[0]!.file}`);
      const [backend] = await kube.listObjects('v1', 'Pod', 'np-lab', 'app=backend');
      const spec = {
        kind: 'tcp' as const,
        host: 'db1.np-lab.svc.cluster.local.',
        port: 1111,
        timeoutSeconds: 2,
      };
      const argv = buildProbeArgv(spec);

      // The server's own cost, without client-node's model conversion.
      const base = `${up.api.url}/sim/${up.token}`;
      const raw = await measure(200, async () =>
        (await fetch(`${base}/api/v1/namespaces/np-lab/pods`)).json(),
      );
      const get = await measure(200, () => kube.list('Pod', 'np-lab'));
      const apply = await measure(100, (i) => kube.apply(i % 2 === 0 ? solution : wrong));
      const exec = await measure(200, () =>
        kube.exec({ namespace: 'np-lab', name: backend!.metadata.name }, argv, probeDeadlineMs(spec)),
      );
      await kube.apply(solution);
      const check = await measure(5, () => gradeLab({ lab, scenario, cluster: kube, concurrency: 8 }));
      const f = (x: { p50: number; p95: number }) => `p50 ${x.p50.toFixed(1)} ms, p95 ${x.p95.toFixed(1)} ms`;
      console.log(`GET pods (plain fetch, no client): ${f(raw)}`);
      console.log(`get (list pods in np-lab):        ${f(get)}`);
      console.log(`apply (server-side, 1 policy):    ${f(apply)}`);
      console.log(`exec (probe over WebSocket):      ${f(exec)}`);
      console.log(`check np-backend through the API: ${f(check)} (32 probes, passing attempt)`);
      return { ok: raw.p95 < 100 && exec.p95 < 100 };
    } finally {
      await up.api.close();
    }
  },
};
