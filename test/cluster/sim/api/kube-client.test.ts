/**
 * The whole real-cluster client (server/cluster/kube.ts: server-side apply, read, list, delete,
 * waitReady, deleteNamespace, exec over WebSocket, error mapping) against the simulated cluster's
 * API, so the code path real clusters use runs on every commit. And the real-cluster grader,
 * canary included, grading a cluster changed with kubectl.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { connectKube, type KubeCluster } from '../../../../server/cluster/kube.js';
import { buildProbeArgv, probeDeadlineMs } from '../../../../server/probe/index.js';
import { gradeOnRealCluster } from '../../../../server/cli/lab-real.js';
import { memoryIO } from '../../../../server/cli/io.js';
import { loadLab, readManifestFile } from '../../../../server/labs/index.js';
import { startSim, kubectl, kubectlSkipReason, stopSim, type StartedSim } from './support.js';
import type { KubeObject } from '../../../../server/cluster/types.js';

const LAB = join(import.meta.dirname, '../../../../labs/np-backend');

describe('KubeCluster (server/cluster/kube.ts) against the simulated API', () => {
  let sim: StartedSim;
  let kube: KubeCluster;

  beforeAll(async () => {
    sim = await startSim();
    kube = await connectKube({ kubeconfig: sim.kubeconfigPath });
  });
  afterAll(async () => {
    await stopSim(sim);
  });

  it('pings, lists and reads in wire shape', async () => {
    expect(await kube.ping()).toBe('v1.32.0');
    const pods = await kube.list('Pod', 'np-lab');
    expect(pods.filter((p) => p.metadata.labels?.app === 'backend')).toHaveLength(2);
    expect(pods.every((p) => p.kind === 'Pod')).toBe(true);
    const byLabel = await kube.listObjects('v1', 'Pod', 'np-lab', 'app in (db1,db2)');
    expect(byLabel.map((p) => p.metadata.labels?.app).sort()).toEqual(['db1', 'db2']);
    expect(await kube.getObject('v1', 'Service', 'db1', 'np-lab')).toMatchObject({
      spec: { ports: [{ port: 1111 }, { port: 2222 }, { port: 3333 }] },
    });
    expect(await kube.getObject('v1', 'Service', 'nope', 'np-lab')).toBeUndefined();
  });

  it('server-side apply: created, unchanged, configured; `from`/`to` survive the round trip', async () => {
    const objects = await readManifestFile(join(LAB, 'solution.yaml'));
    expect(await kube.apply(objects)).toEqual([
      { kind: 'NetworkPolicy', namespace: 'np-lab', name: 'np-backend', action: 'created' },
    ]);
    expect((await kube.apply(objects))[0]!.action).toBe('unchanged');
    const narrowed = structuredClone(objects) as KubeObject[];
    (narrowed[0]!.spec as { egress: unknown[] }).egress.splice(1, 1);
    expect((await kube.apply(narrowed))[0]!.action).toBe('configured');
    const [stored] = await kube.list('NetworkPolicy', 'np-lab');
    expect((stored!.spec as { egress: Array<{ to: unknown[] }> }).egress).toHaveLength(2);
    expect((stored!.spec as { egress: Array<{ to: unknown[] }> }).egress[1]!.to[0]).toMatchObject({
      namespaceSelector: {},
      podSelector: {},
    });
    await kube.delete('NetworkPolicy', 'np-backend', 'np-lab');
    expect(await kube.list('NetworkPolicy', 'np-lab')).toEqual([]);
    await kube.delete('NetworkPolicy', 'np-backend', 'np-lab'); // absent: not an error
  });

  it('maps a 422 to BAD_INPUT with the field path, and a missing namespace to its own message', async () => {
    const bad = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'bad', namespace: 'np-lab' },
      spec: { podSelector: {}, egress: [{ ports: [{ port: 70000 }] }] },
    };
    await expect(kube.apply([bad])).rejects.toMatchObject({
      code: 'BAD_INPUT',
      problems: [expect.objectContaining({ path: 'spec.egress[0].ports[0].port' })],
    });
  });

  it('exec runs the grader’s probe argv exactly as the in-process simulation answers it', async () => {
    const [backend] = await kube.listObjects('v1', 'Pod', 'np-lab', 'app=backend');
    const ref = { namespace: 'np-lab', name: backend!.metadata.name };
    for (const spec of [
      { kind: 'tcp' as const, host: 'db1.np-lab.svc.cluster.local.', port: 1111, timeoutSeconds: 2 },
      { kind: 'tcp' as const, host: 'nothing-here', port: 80, timeoutSeconds: 2 },
      { kind: 'dns' as const, name: 'db2', timeoutSeconds: 2 },
    ]) {
      const argv = buildProbeArgv(spec);
      const viaApi = await kube.exec(ref, argv, probeDeadlineMs(spec));
      const direct = await sim.cluster.exec(ref, argv, probeDeadlineMs(spec));
      expect(viaApi).toEqual(direct);
    }
    await expect(kube.exec({ namespace: 'np-lab', name: 'gone' }, ['true'], 2000)).rejects.toMatchObject({
      code: 'ENVIRONMENT',
    });
  });

  it('waitReady and deleteNamespace', async () => {
    expect(await kube.waitReady(['np-lab', 'np-outside'], { timeoutMs: 5000 })).toEqual({
      ready: true,
      notReady: [],
    });
    await kube.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'scratch' } }]);
    await kube.deleteNamespace('scratch', { timeoutMs: 5000 });
    expect(await kube.getObject('v1', 'Namespace', 'scratch')).toBeUndefined();
  });
});

describe.skipIf(kubectlSkipReason !== undefined)(
  'kubelab lab check --kubeconfig on a simulated cluster changed with kubectl',
  () => {
    let sim: StartedSim;
    beforeAll(async () => {
      sim = await startSim();
    });
    afterAll(async () => {
      await stopSim(sim);
    });

    it('fails before the solution is applied and passes after, the enforcement canary included', async () => {
      const lab = await loadLab('np-backend');
      // A clock whose sleeps return at once: the real-cluster grader re-probes for 15 s before failing.
      let t = 0;
      const clock = { now: () => t, sleep: async (ms: number) => void (t += ms) };
      const io = memoryIO();
      const before = await gradeOnRealCluster(lab, io, { kubeconfig: sim.kubeconfigPath }, { clock });
      expect(before.status).toBe('failed');
      expect(io.stderrText()).toMatch(/canary: after the policy: blocked/);
      expect(before.checks.find((c) => c.id === 'backend-blocked-elsewhere')?.status).toBe('fail');
      expect(before.checks.find((c) => c.id === 'backend-reaches-databases')?.status).toBe('pass');

      const applied = await kubectl(sim.kubeconfigPath, ['apply', '-f', join(LAB, 'solution.yaml')]);
      expect(applied.code).toBe(0);
      const after = await gradeOnRealCluster(lab, memoryIO(), { kubeconfig: sim.kubeconfigPath }, { clock });
      expect(after.status).toBe('passed');
      // The canary cleaned up after itself.
      expect((await sim.cluster.list('Namespace')).map((n) => n.metadata.name)).not.toContainEqual(
        expect.stringMatching(/^kubelab-canary-/),
      );
    });
  },
);

describe('exec over WebSocket and Go clients', () => {
  let sim: StartedSim;
  beforeAll(async () => {
    sim = await startSim();
  });
  afterAll(async () => {
    await stopSim(sim);
  });

  /** Milliseconds from the socket opening to the first frame, for a client calling itself `agent`. */
  async function firstFrameAfter(agent: string): Promise<number> {
    const { WebSocket } = await import('ws');
    const pod = (await sim.cluster.list('Pod', 'np-lab')).find((p) => p.metadata.labels?.app === 'backend')!;
    const url =
      `${sim.api.url.replace('http', 'ws')}/sim/${sim.token}/api/v1/namespaces/np-lab/pods/${pod.metadata.name}/exec` +
      '?command=hostname&stdout=true&stderr=true';
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, ['v5.channel.k8s.io'], { headers: { 'User-Agent': agent } });
      let opened = 0;
      ws.once('open', () => (opened = performance.now()));
      ws.once('message', () => {
        resolve(performance.now() - opened);
        ws.close();
      });
      ws.once('error', reject);
    });
  }

  it('holds its answer back from kubectl, which drops output that outruns its streams', async () => {
    // A timer never fires early, so this cannot pass by luck; it fails if the pause is removed.
    expect(await firstFrameAfter('kubectl/v1.32.4 (linux/amd64) kubernetes/abc1234')).toBeGreaterThanOrEqual(
      90,
    );
  });

  it('answers other clients', async () => {
    expect(await firstFrameAfter('kubelab-test')).toBeGreaterThanOrEqual(0);
  });
});
