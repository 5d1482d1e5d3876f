import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  CGROUP_V1_HINT,
  classifyKindFailure,
  KIND_NODE_IMAGE,
  KIND_NODE_IMAGES,
  KindCli,
  kindArgv,
  kindConfig,
  kindError,
  nodeImageFor,
  nodeImageKubernetesMinor,
  parseKindClusters,
  parseKindLine,
  parseKindVersion,
  refusesCgroupV1,
  renderKindConfig,
  validateClusterSpec,
  type KindLine,
} from '../../server/cluster/kind.js';
import type { RunResult } from '../../server/cluster/runner.js';
import { KubelabError } from '../../server/errors.js';
import { FakeRunner, fixture } from './helpers/fake-runner.js';

const spec = { name: 'kubelab', workers: 1, nodeImage: KIND_NODE_IMAGE };
const failed = (stderr: string, exitCode = 1): RunResult => ({
  argv: ['kind'],
  exitCode,
  stdout: '',
  stderr,
  notFound: false,
  timedOut: false,
});

describe('kind config', () => {
  it("disables the default CNI, uses Calico's pod subnet and pins every node to the digest", () => {
    const cfg = parse(renderKindConfig({ ...spec, workers: 2 }));
    expect(cfg).toEqual({
      kind: 'Cluster',
      apiVersion: 'kind.x-k8s.io/v1alpha4',
      networking: { disableDefaultCNI: true, podSubnet: '192.168.0.0/16' },
      nodes: [
        { role: 'control-plane', image: KIND_NODE_IMAGE },
        { role: 'worker', image: KIND_NODE_IMAGE },
        { role: 'worker', image: KIND_NODE_IMAGE },
      ],
    });
  });

  it('pins a kindest/node tag together with a sha256 digest', () => {
    expect(KIND_NODE_IMAGE).toMatch(/^kindest\/node:v\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$/);
  });

  it('allows a control-plane-only cluster', () => {
    expect(kindConfig({ ...spec, workers: 0 }).nodes).toEqual([
      { role: 'control-plane', image: KIND_NODE_IMAGE },
    ]);
  });

  it('rejects bad names and worker counts with every problem at once', () => {
    try {
      validateClusterSpec({ name: 'My_Cluster', workers: 9, nodeImage: KIND_NODE_IMAGE });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(KubelabError);
      const err = e as KubelabError;
      expect(err.code).toBe('BAD_INPUT');
      expect(err.problems).toHaveLength(2);
    }
    expect(validateClusterSpec(spec)).toBe(spec);
  });
});

describe('kind command lines', () => {
  it('reads the config from stdin and never passes --wait', () => {
    expect(kindArgv.create('kubelab')).toEqual([
      'kind',
      'create',
      'cluster',
      '--name',
      'kubelab',
      '--config',
      '-',
    ]);
    expect(kindArgv.create('kubelab')).not.toContain('--wait');
  });

  it('names the cluster in every other command', () => {
    expect(kindArgv.delete('x')).toEqual(['kind', 'delete', 'cluster', '--name', 'x']);
    expect(kindArgv.kubeconfig('x')).toEqual(['kind', 'get', 'kubeconfig', '--name', 'x']);
    expect(kindArgv.getNodes('x')).toEqual(['kind', 'get', 'nodes', '--name', 'x']);
  });
});

