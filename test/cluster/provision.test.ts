import { describe, expect, it } from 'vitest';
import type { ManifestSource } from '../../server/cluster/calico.js';
import type { CanaryResult } from '../../server/cluster/canary.js';
import { fakeClock } from '../../server/cluster/poll.js';
import {
  clusterDown,
  clusterStatus,
  clusterUp,
  openCluster,
  recognizeCnis,
  type ProvisionDeps,
} from '../../server/cluster/provision.js';
import type { KubeConnectOptions } from '../../server/cluster/kube.js';
import type { KubeObject, ProgressEvent } from '../../server/cluster/types.js';
import { environmentError, KubelabError } from '../../server/errors.js';
import { FakeProvisionedCluster } from './helpers/fake-provisioned.js';
import { FakeRunner, fixture, type Reply } from './helpers/fake-runner.js';
import { KIND_NODE_IMAGE, KIND_NODE_IMAGES } from '../../server/cluster/kind.js';
import { PROBE_IMAGE } from '../../server/probe/index.js';

const SMALL_MANIFEST = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: ippools.crd.projectcalico.org}
spec: {group: crd.projectcalico.org, names: {kind: IPPool, plural: ippools}, scope: Cluster, versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: calico-node, namespace: kube-system}
spec: {selector: {matchLabels: {k8s-app: calico-node}}, template: {metadata: {labels: {k8s-app: calico-node}}, spec: {containers: [{name: calico-node, image: quay.io/calico/node:v3.32.1}]}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: calico-kube-controllers, namespace: kube-system}
spec: {selector: {matchLabels: {k8s-app: calico-kube-controllers}}, template: {metadata: {labels: {k8s-app: calico-kube-controllers}}, spec: {containers: [{name: c, image: quay.io/calico/kube-controllers:v3.32.1}]}}}
`;

const enforcing: CanaryResult = {
  enforcing: true,
  detail: "NetworkPolicy is enforced: a deny-all policy dropped the canary's connection after 2.1s.",
  attempts: 3,
  enforcedAfterMs: 2100,
  elapsedMs: 14000,
};

const healthy: Record<string, Reply | Reply[]> = {
  'docker info': { stdout: '28.2.2\n' },
  'kind version': { stdout: fixture('kind-version.stdout.txt') },
  'kind get clusters': { stderr: fixture('kind-get-clusters-none.stderr.txt') },
  'kind create cluster': { stderr: fixture('kind-create-success.stderr.txt') },
  'kind get kubeconfig': { stdout: fixture('kind-kubeconfig.yaml') },
  'kind get nodes': { stdout: fixture('kind-get-nodes.stdout.txt') },
  'docker exec kubelab-worker crictl pull': { stdout: fixture('crictl-pull-success.stdout.txt') },
};

function setup(script: Record<string, Reply | Reply[]> = {}, opts: { canary?: CanaryResult } = {}) {
  const runner = new FakeRunner({ ...healthy, ...script });
  const cluster = new FakeProvisionedCluster();
  const opened: KubeConnectOptions[] = [];
  const manifestLoads: number[] = [];
  const deps: ProvisionDeps = {
    runner,
    env: { HOME: '/home/learner' },
    clock: fakeClock(),
    openKube: async (o) => {
      opened.push(o);
      return cluster;
    },
    calicoManifest: async () => {
      manifestLoads.push(1);
      return {
        text: SMALL_MANIFEST,
        path: '/home/learner/.cache/kubelab/calico-v3.32.1.yaml',
        origin: 'cache',
      } satisfies ManifestSource;
    },
    canary: async () => opts.canary ?? enforcing,
  };
  return { runner, cluster, opened, manifestLoads, deps };
}

describe('clusterUp', () => {
  it('fresh machine: checks, creates, installs Calico, waits, preloads, proves enforcement', async () => {
    const { runner, cluster, opened, deps } = setup();
    const events: ProgressEvent[] = [];
    const result = await clusterUp({ onProgress: (e) => events.push(e) }, deps);

    expect(runner.commands()).toEqual([
      'docker info --format {{.ServerVersion}} {{.CgroupVersion}}',
      'kind version',
      'kind get clusters',
      'kind create cluster --name kubelab --config -',
      'kind get kubeconfig --name kubelab',
      'kind get nodes --name kubelab',
      `docker exec kubelab-worker crictl pull ${PROBE_IMAGE}`,
    ]);
    // kind v0.31 (the recorded `kind version`) gets the node image published with it.
    expect(runner.calls.find((c) => c.argv[1] === 'create')!.opts.stdin).toContain(
      'kindest/node:v1.35.0@sha256:452d707d4862f52530247495d180205e029056831160e22870e37e3f6c1ac31f',
    );
    expect(opened[0]).toMatchObject({
      context: 'kind-kubelab',
      kubeconfigYaml: fixture('kind-kubeconfig.yaml'),
    });
    expect(cluster.applied.map((o) => o.metadata.name)).toEqual([
      'ippools.crd.projectcalico.org',
      'calico-node',
      'calico-kube-controllers',
    ]);
    expect(result).toMatchObject({
      name: 'kubelab',
      context: 'kind-kubelab',
      created: true,
      calico: 'installed',
      calicoVersion: 'v3.32.1',
      preloaded: true,
      warnings: [],
    });
    expect(result.steps.map((s) => s.step)).toEqual([
      'Docker',
      'kind',
      'kind cluster',
      'connect',
      'Calico',
      'wait for Calico',
      'enforcement canary',
    ]);

    const lines = events.map((e) => `${e.step}: ${e.detail}`);
    expect(lines).toContain('kind cluster: ✓ Preparing nodes');
    expect(lines).toContain('Docker: daemon reachable (server 28.2.2) (0ms)');
    expect(lines.some((l) => l.startsWith('Calico: 3 objects applied with server-side apply'))).toBe(true);
    expect(
      lines.includes('preload: registry.k8s.io/e2e-test-images/agnhost:2.53 pulled on kubelab-worker'),
    ).toBe(true);
    expect(lines.at(-1)).toMatch(/^enforcement canary: NetworkPolicy is enforced/);
    // Every event carries the time since `up` started.
    expect(events.every((e) => typeof e.elapsedMs === 'number')).toBe(true);
  });

  it('is idempotent: an existing cluster with Calico resumes without creating or applying', async () => {
    const { runner, cluster, manifestLoads, deps } = setup({
      'kind get clusters': { stdout: fixture('kind-get-clusters.stdout.txt') },
    });
    cluster.calicoPreinstalled = true;
    cluster.pollsUntilReady = 0;
    const events: ProgressEvent[] = [];
    const result = await clusterUp({ onProgress: (e) => events.push(e) }, deps);
    expect(runner.commands()).not.toContain('kind create cluster --name kubelab --config -');
    expect(cluster.applied).toHaveLength(0);
    expect(manifestLoads).toHaveLength(0);
    expect(result).toMatchObject({ created: false, calico: 'already installed' });
    expect(events.map((e) => e.detail)).toContain(
      '"kubelab" already exists: resuming with the remaining steps',
    );
  });

  it('without Docker: one ENVIRONMENT error (exit 3) before anything else runs', async () => {
    const { runner, deps } = setup({
      'docker info': { exitCode: 1, stderr: fixture('docker-info-no-daemon.stderr.txt') },
    });
    const err = (await clusterUp({}, deps).catch((e: unknown) => e)) as KubelabError;
    expect(err).toBeInstanceOf(KubelabError);
    expect(err.exitCode).toBe(3);
    expect(err.message).toContain('Docker daemon is not reachable');
    expect(runner.commands()).toEqual(['docker info --format {{.ServerVersion}} {{.CgroupVersion}}']);
  });

  it('without kind: says what to install', async () => {
    const { deps } = setup({ 'kind version': { notFound: true } });
    await expect(clusterUp({}, deps)).rejects.toMatchObject({
      code: 'ENVIRONMENT',
      hint: expect.stringContaining('Install kind'),
    });
  });

  it('picks the node image by `kind version`; a kind newer than the table warns and goes on', async () => {
    const { deps, runner } = setup({ 'kind version': { stdout: 'kind v0.33.0 go1.26.1 linux/amd64\n' } });
    const result = await clusterUp({}, deps);
    expect(result.warnings[0]).toContain(
      'kind v0.33.0 is newer than the releases kubelab has node images for',
    );
    expect(runner.calls.find((c) => c.argv[1] === 'create')!.opts.stdin).toContain(KIND_NODE_IMAGE);
    const v32 = setup({ 'kind version': { stdout: 'kind v0.32.0 go1.26.1 linux/amd64\n' } });
    expect((await clusterUp({}, v32.deps)).warnings).toEqual([]);
    const pinned = setup({ 'kind version': { stdout: 'kind v0.33.0 go1.26.1 linux/amd64\n' } });
    expect(
      (await clusterUp({ nodeImage: 'kindest/node:v1.37.0@sha256:' + 'a'.repeat(64) }, pinned.deps)).warnings,
    ).toEqual([]);
  });

  it("a failed pre-pull is a warning in crictl's words, not a failure", async () => {
    const { deps } = setup({
      'docker exec kubelab-worker crictl pull': {
        exitCode: 1,
        stderr: fixture('crictl-pull-dns-failed.stderr.txt'),
      },
    });
    const result = await clusterUp({}, deps);
    expect(result.preloaded).toBe(false);
    expect(result.warnings[0]).toMatch(
      /^could not pre-pull registry\.k8s\.io\/e2e-test-images\/agnhost:2\.53 \(kubelab-worker: pulling image: .*server misbehaving"?\); the nodes will pull it when a lab starts$/,
    );
  });

  it('a Calico failure is reported at once, stopping a pre-pull that is still downloading', async () => {
    const { cluster, deps, runner } = setup({ 'docker exec kubelab-worker crictl pull': { hang: true } });
    cluster.pollsUntilReady = Infinity;
    const events: ProgressEvent[] = [];
    await expect(
      clusterUp({ calicoTimeoutMs: 60_000, onProgress: (e) => events.push(e) }, deps),
    ).rejects.toMatchObject({
      code: 'ENVIRONMENT',
      message: expect.stringContaining('Calico was not ready'),
    });
    // Had clusterUp waited for the pull, it would never have settled: the fake pull ends only when stopped.
    expect(runner.canceled).toEqual([`docker exec kubelab-worker crictl pull ${PROBE_IMAGE}`]);
    expect(events.some((e) => e.step === 'preload')).toBe(false);
  });

  it('refuses a cgroup v1 host before creating anything, and says why and what to do', async () => {
    const { deps, runner } = setup({ 'docker info': { stdout: '24.0.7 1\n' } });
    const err = (await clusterUp({}, deps).catch((e: unknown) => e)) as KubelabError;
    expect(err.code).toBe('ENVIRONMENT');
    expect(err.message).toContain('cgroup v1');
    expect(err.message).toContain('Kubernetes 1.35 and newer');
    expect(err.hint).toContain('cgroup v2');
    expect(err.hint).toContain('--image kindest/node:v1.34.0@sha256:');
    expect(runner.commands().some((c) => c.startsWith('kind create'))).toBe(false);
    // With a Kubernetes 1.34 image it goes ahead, with a warning.
    const old = setup({ 'docker info': { stdout: '24.0.7 1\n' } });
    const result = await clusterUp({ nodeImage: KIND_NODE_IMAGES[0]!.image }, old.deps);
    expect(result.created).toBe(true);
    expect(result.warnings[0]).toContain('cgroup v1');
    // A cluster that already runs is not refused: it evidently started.
    const running = setup({
      'docker info': { stdout: '24.0.7 1\n' },
      'kind get clusters': { stdout: fixture('kind-get-clusters.stdout.txt') },
    });
    running.cluster.calicoPreinstalled = true;
    await expect(clusterUp({}, running.deps)).resolves.toMatchObject({ created: false });
  });

  it('kind create failures surface as kind explains them', async () => {
    const { deps } = setup({
      'kind create cluster': { exitCode: 1, stderr: fixture('kind-create-image-pull-failed.stderr.txt') },
    });
    await expect(clusterUp({}, deps)).rejects.toMatchObject({
      code: 'ENVIRONMENT',
      message: expect.stringContaining('node image could not be pulled'),
    });
  });

  it('Calico that never gets ready ends in an ENVIRONMENT error at the deadline', async () => {
    const { cluster, deps } = setup();
    cluster.pollsUntilReady = Infinity;
    await expect(clusterUp({ calicoTimeoutMs: 60_000 }, deps)).rejects.toMatchObject({
      code: 'ENVIRONMENT',
      message: expect.stringContaining('Calico was not ready'),
    });
  });

  it('a fresh cluster that does not enforce NetworkPolicy is an error, never "up"', async () => {
    const { deps } = setup(
      {},
      {
        canary: {
          enforcing: false,
          detail:
            'this cluster does not enforce NetworkPolicy: the canary still connected 20s after a deny-all ingress policy was applied.',
          attempts: 20,
          elapsedMs: 30000,
        },
      },
    );
    await expect(clusterUp({}, deps)).rejects.toMatchObject({
      code: 'ENVIRONMENT',
      message: expect.stringContaining('does not enforce NetworkPolicy'),
    });
  });

  it('validates name and workers before doing anything', async () => {
    const { runner, deps } = setup();
    await expect(clusterUp({ name: 'Bad Name', workers: 2 }, deps)).rejects.toMatchObject({
      code: 'BAD_INPUT',
    });
    expect(runner.calls).toHaveLength(0);
  });

  it('passes --workers into the kind config', async () => {
    const { runner, deps } = setup();
    await clusterUp({ workers: 2, canary: false, preload: false }, deps);
    const create = runner.calls.find((c) => c.argv[1] === 'create')!;
    expect(create.opts.stdin!.match(/role: worker/g)).toHaveLength(2);
    expect(runner.commands().some((c) => c.includes('crictl pull'))).toBe(false);
  });
});

describe('clusterDown', () => {
  it('deletes an existing cluster', async () => {
    const { runner, deps } = setup({
      'kind get clusters': { stdout: fixture('kind-get-clusters.stdout.txt') },
      'kind delete cluster': { stderr: fixture('kind-delete.stderr.txt') },
    });
    expect(await clusterDown({}, deps)).toEqual({ name: 'kubelab', deleted: true });
    expect(runner.commands()).toContain('kind delete cluster --name kubelab');
  });

  it('reports "nothing to delete" for an absent cluster', async () => {
    const { runner, deps } = setup();
    expect(await clusterDown({ name: 'other' }, deps)).toEqual({ name: 'other', deleted: false });
    expect(runner.commands().some((c) => c.startsWith('kind delete'))).toBe(false);
  });

  it('needs Docker', async () => {
    const { deps } = setup({
      'docker info': { exitCode: 1, stderr: fixture('docker-info-no-daemon.stderr.txt') },
    });
    await expect(clusterDown({}, deps)).rejects.toMatchObject({
      code: 'ENVIRONMENT',
      message: expect.stringContaining('Deleting the kind cluster needs Docker'),
    });
  });
});

describe('openCluster', () => {
  it('an explicit context is "bring your own cluster": kind is not consulted', async () => {
    const { runner, opened, deps } = setup();
    await openCluster({ context: 'my-cluster' }, deps);
    expect(opened[0]).toMatchObject({ context: 'my-cluster' });
    expect(runner.calls).toHaveLength(0);
    await openCluster({}, { ...deps, env: { KUBELAB_CONTEXT: 'from-env' } });
    expect(opened[1]).toMatchObject({ context: 'from-env' });
  });

  it("otherwise the kind cluster, through kind's own kubeconfig", async () => {
    const { opened, deps } = setup({
      'kind get clusters': { stdout: fixture('kind-get-clusters.stdout.txt') },
    });
    await openCluster({}, deps);
    expect(opened[0]).toMatchObject({
      context: 'kind-kubelab',
      kubeconfigYaml: fixture('kind-kubeconfig.yaml'),
    });
  });

  it('never falls back to the current context when the kind cluster is missing', async () => {
    const { opened, deps } = setup();
    await expect(openCluster({}, deps)).rejects.toMatchObject({
      code: 'ENVIRONMENT',
      message: 'there is no kind cluster named "kubelab".',
      hint: expect.stringContaining('kubelab cluster up'),
    });
    expect(opened).toHaveLength(0);
    const noKind = setup({ 'kind version': { notFound: true } });
    await expect(openCluster({}, noKind.deps)).rejects.toMatchObject({
      hint: expect.stringContaining('--context'),
    });
  });
});

describe('clusterStatus', () => {
  it('reports nodes, the network plugin, Calico and the canary', async () => {
    const { cluster, deps } = setup({
      'kind get clusters': { stdout: fixture('kind-get-clusters.stdout.txt') },
    });
    cluster.calicoPreinstalled = true;
    cluster.pollsUntilReady = 0;
    const report = await clusterStatus({}, deps);
    expect(report).toMatchObject({
      serverVersion: 'v1.35.0',
      cni: ['Calico'],
      calico: { installed: true, ready: true, version: 'v3.32.1' },
      canary: { enforcing: true },
      problems: [],
    });
    expect(report.nodes).toEqual([
      { name: 'kubelab-control-plane', ready: true, roles: ['control-plane'], version: 'v1.35.0' },
      { name: 'kubelab-worker', ready: true, roles: ['worker'], version: 'v1.35.0' },
    ]);
  });

  it('lists what is wrong: no CNI, nodes NotReady, not enforcing', async () => {
    const { deps } = setup(
      { 'kind get clusters': { stdout: fixture('kind-get-clusters.stdout.txt') } },
      {
        canary: {
          enforcing: false,
          detail: 'this cluster does not enforce NetworkPolicy: x',
          attempts: 1,
          elapsedMs: 1,
        },
      },
    );
    const report = await clusterStatus({}, deps);
    expect(report.problems).toEqual([
      expect.stringContaining('node kubelab-control-plane is not Ready'),
      expect.stringContaining('node kubelab-worker is not Ready'),
      expect.stringContaining('no known network plugin'),
      'this cluster does not enforce NetworkPolicy: x',
    ]);
  });

  it('recognises network plugins by their DaemonSets, Flannel flagged', () => {
    const ds = (name: string): KubeObject => ({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name },
    });
    expect(recognizeCnis([ds('kube-proxy'), ds('kube-flannel-ds')])).toEqual([
      'Flannel (does not enforce NetworkPolicy)',
    ]);
    expect(recognizeCnis([ds('kindnet'), ds('cilium')]).sort()).toEqual(['Cilium', 'kindnet (kind default)']);
  });
});

describe('a kind cluster whose API server is silent', () => {
  it('says the node containers may be stopped and how to start them', async () => {
    const { deps } = setup({ 'kind get clusters': { stdout: fixture('kind-get-clusters.stdout.txt') } });
    deps.openKube = async () => {
      throw environmentError(
        'could not reach the cluster (kind-kubelab): cannot reach the Kubernetes API server at https://127.0.0.1:41235 (connection refused).',
      );
    };
    await expect(openCluster({}, deps)).rejects.toMatchObject({
      code: 'ENVIRONMENT',
      message: expect.stringContaining(
        'the kind cluster "kubelab" exists but its API server does not answer',
      ),
      hint: expect.stringContaining('docker start $(kind get nodes --name kubelab)'),
    });
    await expect(clusterUp({}, deps)).rejects.toMatchObject({
      hint: expect.stringContaining('docker start'),
    });
  });
});

describe('resuming a half-finished install', () => {
  it('applies Calico again when ours is present but not ready (an interrupted install)', async () => {
    const { cluster, deps } = setup({
      'kind get clusters': { stdout: fixture('kind-get-clusters.stdout.txt') },
    });
    cluster.calicoPreinstalled = true;
    cluster.pollsUntilReady = 2;
    const result = await clusterUp({ canary: false, preload: false }, deps);
    expect(result.calico).toBe('installed');
    expect(cluster.applied.map((o) => o.metadata.name)).toContain('calico-kube-controllers');
  });

  it('keeps a different Calico version that is already there', async () => {
    const { cluster, deps } = setup({
      'kind get clusters': { stdout: fixture('kind-get-clusters.stdout.txt') },
    });
    cluster.calicoPreinstalled = true;
    cluster.calicoVersion = 'v3.28.0';
    cluster.pollsUntilReady = 2;
    const result = await clusterUp({ canary: false, preload: false }, deps);
    expect(result.calico).toBe('already installed');
    expect(cluster.applied).toHaveLength(0);
    expect(result.warnings[0]).toContain('runs Calico v3.28.0');
  });
});
