import { Command } from 'commander';
import { beforeAll, describe, expect, it } from 'vitest';
import { progressPrinter, registerCluster } from '../../server/cli/cluster.js';
import { registerDoctor, runDoctor } from '../../server/cli/doctor.js';
import { detectRealClusterAvailability } from '../../server/cluster/provision.js';
import { memoryIO } from '../../server/cli/io.js';
import { main } from '../../server/cli/main.js';
import type { CanaryResult } from '../../server/cluster/canary.js';
import { checkDocker } from '../../server/cluster/docker.js';
import { fakeClock } from '../../server/cluster/poll.js';
import type { ProvisionDeps } from '../../server/cluster/provision.js';
import { execaRunner } from '../../server/cluster/runner.js';
import { interruptedError } from '../../server/errors.js';
import { FakeProvisionedCluster } from './helpers/fake-provisioned.js';
import { FakeRunner, fixture, type Reply } from './helpers/fake-runner.js';
import { testTempDir } from '../setup/temp-dir.js';

// A DOCKER_HOST that points nowhere makes "no Docker daemon" true on any machine, including ones
// that do run Docker, so these in-process tests can never create a real cluster.
const noDaemonEnv = () => ({
  ...process.env,
  DOCKER_HOST: 'unix:///nonexistent/kubelab-test-docker.sock',
  HOME: testTempDir('kubelab-home-'),
  KUBECONFIG: '',
});
const STACK_LINE = /^\s+at .+:\d+/m;