describe('kind output', () => {
  it('turns the recorded create output into step events', () => {
    const events = fixture('kind-create-success.stderr.txt')
      .split('\n')
      .map(parseKindLine)
      .filter((e): e is KindLine => e !== undefined);
    const steps = events.filter((e) => e.kind === 'step-done').map((e) => (e as { step: string }).step);
    expect(steps).toEqual([
      'Ensuring node image (kindest/node:v1.35.0)',
      'Preparing nodes',
      'Writing configuration',
      'Starting control-plane',
      'Installing StorageClass',
      'Joining worker nodes',
    ]);
    expect(events.filter((e) => e.kind === 'step-start')).toHaveLength(6);
    expect(events).toContainEqual({ kind: 'info', text: 'Set kubectl context to "kind-kubelab"' });
  });

  it('sees the failed step and the error line', () => {
    const events = fixture('kind-create-kubeadm-failed.stderr.txt').split('\n').map(parseKindLine);
    expect(events).toContainEqual({ kind: 'step-failed', step: 'Starting control-plane' });
    expect(events.find((e) => e?.kind === 'error')).toMatchObject({
      message: expect.stringContaining('failed to init node with kubeadm'),
    });
  });

  it('strips terminal colours kind adds when it thinks it writes to a terminal', () => {
    expect(parseKindLine(' \x1b[32m✓\x1b[0m Preparing nodes 📦 📦')).toEqual({
      kind: 'step-done',
      step: 'Preparing nodes',
    });
  });

  it('parses the version and the cluster list (including "No kind clusters found.")', () => {
    expect(parseKindVersion(fixture('kind-version.stdout.txt'))).toBe('v0.31.0');
    expect(
      parseKindClusters({ ...failed(''), exitCode: 0, stdout: fixture('kind-get-clusters.stdout.txt') }),
    ).toEqual(['kind', 'kubelab']);
    expect(
      parseKindClusters({ ...failed(fixture('kind-get-clusters-none.stderr.txt')), exitCode: 0 }),
    ).toEqual([]);
  });

  it.each([
    ['kind-create-no-docker.stderr.txt', 'docker-unreachable'],
    ['kind-get-clusters-no-docker.stderr.txt', 'docker-unreachable'],
    ['kind-create-already-exists.stderr.txt', 'already-exists'],
    ['kind-create-image-pull-failed.stderr.txt', 'image-pull'],
    ['kind-create-port-in-use.stderr.txt', 'port-in-use'],
    ['kind-create-kubeadm-failed.stderr.txt', 'kubeadm'],
    ['kind-create-cgroup-v1.stderr.txt', 'cgroup-v1'],
  ])('classifies %s as %s', (file, kind) => {
    expect(classifyKindFailure(failed(fixture(file)))).toBe(kind);
  });

  it('builds errors that say what happened and what to do', () => {
    const noDocker = kindError(
      failed(fixture('kind-create-no-docker.stderr.txt')),
      'create the cluster',
      'kubelab',
    );
    expect(noDocker.code).toBe('ENVIRONMENT');
    expect(noDocker.message).toContain('Cannot connect to the Docker daemon');
    const pull = kindError(
      failed(fixture('kind-create-image-pull-failed.stderr.txt')),
      'create the cluster',
      'kubelab',
    );
    expect(pull.message).toContain('registry-1.docker.io');
    const port = kindError(
      failed(fixture('kind-create-port-in-use.stderr.txt')),
      'create the cluster',
      'kubelab',
    );
    expect(port.message).toContain('port is already allocated');
    const kubeadm = kindError(
      failed(fixture('kind-create-kubeadm-failed.stderr.txt')),
      'create the cluster',
      'kubelab',
    );
    expect(kubeadm.hint).toContain('memory');
  });

  it('recognises a cgroup v1 host behind the "kubelet is not healthy" failure and says so', () => {
    const err = kindError(
      failed(fixture('kind-create-cgroup-v1.stderr.txt')),
      'create the cluster',
      'kubelab',
    );
    expect(err.message).toContain('cgroup v1');
    expect(err.message).toContain('Kubernetes 1.35 and newer');
    expect(err.hint).toBe(CGROUP_V1_HINT);
    // Not the memory/inotify advice that fits other kubelet failures.
    expect(err.hint).not.toMatch(/memory|inotify/);
    // The kubelet's own refusal, as `kind export logs` shows it, is recognised too.
    expect(
      classifyKindFailure(
        failed(
          'kubelet.go:1612] "Failed to start kubelet" err="kubelet is configured to not run on a host using cgroup v1. cgroup v1 support is unsupported and will be removed in a future release"\n',
        ),
      ),
    ).toBe('cgroup-v1');
  });
});

describe('node images per kind release', () => {
  const image = (kind: string) => KIND_NODE_IMAGES.find((e) => e.kind === kind)!.image;

  it('pins one kindest/node image by digest per supported kind minor, oldest first', () => {
    expect(KIND_NODE_IMAGES.map((e) => e.kind)).toEqual(['v0.30', 'v0.31', 'v0.32']);
    for (const e of KIND_NODE_IMAGES)
      expect(e.image).toMatch(/^kindest\/node:v1\.\d+\.\d+@sha256:[0-9a-f]{64}$/);
    expect(image('v0.31')).toBe(
      'kindest/node:v1.35.0@sha256:452d707d4862f52530247495d180205e029056831160e22870e37e3f6c1ac31f',
    );
    expect(KIND_NODE_IMAGE).toBe(image('v0.32'));
  });

  it('picks by the minor of `kind version`, patch releases included', () => {
    expect(nodeImageFor(parseKindVersion(fixture('kind-version.stdout.txt'))!)).toEqual({
      image: image('v0.31'),
    });
    expect(nodeImageFor('v0.32.3')).toEqual({ image: image('v0.32') });
    expect(nodeImageFor('v0.30.0')).toEqual({ image: image('v0.30') });
  });

  it('a newer kind gets the newest known image and a warning naming both releases', () => {
    const c = nodeImageFor(parseKindVersion('kind v0.33.0 go1.26.1 linux/amd64\n')!);
    expect(c.image).toBe(image('v0.32'));
    expect(c.warning).toContain(
      'kind v0.33.0 is newer than the releases kubelab has node images for (v0.30 to v0.32)',
    );
    expect(c.warning).toContain('--image');
  });

  it('an older or unreadable kind gets a warning too, never a silent guess', () => {
    const old = nodeImageFor('v0.27.0');
    expect(old.image).toBe(image('v0.30'));
    expect(old.warning).toContain('older');
    const odd = nodeImageFor('unknown version');
    expect(odd.image).toBe(image('v0.32'));
    expect(odd.warning).toContain('cannot read the kind version');
  });

  it('knows which images refuse cgroup v1 hosts (Kubernetes >= 1.35)', () => {
    expect(nodeImageKubernetesMinor(image('v0.30'))).toEqual([1, 34]);
    expect(refusesCgroupV1(image('v0.30'))).toBe(false);
    expect(refusesCgroupV1(image('v0.31'))).toBe(true);
    expect(refusesCgroupV1(image('v0.32'))).toBe(true);
    expect(refusesCgroupV1('registry.example/node@sha256:' + 'a'.repeat(64))).toBe(true);
    expect(refusesCgroupV1('localhost:5000/kindest/node:v1.33.4')).toBe(false);
  });
});

