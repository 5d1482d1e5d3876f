import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CALICO_MANIFEST_SHA256,
  CALICO_MANIFEST_URL,
  cacheDir,
  calicoObjects,
  calicoState,
  obtainCalicoManifest,
  sha256,
  waitForCalico,
  type ClusterInspector,
} from '../../server/cluster/calico.js';
import { prepareForApply } from '../../server/cluster/kube-wire.js';
import { fakeClock } from '../../server/cluster/poll.js';
import type { KubeObject } from '../../server/cluster/types.js';

describe('the pinned manifest', () => {
  it('is v3.32.1 from the upstream raw URL with a sha256 pin', () => {
    expect(CALICO_MANIFEST_URL).toBe(
      'https://raw.githubusercontent.com/projectcalico/calico/v3.32.1/manifests/calico.yaml',
    );
    expect(CALICO_MANIFEST_SHA256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('caches under $XDG_CACHE_HOME/kubelab, else ~/.cache/kubelab', () => {
    expect(cacheDir({ XDG_CACHE_HOME: '/x/cache', HOME: '/home/u' })).toBe('/x/cache/kubelab');
    expect(cacheDir({ HOME: '/home/u' })).toBe('/home/u/.cache/kubelab');
  });
});

describe('obtainCalicoManifest', () => {
  const env = () => ({ XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), 'kubelab-cache-')) });

  it('refuses a download whose sha256 is not the pinned one, and caches nothing', async () => {
    const e = env();
    await expect(
      obtainCalicoManifest({ env: e, download: async () => Buffer.from('kind: Tampered\n') }),
    ).rejects.toMatchObject({
      code: 'ENVIRONMENT',
      message: expect.stringContaining('refusing to install'),
    });
    expect(existsSync(join(e.XDG_CACHE_HOME, 'kubelab', 'calico-v3.32.1.yaml'))).toBe(false);
  });

  it('says how to work offline when the download fails', async () => {
    await expect(
      obtainCalicoManifest({
        env: env(),
        download: async () => Promise.reject(new Error('getaddrinfo ENOTFOUND raw.githubusercontent.com')),
      }),
    ).rejects.toMatchObject({
      hint: expect.stringContaining('KUBELAB_CALICO_MANIFEST'),
    });
  });

  it('discards a cached file that does not match, then downloads again', async () => {
    const e = env();
    const path = join(e.XDG_CACHE_HOME, 'kubelab', 'calico-v3.32.1.yaml');
    mkdirSync(join(e.XDG_CACHE_HOME, 'kubelab'), { recursive: true });
    writeFileSync(path, 'truncated');
    const notes: string[] = [];
    const result = obtainCalicoManifest({
      env: e,
      download: async () => Buffer.from('still wrong'),
      onProgress: (d) => notes.push(d),
    });
    await expect(result).rejects.toMatchObject({ code: 'ENVIRONMENT' });
    expect(notes[0]).toContain('does not match the pinned sha256');
    expect(existsSync(path)).toBe(false);
  });

  it('checks a local copy named by KUBELAB_CALICO_MANIFEST too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubelab-local-'));
    writeFileSync(join(dir, 'calico.yaml'), 'not calico');
    await expect(
      obtainCalicoManifest({ env: { KUBELAB_CALICO_MANIFEST: join(dir, 'calico.yaml') } }),
    ).rejects.toMatchObject({ message: expect.stringContaining('refusing') });
  });

  // The real manifest is not part of the repository: point KUBELAB_CALICO_MANIFEST at a copy
  // (or let `kubelab cluster up` cache it) to run these.
  const real = process.env.KUBELAB_CALICO_MANIFEST ?? join(cacheDir(process.env), 'calico-v3.32.1.yaml');
  const haveReal = existsSync(real) && sha256(readFileSync(real)) === CALICO_MANIFEST_SHA256;
  if (!haveReal)
    console.info(
      `[calico] real-manifest tests skipped: no verified copy at ${real} (set KUBELAB_CALICO_MANIFEST to run them)`,
    );

  it.skipIf(!haveReal)(
    'accepts the real manifest, caches it, and then serves it from the cache',
    async () => {
      const e = env();
      const data = readFileSync(real);
      const first = await obtainCalicoManifest({ env: e, download: async () => data });
      expect(first.origin).toBe('download');
      const second = await obtainCalicoManifest({
        env: e,
        download: async () => Promise.reject(new Error('must not download')),
      });
      expect(second.origin).toBe('cache');
      expect(sha256(readFileSync(second.path))).toBe(CALICO_MANIFEST_SHA256);
    },
  );

  it.skipIf(!haveReal)(
    'every object of the real manifest survives the client conversion without losing a field',
    () => {
      const objects = calicoObjects(readFileSync(real, 'utf8'));
      expect(objects.filter((o) => o.kind === 'CustomResourceDefinition').length).toBeGreaterThan(10);
      expect(objects.some((o) => o.kind === 'DaemonSet' && o.metadata.name === 'calico-node')).toBe(true);
      expect(() => prepareForApply(objects)).not.toThrow();
    },
  );
});

