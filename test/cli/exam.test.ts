/**
 * `kubelab exam`: validate and test on the shipped exams, file:line errors on broken ones, and
 * start / status / submit on a "brought" cluster played by the simulated cluster behind the seam
 * the kubeconfig connection uses (ProvisionDeps.openKube), canary included.
 */
import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedCluster } from '../../server/cluster/sim/index.js';
import type { ProvisionedCluster } from '../../server/cluster/provision.js';
import type { KubeObject } from '../../server/cluster/types.js';
import { memoryIO } from '../../server/cli/io.js';
import { registerExam } from '../../server/cli/exam.js';
import { main } from '../../server/cli/main.js';
import { loadExam } from '../../server/exams/load.js';
import { solutionObjects } from '../../server/exams/selftest.js';
import { FakeRunner } from '../cluster/helpers/fake-runner.js';
import { fakeClock } from '../../server/cluster/poll.js';

function asProvisioned(sim: SimulatedCluster): ProvisionedCluster {
  return Object.assign(sim, {
    ping: async () => 'v1.35.0 (simulated)',
    getObject: async (_v: string, kind: string, name: string, namespace?: string) =>
      (await sim.list(kind as never, namespace)).find((o: KubeObject) => o.metadata.name === name),
    listObjects: async (_v: string, kind: string, namespace?: string) => sim.list(kind as never, namespace),
  });
}

describe('kubelab exam', () => {
  it('validate and test pass for the shipped exams', { timeout: 60_000 }, async () => {
    const io = memoryIO();
    expect(await main(['exam', 'validate'], io)).toBe(0);
    expect(io.stdoutText()).toMatch(/2 exams valid: cka-network, cks-network/);
    const t = memoryIO();
    expect(await main(['exam', 'test'], t)).toBe(0);
    expect(t.stdoutText()).toMatch(/ok {3}exam cka-network/);
    expect(t.stdoutText()).toMatch(/ok {3}exam cks-network/);
    expect(t.stdoutText()).toMatch(/the untouched cluster scores 0: 0\/49 points/);
    expect(t.stdoutText()).toMatch(/every solution together scores 100%: 18\/18 points/);
    expect(t.stdoutText()).not.toMatch(/FAIL/);
  });

  it(
    'start, status and submit on a brought cluster: a partial score, recorded once',
    { timeout: 60_000 },
    async () => {
      const sim = new SimulatedCluster();
      const io = memoryIO();
      const clock = fakeClock();
      const program = new Command().exitOverride();
      registerExam(program, io, {
        runner: new FakeRunner({}),
        env: {},
        openKube: async () => asProvisioned(sim),
        clock,
      });
      const db = join(mkdtempSync(join(tmpdir(), 'kubelab-exam-cli-')), 'kubelab.db');
      await program.parseAsync(['exam', 'start', 'cka-network', '--context', 'mine', '--db', db], {
        from: 'user',
      });
      expect(io.stdoutText()).toMatch(/Exam cka-network started .*60 minutes/);
      expect(io.stderrText()).toMatch(/canary|enforc/i);
      expect((await sim.list('Pod', 'portrange-lab')).length).toBeGreaterThan(0);
      expect((await sim.list('Pod', 'np-lab')).length).toBeGreaterThan(0);

      await program.parseAsync(['exam', 'status', 'cka-network', '--db', db], { from: 'user' });
      expect(io.stdoutText()).toMatch(/60 min left/);

      // The learner solves one task with kubectl (here: straight into the cluster).
      const loaded = await loadExam('cka-network');
      await sim.apply(await solutionObjects(loaded.labs.get('np-port-range')!));
      await program.parseAsync(['exam', 'submit', 'cka-network', '--context', 'mine', '--db', db], {
        from: 'user',
      });
      expect(io.stdoutText()).toMatch(/Exam cka-network: 5\/18 points .*not passed/);
      expect(io.stdoutText()).toMatch(/np-backend: 0\/6/);
      expect(io.exitCode).toBe(1);
      await program.parseAsync(['exam', 'status', 'cka-network', '--db', db], { from: 'user' });
      expect(io.stdoutText()).toMatch(/finished \(submitted\), 5\/18 points/);
    },
  );
});