describe('KindCli', () => {
  it('creates with the config on stdin and streams the parsed progress', async () => {
    const runner = new FakeRunner({
      'kind create cluster': { stderr: fixture('kind-create-success.stderr.txt') },
    });
    const seen: KindLine[] = [];
    await expect(new KindCli(runner).create(spec, (l) => seen.push(l))).resolves.toBe('created');
    const call = runner.calls[0]!;
    expect(call.argv).toEqual(kindArgv.create('kubelab'));
    expect(parse(call.opts.stdin!).networking.disableDefaultCNI).toBe(true);
    expect(seen.filter((l) => l.kind === 'step-done')).toHaveLength(6);
  });

  it('reports an existing cluster instead of failing, so `up` can resume', async () => {
    const runner = new FakeRunner({
      'kind create cluster': { exitCode: 1, stderr: fixture('kind-create-already-exists.stderr.txt') },
    });
    await expect(new KindCli(runner).create(spec, () => {})).resolves.toBe('already-exists');
  });

  it('throws the classified error for other failures', async () => {
    const runner = new FakeRunner({
      'kind create cluster': { exitCode: 1, stderr: fixture('kind-create-kubeadm-failed.stderr.txt') },
    });
    await expect(new KindCli(runner).create(spec, () => {})).rejects.toMatchObject({
      code: 'ENVIRONMENT',
      message: expect.stringContaining('Kubernetes failed to start'),
    });
  });

  it('says kind is missing and how to install it', async () => {
    const runner = new FakeRunner({ 'kind version': { notFound: true } });
    const cli = new KindCli(runner);
    expect(await cli.version()).toBeUndefined();
    await expect(cli.requireInstalled('kubelab cluster up')).rejects.toMatchObject({
      code: 'ENVIRONMENT',
      message: expect.stringContaining('needs kind'),
      hint: expect.stringContaining('kind.sigs.k8s.io'),
    });
  });

  it('lists clusters and fails clearly without Docker', async () => {
    expect(
      await new KindCli(
        new FakeRunner({ 'kind get clusters': { stdout: fixture('kind-get-clusters.stdout.txt') } }),
      ).clusters(),
    ).toEqual(['kind', 'kubelab']);
    expect(
      await new KindCli(
        new FakeRunner({ 'kind get clusters': { stderr: fixture('kind-get-clusters-none.stderr.txt') } }),
      ).clusters(),
    ).toEqual([]);
    await expect(
      new KindCli(
        new FakeRunner({
          'kind get clusters': { exitCode: 1, stderr: fixture('kind-get-clusters-no-docker.stderr.txt') },
        }),
      ).clusters(),
    ).rejects.toMatchObject({ message: expect.stringContaining('Docker is not reachable') });
  });

  it('lists node containers, and none for an empty cluster', async () => {
    expect(
      await new KindCli(
        new FakeRunner({ 'kind get nodes': { stdout: fixture('kind-get-nodes.stdout.txt') } }),
      ).nodes('kubelab'),
    ).toEqual(['kubelab-control-plane', 'kubelab-worker']);
    expect(
      await new KindCli(
        new FakeRunner({ 'kind get nodes': { stderr: fixture('kind-get-nodes-none.stderr.txt') } }),
      ).nodes('kubelab'),
    ).toEqual([]);
  });

  it('returns the kubeconfig text kind prints', async () => {
    const text = fixture('kind-kubeconfig.yaml');
    expect(
      await new KindCli(new FakeRunner({ 'kind get kubeconfig': { stdout: text } })).kubeconfig('kubelab'),
    ).toBe(text);
  });
});