const ds = (ready: number, desired: number, updated = ready): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name: 'calico-node', namespace: 'kube-system', generation: 1 },
  spec: {
    template: { spec: { containers: [{ name: 'calico-node', image: 'quay.io/calico/node:v3.32.1' }] } },
  },
  status: {
    observedGeneration: 1,
    desiredNumberScheduled: desired,
    numberReady: ready,
    updatedNumberScheduled: updated,
  },
});
const controllers = (available: boolean): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'calico-kube-controllers', namespace: 'kube-system', generation: 1 },
  spec: { replicas: 1 },
  status: {
    observedGeneration: 1,
    availableReplicas: available ? 1 : 0,
    updatedReplicas: 1,
    conditions: [{ type: 'Available', status: available ? 'True' : 'False' }],
  },
});
const node = (name: string, ready: boolean): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name },
  status: {
    conditions: [
      {
        type: 'Ready',
        status: ready ? 'True' : 'False',
        message: ready
          ? 'kubelet is posting ready status'
          : 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized',
      },
    ],
  },
});
const dnsPod = (name: string, ready: boolean): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
  status: ready
    ? { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] }
    : {
        phase: 'Pending',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message:
              '0/2 nodes are available: 2 node(s) had untolerated taint {node.kubernetes.io/not-ready: }',
          },
        ],
      },
});

/** A cluster whose Calico install progresses one stage per poll. */
function progressingCluster(
  stages: Array<{ ds?: KubeObject; controllers?: KubeObject; nodes: KubeObject[]; dns: KubeObject[] }>,
): ClusterInspector & { polls: number } {
  // Each poll starts by reading the DaemonSet: that read moves to the next stage.
  const current = () => stages[Math.min(Math.max(fake.polls - 1, 0), stages.length - 1)]!;
  const fake = {
    polls: 0,
    async getObject(_v: string, kind: string) {
      if (kind === 'DaemonSet') {
        fake.polls++;
        return current().ds;
      }
      return current().controllers;
    },
    async listObjects(_v: string, kind: string) {
      return kind === 'Node' ? current().nodes : current().dns;
    },
  };
  return fake;
}

describe('Calico readiness', () => {
  it('fresh cluster: nothing installed, nodes NotReady, CoreDNS Pending, each said plainly', async () => {
    const state = await calicoState(
      progressingCluster([
        { nodes: [node('kubelab-control-plane', false)], dns: [dnsPod('coredns-1', false)] },
      ]),
    );
    expect(state).toMatchObject({ installed: false, ready: false });
    expect(state.waitingFor).toEqual([
      'DaemonSet kube-system/calico-node does not exist',
      'Deployment kube-system/calico-kube-controllers does not exist',
      expect.stringContaining('node kubelab-control-plane is not Ready (container runtime network not ready'),
      expect.stringContaining('CoreDNS kube-system/coredns-1: not scheduled: Unschedulable'),
    ]);
  });

  it('waits through the stages until ready == desired, updated == desired, controllers, nodes and CoreDNS', async () => {
    const nodes = (r: boolean) => [node('cp', r), node('w', r)];
    const cluster = progressingCluster([
      { ds: ds(0, 2), controllers: controllers(false), nodes: nodes(false), dns: [dnsPod('d', false)] },
      { ds: ds(2, 2, 1), controllers: controllers(false), nodes: nodes(true), dns: [dnsPod('d', false)] },
      { ds: ds(2, 2), controllers: controllers(true), nodes: nodes(true), dns: [dnsPod('d', false)] },
      { ds: ds(2, 2), controllers: controllers(true), nodes: nodes(true), dns: [dnsPod('d', true)] },
    ]);
    const details: string[] = [];
    const state = await waitForCalico(cluster, {
      timeoutMs: 600_000,
      clock: fakeClock(),
      onProgress: (e) => details.push(e.detail ?? ''),
    });
    expect(state).toMatchObject({ installed: true, ready: true, version: 'v3.32.1', waitingFor: [] });
    expect(cluster.polls).toBe(4);
    expect(details[1]).toContain('2/2 ready, 1/2 updated');
    expect(details.at(-1)).toBe('ready');
  });

  it('gives up at the deadline with what is missing and how to look', async () => {
    const cluster = progressingCluster([
      { ds: ds(1, 2), controllers: controllers(true), nodes: [node('cp', true)], dns: [dnsPod('d', true)] },
    ]);
    await expect(waitForCalico(cluster, { timeoutMs: 300_000, clock: fakeClock() })).rejects.toMatchObject({
      code: 'ENVIRONMENT',
      message: expect.stringContaining('DaemonSet kube-system/calico-node: 1/2 ready'),
      hint: expect.stringContaining('kubectl -n kube-system get pods'),
    });
  });
});
