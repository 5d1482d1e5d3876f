/**
 * `kubelab kubeconfig`: finds what serves a simulated cluster from this folder and prints the
 * kubeconfig that opens it, the same one the lab page offers; real kubectl then uses it. The web
 * app here grades on its HTTP thread (no workers), so the in-process API path is exercised too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../server/cli/main.js';
import { memoryIO } from '../../server/cli/io.js';
import { leaveRunningNote } from '../../server/cli/kubeconfig.js';
import { startServer, type RunningServer } from '../../server/cli/serve.js';
import {
  kubectl,
  kubectlSkipReason,
  startSim,
  stopSim,
  type StartedSim,
} from '../cluster/sim/api/support.js';
import { testTempDir } from '../setup/temp-dir.js';

describe('kubelab kubeconfig', () => {
  it('says what to start when nothing serves a simulated cluster here (a dead server’s note is ignored)', async () => {
    const cwd = testTempDir('kubelab-kc-');
    leaveRunningNote(join(cwd, '.kubelab'), 'serve', {
      pid: 2 ** 22 + 12345,
      url: 'http://127.0.0.1:1/',
      dbPath: join(cwd, 'x.db'),
    });
    const io = memoryIO({ cwd });
    expect(await main(['kubeconfig', '--lab', 'np-backend'], io)).toBe(3);
    expect(io.stderrText()).toContain(
      'no simulated cluster of lab np-backend is being served from this folder',
    );
    expect(io.stderrText()).toContain('kubelab sim up --lab np-backend');
    const bad = memoryIO({ cwd });
    expect(await main(['kubeconfig', '--lab', '../etc'], bad)).toBe(2);
  });

  describe.skipIf(kubectlSkipReason !== undefined)('with kubectl', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'kubelab-kc-'));
    const dbPath = join(cwd, '.kubelab', 'kubelab.db');
    let server: RunningServer;
    let sim: StartedSim;
    beforeAll(async () => {
      server = await startServer({ port: 0, dbPath, mode: 'simulated', simulatedWorkers: 0 });
      sim = await startSim();
    }, 60_000);
    afterAll(async () => {
      await server?.close();
      await stopSim(sim);
      rmSync(cwd, { recursive: true, force: true });
    });

    it('before anyone used the web app it says how to get a learner; then it prints that learner’s kubeconfig', async () => {
      const remove = leaveRunningNote(join(cwd, '.kubelab'), 'serve', {
        pid: process.pid,
        url: server.url,
        dbPath,
      });
      try {
        const early = memoryIO({ cwd });
        expect(await main(['kubeconfig'], early)).toBe(3);
        expect(early.stderrText()).toContain('nobody has used the labs');

        const download = await fetch(`${server.url}api/labs/np-backend/kubeconfig`);
        const fromPage = await download.text();
        const io = memoryIO({ cwd });
        expect(await main(['kubeconfig'], io)).toBe(0);
        expect(io.stdoutText()).toBe(fromPage);
        expect(io.stderrText()).toContain('your simulated cluster of lab np-backend');

        const file = join(cwd, 'learner.kubeconfig');
        writeFileSync(file, io.stdoutText());
        const pods = await kubectl(file, ['get', 'pods', '-l', 'app=backend', '-o', 'name']);
        expect(pods.code).toBe(0);
        expect(pods.stdout.trim().split('\n')).toHaveLength(2);
        const exec = await kubectl(file, ['exec', 'deploy/backend', '--', 'curl', '-sS', 'http://db2:2222']);
        expect(exec).toMatchObject({ code: 0, stdout: 'db2 on 2222' });
      } finally {
        remove();
      }
    });

    it('--lab ID prints the standalone kubeconfig of a running `kubelab sim up --lab ID`', async () => {
      const remove = leaveRunningNote(join(cwd, '.kubelab'), 'sim-np-backend', {
        pid: process.pid,
        url: sim.api.url,
        kubeconfigPath: sim.kubeconfigPath,
      });
      try {
        const io = memoryIO({ cwd });
        expect(await main(['kubeconfig', '--lab', 'np-backend'], io)).toBe(0);
        expect(io.stdoutText()).toBe(readFileSync(sim.kubeconfigPath, 'utf8'));
        expect(io.stderrText()).toContain('kubelab sim up --lab np-backend');
      } finally {
        remove();
      }
    });
  });
});
