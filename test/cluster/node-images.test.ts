import { describe, expect, it } from 'vitest';
import {
  crictlPullArgv,
  crictlPullProblem,
  nodesThatRunPods,
  prePullImage,
} from '../../server/cluster/node-images.js';
import type { RunResult } from '../../server/cluster/runner.js';
import { PROBE_IMAGE } from '../../server/probe/index.js';
import { FakeRunner, fixture } from './helpers/fake-runner.js';

const run = (over: Partial<RunResult>): RunResult => ({
  argv: ['docker', 'exec'],
  exitCode: 0,
  stdout: '',
  stderr: '',
  notFound: false,
  timedOut: false,
  ...over,
});

describe('pre-pulling the probe image in the nodes', () => {
  it("pulls inside the node with the node's crictl, by the exact (digest-pinned) reference pods use", () => {
    expect(crictlPullArgv('kubelab-worker', PROBE_IMAGE)).toEqual([
      'docker',
      'exec',
      'kubelab-worker',
      'crictl',
      'pull',
      PROBE_IMAGE,
    ]);
  });

  it('pulls only where pods run: the workers, or the control plane of a one-node cluster', () => {
    expect(nodesThatRunPods(['kubelab-control-plane', 'kubelab-worker', 'kubelab-worker2'])).toEqual([
      'kubelab-worker',
      'kubelab-worker2',
    ]);
    expect(nodesThatRunPods(['kubelab-control-plane'])).toEqual(['kubelab-control-plane']);
  });

  it("reads crictl's recorded answers: success, and a failure in crictl's own words", () => {
    expect(crictlPullProblem(run({ stdout: fixture('crictl-pull-success.stdout.txt') }))).toBeUndefined();
    const problem = crictlPullProblem(
      run({ exitCode: 1, stderr: fixture('crictl-pull-dns-failed.stderr.txt') }),
    );
    expect(problem).toMatch(
      /^pulling image: rpc error: code = Unknown desc = failed to pull and unpack image "registry/,
    );
    expect(problem).toContain('lookup registry.k8s.io on 172.18.0.1:53: server misbehaving');
    // Older crictl: FATA[0000] prefix instead of logfmt.
    expect(
      crictlPullProblem(
        run({
          exitCode: 1,
          stderr: 'FATA[0000] pulling image failed: rpc error: code = NotFound desc = x\n',
        }),
      ),
    ).toBe('pulling image failed: rpc error: code = NotFound desc = x');
    expect(crictlPullProblem(run({ exitCode: undefined, notFound: true, argv: ['docker'] }))).toContain(
      'not installed',
    );
  });

  it('pulls on every pod node in parallel and never uses `kind load`', async () => {
    const runner = new FakeRunner({
      'kind get nodes': { stdout: fixture('kind-get-nodes.stdout.txt') },
      'docker exec': { stdout: fixture('crictl-pull-success.stdout.txt') },
    });
    expect(await prePullImage(runner, 'kubelab', PROBE_IMAGE)).toEqual({
      ok: true,
      nodes: ['kubelab-worker'],
    });
    expect(runner.commands()).toEqual([
      'kind get nodes --name kubelab',
      `docker exec kubelab-worker crictl pull ${PROBE_IMAGE}`,
    ]);
  });

  it('a failed pull is a reason naming the node, not an exception', async () => {
    const runner = new FakeRunner({
      'kind get nodes': { stdout: fixture('kind-get-nodes.stdout.txt') },
      'docker exec': { exitCode: 1, stderr: fixture('crictl-pull-dns-failed.stderr.txt') },
    });
    const r = await prePullImage(runner, 'kubelab', PROBE_IMAGE);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/^kubelab-worker: pulling image: .*server misbehaving/);
    const none = await prePullImage(
      new FakeRunner({ 'kind get nodes': { stderr: fixture('kind-get-nodes-none.stderr.txt') } }),
      'kubelab',
      PROBE_IMAGE,
    );
    expect(none).toEqual({ ok: false, reason: 'kind lists no nodes for cluster "kubelab"' });
  });

  it('stops the pulls when told to', async () => {
    const runner = new FakeRunner({
      'kind get nodes': { stdout: fixture('kind-get-nodes.stdout.txt') },
      'docker exec': { hang: true },
    });
    const stop = new AbortController();
    const pending = prePullImage(runner, 'kubelab', PROBE_IMAGE, { signal: stop.signal });
    await new Promise((r) => setTimeout(r, 10));
    stop.abort();
    const r = await pending;
    expect(r.ok).toBe(false);
    expect(runner.canceled).toEqual([`docker exec kubelab-worker crictl pull ${PROBE_IMAGE}`]);
  });
});
