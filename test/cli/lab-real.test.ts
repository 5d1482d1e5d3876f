/**
 * `lab start`, `lab reset` and `lab check` against a "brought" cluster, played by the simulated
 * cluster behind the same seam the kubeconfig connection uses (ProvisionDeps.openKube).
 */
import { describe, it, expect } from 'vitest';
import { Command } from 'commander';
import { SimulatedCluster } from '../../server/cluster/sim/index.js';
import type { ProvisionedCluster } from '../../server/cluster/provision.js';
import type { KubeObject } from '../../server/cluster/types.js';
import { memoryIO } from '../../server/cli/io.js';
import { registerRealLabCommands, gradeOnRealCluster } from '../../server/cli/lab-real.js';
import { loadLab, readManifestFile } from '../../server/labs/index.js';
import { isKubelabError } from '../../server/errors.js';
import { FakeRunner } from '../cluster/helpers/fake-runner.js';
import { main } from '../../server/cli/main.js';
import { fakeClock } from '../../server/cluster/poll.js';

/** The simulated cluster dressed as a connected kubeconfig cluster. */
function asProvisioned(sim: SimulatedCluster): ProvisionedCluster {
  return Object.assign(sim, {
    ping: async () => 'v1.35.0 (simulated)',
    getObject: async (_apiVersion: string, kind: string, name: string, namespace?: string) =>
      (await sim.list(kind as never, namespace)).find((o: KubeObject) => o.metadata.name === name),
    listObjects: async (_apiVersion: string, kind: string, namespace?: string) =>
      sim.list(kind as never, namespace),
  });
}

function setup(sim: SimulatedCluster) {
  const io = memoryIO();
  const program = new Command().exitOverride();
  const lab = program.command('lab');
  const overrides = {
    runner: new FakeRunner({}),
    env: {},
    openKube: async () => asProvisioned(sim),
    clock: fakeClock(),
  };
  registerRealLabCommands(lab, io, overrides);
  return { io, program, overrides };
}

describe('lab start / reset / check on a brought cluster', () => {
  it('start proves enforcement, deploys the scenario and prints the task; check grades it; reset wipes changes', async () => {
    const sim = new SimulatedCluster();
    const { io, program, overrides } = setup(sim);
    await program.parseAsync(['lab', 'start', 'np-backend', '--context', 'mine'], { from: 'user' });
    expect(io.stdoutText()).toMatch(/Lab np-backend is ready/);
    expect(io.stdoutText()).toMatch(/kubelab lab check np-backend --context mine/);
    expect(io.stderrText()).toMatch(/canary|enforc/i);
    const pods = await sim.list('Pod', 'np-lab');
    expect(pods.filter((p) => p.metadata.labels?.app === 'backend')).toHaveLength(2);

    const lab = await loadLab('np-backend');
    const failing = await gradeOnRealCluster(lab, io, { context: 'mine' }, overrides);
    expect(failing.status).toBe('failed');
    // A probe is re-run only until it agrees with what the applied policies predict: with no
    // policy, every failing probe agrees at once, so none of them waits out the settle time.
    const failed = failing.checks.flatMap((c) => c.probes).filter((p) => !p.passed);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((p) => p.attempts === 1)).toBe(true);

    await sim.apply(await readManifestFile(lab.files.solution));
    const passing = await gradeOnRealCluster(lab, io, { context: 'mine' }, overrides);
    expect(passing.status).toBe('passed');

    await program.parseAsync(['lab', 'reset', 'np-backend', '--context', 'mine'], { from: 'user' });
    expect(io.stdoutText()).toMatch(/was reset/);
    expect(await sim.list('NetworkPolicy', 'np-lab')).toEqual([]);
  });

  it('refuses to grade a cluster that does not enforce NetworkPolicy', async () => {
    const sim = new SimulatedCluster({ enforcePolicies: false });
    const { io, overrides } = setup(sim);
    const lab = await loadLab('np-backend');
    try {
      await gradeOnRealCluster(lab, io, { context: 'flannel' }, overrides);
      expect.fail('grading must refuse');
    } catch (e) {
      expect(isKubelabError(e) && e.code).toBe('ENVIRONMENT');
      expect((e as Error).message).toMatch(/does not enforce NetworkPolicy/);
    }
  });
});

describe('without Docker or kind', () => {
  it('lab check and lab start exit 3 with one clear paragraph and no stack trace', async () => {
    for (const argv of [
      ['lab', 'check', 'np-backend'],
      ['lab', 'start', 'np-backend'],
    ]) {
      const io = memoryIO({ env: { PATH: '/nonexistent' } });
      const code = await main(argv, io);
      expect(code).toBe(3);
      expect(io.stderrText()).toMatch(/kubelab cluster up|--context/);
      expect(io.stderrText()).not.toMatch(/\n\s+at /);
    }
  });

  it('-f without --simulated is a usage error', async () => {
    const io = memoryIO();
    expect(await main(['lab', 'check', 'np-backend', '-f', 'x.yaml'], io)).toBe(2);
    expect(io.stderrText()).toMatch(/only with --simulated/);
  });
});