describe('without a Docker daemon (in-process, real docker CLI)', () => {
  it('`cluster up` exits 3 with one clear paragraph and no stack trace', async () => {
    const io = memoryIO({ env: noDaemonEnv() });
    expect(await main(['cluster', 'up'], io)).toBe(3);
    const err = io.stderrText();
    expect(err).toMatch(
      /^kubelab: Creating the kind cluster needs Docker, but (the Docker daemon is not reachable|Docker is not installed)/,
    );
    expect(err).toContain('simulated cluster');
    expect(err).not.toMatch(STACK_LINE);
    expect(err.trim().split('\n').length).toBeLessThanOrEqual(2);
    expect(io.stdoutText()).toBe('');
  });

  it('`doctor` says Docker is missing and what to do, and exits 3', async () => {
    const io = memoryIO({ env: noDaemonEnv() });
    expect(await main(['doctor', '--no-canary'], io)).toBe(3);
    const out = io.stdoutText();
    expect(out).toMatch(
      /problem +Docker: (the Docker daemon is not reachable \(Cannot connect to the Docker daemon at unix:\/\/\/nonexistent|Docker is not installed)/,
    );
    expect(out).toMatch(/-> (Start Docker|Install Docker)/);
    expect(out).toMatch(/ok +Node\.js: /);
    expect(out).toContain('skip     cluster: needs Docker and kind');
    expect(out).toContain('The simulated cluster needs none of this');
    expect(io.stderrText()).not.toMatch(STACK_LINE);
  });

  it('bad flags are BAD_INPUT (exit 2) before anything runs', async () => {
    const io = memoryIO({ env: noDaemonEnv() });
    expect(await main(['cluster', 'up', '--workers', '9', '--name', 'Bad_Name'], io)).toBe(2);
    expect(io.stderrText()).toContain('--workers must be a whole number from 0 to 5');
    expect(io.stderrText()).toContain('cluster name "Bad_Name"');
  });

  it('detectRealClusterAvailability says no, and why', async () => {
    const result = await detectRealClusterAvailability({}, { env: noDaemonEnv() });
    expect(result.available).toBe(false);
    expect(result.reason).toMatch(/^Docker is not (running|installed)$/);
  });
});

describe('on this machine as it is', () => {
  let dockerUp = true;
  beforeAll(async () => {
    dockerUp = (await checkDocker(execaRunner(process.env), 10_000)).status === 'ok';
  });

  it('`node bin/kubelab.js cluster up` semantics: without a reachable Docker daemon it exits 3', async (ctx) => {
    if (dockerUp) {
      console.info('[cli] Docker is reachable here: not running a real `cluster up` from the unit tests');
      ctx.skip();
    }
    const io = memoryIO({ env: process.env });
    expect(await main(['cluster', 'up'], io)).toBe(3);
    expect(io.stderrText()).toContain('needs Docker');
  });
});

const enforcing: CanaryResult = {
  enforcing: true,
  detail: "NetworkPolicy is enforced: a deny-all policy dropped the canary's connection after 2s.",
  attempts: 2,
  elapsedMs: 12000,
};
const healthy: Record<string, Reply | Reply[]> = {
  'docker info': { stdout: '28.2.2\n' },
  'kind version': { stdout: fixture('kind-version.stdout.txt') },
  'kind get clusters': { stdout: fixture('kind-get-clusters.stdout.txt') },
  'kind get kubeconfig': { stdout: fixture('kind-kubeconfig.yaml') },
  'kubectl version': { stdout: '{"clientVersion": {"major": "1", "minor": "35", "gitVersion": "v1.35.0"}}' },
  'kind get nodes': { stdout: fixture('kind-get-nodes.stdout.txt') },
  'docker exec': { stdout: fixture('crictl-pull-success.stdout.txt') },
};

function withFakes(script: Record<string, Reply | Reply[]> = {}, canary: CanaryResult = enforcing) {
  const cluster = new FakeProvisionedCluster();
  cluster.calicoPreinstalled = true;
  cluster.pollsUntilReady = 0;
  const overrides: Partial<ProvisionDeps> = {
    runner: new FakeRunner({ ...healthy, ...script }),
    openKube: async () => cluster,
    canary: async () => canary,
    clock: fakeClock(),
  };
  const io = memoryIO({ env: { HOME: testTempDir('kubelab-home-') } });
  const program = new Command().exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  registerCluster(program, io, overrides);
  registerDoctor(program, io, overrides);
  return {
    io,
    cluster,
    program,
    overrides,
    run: (argv: string[]) => program.parseAsync(argv, { from: 'user' }),
  };
}

/** Ctrl-C on demand, and whether anyone still listens for it. */
function fakeInterrupts() {
  const listeners = new Set<() => void>();
  return {
    source: {
      listen(fn: () => void) {
        listeners.add(fn);
        return () => void listeners.delete(fn);
      },
    },
    press: () => [...listeners].forEach((fn) => fn()),
    listening: () => listeners.size,
  };
}

describe('Ctrl-C during a canary', () => {
  it.each([[['cluster', 'status']], [['cluster', 'up']], [['doctor']]])(
    '`%s` hands the interrupt to the canary, which cleans up; the command ends INTERRUPTED (exit 130)',
    async (argv) => {
      const { io, run, overrides } = withFakes();
      const ctrlC = fakeInterrupts();
      io.interrupts = ctrlC.source;
      let signalSeen: AbortSignal | undefined;
      overrides.canary = (_cluster, opts) =>
        new Promise((_, reject) => {
          signalSeen = opts.signal;
          opts.signal?.addEventListener('abort', () =>
            reject(
              interruptedError(
                'interrupted: the enforcement canary stopped and its namespace kubelab-canary-x is being deleted.',
              ),
            ),
          );
          setTimeout(() => ctrlC.press(), 5);
        });
      const err = await run(argv).catch((e: unknown) => e);
      expect(signalSeen?.aborted).toBe(true);
      expect(err).toMatchObject({ code: 'INTERRUPTED', exitCode: 130 });
      expect(io.stderrText()).toContain('Interrupted: cleaning up');
      // The handler is gone once the command is over: a later Ctrl-C is the shell's again.
      expect(ctrlC.listening()).toBe(0);
    },
  );
});

describe('cluster commands with injected fakes', () => {
  it('`cluster up` prints each step with elapsed time to stderr and a summary to stdout', async () => {
    const { io, run } = withFakes();
    await run(['cluster', 'up']);
    expect(io.exitCode).toBeUndefined();
    const err = io.stderrText().split('\n');
    expect(err[0]).toMatch(/^\[ +\d+(ms|s)\] Docker: daemon reachable \(server 28\.2\.2\)/);
    expect(err.some((l) => /\] kind cluster: "kubelab" already exists: resuming/.test(l))).toBe(true);
    expect(err.some((l) => /\] enforcement canary: NetworkPolicy is enforced/.test(l))).toBe(true);
    const out = io.stdoutText();
    expect(out).toMatch(
      /^Cluster "kubelab" is ready \(context kind-kubelab\) after .* \(it already existed\)\./,
    );
    expect(out).toContain('Calico v3.32.1 already installed.');
    expect(out).toContain('Time per step: Docker');
    expect(out).toContain('Next: kubelab lab start np-backend');
  });

  it('`cluster status` prints nodes, plugin and enforcement; problems make it exit 3', async () => {
    const ok = withFakes();
    await ok.run(['cluster', 'status']);
    expect(ok.io.stdoutText()).toContain('network plugin: Calico');
    expect(ok.io.stdoutText()).toContain('All good');
    expect(ok.io.exitCode).toBeUndefined();

    const bad = withFakes(
      {},
      {
        enforcing: false,
        detail: 'this cluster does not enforce NetworkPolicy: still connected',
        attempts: 20,
        elapsedMs: 1,
      },
    );
    await bad.run(['cluster', 'status', '--json']);
    expect(JSON.parse(bad.io.stdoutText()).problems).toEqual([
      'this cluster does not enforce NetworkPolicy: still connected',
    ]);
    expect(bad.io.exitCode).toBe(3);
  });

  it('`cluster down` says when there is nothing to delete', async () => {
    const { io, run } = withFakes({
      'kind get clusters': { stderr: fixture('kind-get-clusters-none.stderr.txt') },
    });
    await run(['cluster', 'down', '--name', 'gone']);
    expect(io.stdoutText()).toBe('There is no kind cluster named "gone": nothing to delete.\n');
  });

  it('`doctor` exits 0 when everything is in place', async () => {
    const { io, run } = withFakes();
    await run(['doctor']);
    expect(io.exitCode).toBeUndefined();
    const out = io.stdoutText();
    for (const check of ['Node.js', 'Docker', 'kind', 'kubectl', 'cluster', 'network plugin', 'enforcement'])
      expect(out).toMatch(new RegExp(`ok +${check}: `));
    expect(out).toContain('Everything the real-cluster path needs is in place.');
  });
});

describe('runDoctor', () => {
  it('names a cgroup v1 host as its own problem, and which node image kind will get', async () => {
    const { cluster } = withFakes();
    const lines = await runDoctor(
      { canary: false },
      {
        runner: new FakeRunner({ ...healthy, 'docker info': { stdout: '24.0.7 1\n' } }),
        env: {},
        openKube: async () => cluster,
      },
    );
    const cgroup = lines.find((l) => l.check === 'cgroup');
    expect(cgroup).toMatchObject({ status: 'problem', detail: expect.stringContaining('cgroup v1') });
    expect(cgroup?.fix).toContain('cgroup v2');
    expect(lines.find((l) => l.check === 'kind')?.detail).toBe('v0.31.0 (node image kindest/node:v1.35.0)');
    const newer = await runDoctor(
      { canary: false },
      {
        runner: new FakeRunner({
          ...healthy,
          'kind version': { stdout: 'kind v0.33.0 go1.26.1 linux/amd64\n' },
        }),
        env: {},
        openKube: async () => cluster,
      },
    );
    expect(newer.find((l) => l.check === 'kind')?.detail).toMatch(
      /^v0\.33\.0 \(warning: kind v0\.33\.0 is newer/,
    );
    expect(newer.some((l) => l.check === 'cgroup')).toBe(false);
  });

  it('flags an old Node.js and a cluster that does not enforce', async () => {
    const { cluster } = withFakes();
    const lines = await runDoctor(
      { nodeVersion: '18.19.0' },
      {
        runner: new FakeRunner(healthy),
        env: {},
        openKube: async () => cluster,
        canary: async () => ({
          enforcing: false,
          detail: 'this cluster does not enforce NetworkPolicy',
          attempts: 1,
          elapsedMs: 1,
        }),
      },
    );
    expect(lines.find((l) => l.check === 'Node.js')).toMatchObject({ status: 'problem' });
    expect(lines.find((l) => l.check === 'enforcement')).toMatchObject({
      status: 'problem',
      fix: expect.stringContaining('kubelab cluster up'),
    });
  });

  it('a missing kind cluster is a problem with the command that creates it', async () => {
    const lines = await runDoctor(
      { canary: false },
      {
        runner: new FakeRunner({
          ...healthy,
          'kind get clusters': { stderr: fixture('kind-get-clusters-none.stderr.txt') },
        }),
        env: {},
      },
    );
    expect(lines.find((l) => l.check === 'cluster')).toMatchObject({
      status: 'problem',
      fix: expect.stringContaining('kubelab cluster up'),
    });
  });
});

describe('detectRealClusterAvailability', () => {
  it('Docker reachable and kind installed: available, saying whether the cluster exists', async () => {
    const result = await detectRealClusterAvailability({}, { env: {}, runner: new FakeRunner(healthy) });
    expect(result).toEqual({
      available: true,
      reason: 'Docker 28.2.2 and kind v0.31.0 are installed; kind cluster "kubelab" exists',
    });
  });

  it('kind missing: not available', async () => {
    const result = await detectRealClusterAvailability(
      {},
      { env: {}, runner: new FakeRunner({ ...healthy, 'kind version': { notFound: true } }) },
    );
    expect(result).toEqual({ available: false, reason: 'kind is not installed' });
  });

  it('an explicitly requested context counts only if it answers', async () => {
    const cluster = new FakeProvisionedCluster();
    expect(
      await detectRealClusterAvailability({ context: 'mine' }, { env: {}, openKube: async () => cluster }),
    ).toMatchObject({ available: true });
    const refused = await detectRealClusterAvailability(
      {},
      {
        env: { KUBELAB_CONTEXT: 'mine' },
        openKube: async () => Promise.reject(new Error('cannot reach the Kubernetes API server')),
      },
    );
    expect(refused).toEqual({ available: false, reason: 'cannot reach the Kubernetes API server' });
  });
});

describe('progressPrinter', () => {
  it('drops repeated lines but repeats them after a while', () => {
    const out: string[] = [];
    const print = progressPrinter((s) => out.push(s), 10_000);
    print({ step: 'wait for Calico', detail: 'DaemonSet 0/2', elapsedMs: 1000 });
    print({ step: 'wait for Calico', detail: 'DaemonSet 0/2', elapsedMs: 3000 });
    print({ step: 'wait for Calico', detail: 'DaemonSet 1/2', elapsedMs: 5000 });
    print({ step: 'wait for Calico', detail: 'DaemonSet 1/2', elapsedMs: 16000 });
    print({ step: 'preload', detail: 'failed', elapsedMs: 17000, level: 'warn' });
    expect(out).toEqual([
      '[     1s] wait for Calico: DaemonSet 0/2\n',
      '[     5s] wait for Calico: DaemonSet 1/2\n',
      '[    16s] wait for Calico: DaemonSet 1/2\n',
      '[    17s] warning: preload: failed\n',
    ]);
  });
});
