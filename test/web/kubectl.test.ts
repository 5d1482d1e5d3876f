/**
 * `kubelab serve` hosts every learner's simulated cluster for the real kubectl: one endpoint, a
 * token per learner and lab. Driven end to end: two learners (two cookies) download their
 * kubeconfigs from the web app, change their clusters with kubectl, and press Check; the grading
 * worker thread that owns a learner's cluster is the one kubectl reached. Then Reset, and a
 * restart of the server with the same database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../server/cli/serve.js';
import { kubectl, kubectlSkipReason } from '../cluster/sim/api/support.js';

const LAB_DIR = join(import.meta.dirname, '../../labs/np-backend');
const SOLUTION = readFileSync(join(LAB_DIR, 'solution.yaml'), 'utf8');

interface Learner {
  cookie: string;
  kubeconfig: string;
}

describe.skipIf(kubectlSkipReason !== undefined)('kubectl against kubelab serve', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubelab-serve-kubectl-'));
  const dbPath = join(dir, 'kubelab.db');
  let server: RunningServer;
  let port = 0;
  const learners: Record<'a' | 'b', Learner> = {
    a: { cookie: '', kubeconfig: '' },
    b: { cookie: '', kubeconfig: '' },
  };

  const start = async () => {
    server = await startServer({ port, dbPath, mode: 'simulated', simulatedWorkers: 2 });
    port = Number(new URL(server.url).port);
  };

  async function enrol(name: 'a' | 'b'): Promise<void> {
    const res = await fetch(`${server.url}api/labs/np-backend/kubeconfig`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe(
      'attachment; filename="kubelab-np-backend.kubeconfig"',
    );
    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
    expect(cookie).toMatch(/^kubelab_learner=/);
    const file = join(dir, `${name}.kubeconfig`);
    writeFileSync(file, await res.text());
    learners[name] = { cookie, kubeconfig: file };
  }

  const k = (who: 'a' | 'b', args: string[], stdin?: string) =>
    kubectl(learners[who].kubeconfig, args, stdin);

  async function check(who: 'a' | 'b', manifests: string): Promise<{ passed: boolean; status: string }> {
    const res = await fetch(`${server.url}api/labs/np-backend/check`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Cookie: learners[who].cookie },
      body: JSON.stringify({ manifests }),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as { passed: boolean; status: string };
  }

  async function editorShows(who: 'a' | 'b'): Promise<string> {
    const res = await fetch(`${server.url}labs/np-backend`, { headers: { Cookie: learners[who].cookie } });
    const html = await res.text();
    const text = /<textarea id="manifests"[^>]*>([\s\S]*?)<\/textarea>/.exec(html)?.[1] ?? '';
    return text
      .replace(/&#39;/g, "'")
      .replace(/&#34;/g, '"')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');
  }

  beforeAll(async () => {
    await start();
    await enrol('a');
    await enrol('b');
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the kubeconfig names the web app itself, with a token of this learner for this lab', () => {
    const a = readFileSync(learners.a.kubeconfig, 'utf8');
    const b = readFileSync(learners.b.kubeconfig, 'utf8');
    const url = (text: string) => /server: (\S+)/.exec(text)?.[1];
    expect(url(a)).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/sim/[A-Za-z0-9_-]{32}$`));
    expect(url(b)).not.toBe(url(a));
    expect(a).toContain('namespace: np-lab');
  });

  it('a learner changes only their own cluster, and Check grades what kubectl left', async () => {
    const apply = await k('a', ['apply', '-f', join(LAB_DIR, 'solution.yaml')]);
    expect(apply).toMatchObject({ code: 0, stdout: 'networkpolicy.networking.k8s.io/np-backend created\n' });
    expect((await k('a', ['get', 'netpol', '-o', 'name'])).stdout).toBe(
      'networkpolicy.networking.k8s.io/np-backend\n',
    );
    expect(await k('b', ['get', 'netpol'])).toMatchObject({
      code: 0,
      stdout: '',
      stderr: 'No resources found in np-lab namespace.\n',
    });
    // exec's WebSocket goes through the web app to the worker that owns a's cluster.
    const blocked = await k('a', [
      'exec',
      'deploy/backend',
      '--',
      'curl',
      '-sS',
      '--max-time',
      '2',
      'http://vault:3333',
    ]);
    expect(blocked.code).toBe(28);
    const open = await k('b', [
      'exec',
      'deploy/backend',
      '--',
      'curl',
      '-sS',
      '--max-time',
      '2',
      'http://vault:3333',
    ]);
    expect(open).toMatchObject({ code: 0, stdout: 'vault on 3333' });

    // The editor still holds its starter text: Check grades the live cluster without applying it.
    const starter = await editorShows('a');
    expect(starter).toContain('# Write your NetworkPolicy here');
    expect(await check('a', starter)).toMatchObject({ passed: true, status: 'passed' });
    expect(await check('b', starter)).toMatchObject({ passed: false, status: 'failed' });
  });

  it('kubectl changes after the editor applied count, and the editor applies to the same cluster', async () => {
    // b writes the solution in the editor: it is applied to b's cluster, which kubectl then sees.
    expect(await check('b', SOLUTION)).toMatchObject({ passed: true });
    expect((await k('b', ['get', 'netpol', '-o', 'name'])).stdout).toBe(
      'networkpolicy.networking.k8s.io/np-backend\n',
    );
    // b breaks it with kubectl; Check with the editor unchanged grades the broken policy.
    const del = await k('b', ['delete', 'netpol', 'np-backend']);
    expect(del).toMatchObject({ code: 0, stdout: 'networkpolicy.networking.k8s.io "np-backend" deleted\n' });
    expect(await check('b', SOLUTION)).toMatchObject({ passed: false });
  });

  it('a made-up token opens nothing', async () => {
    const stolen = readFileSync(learners.a.kubeconfig, 'utf8').replace(
      /\/sim\/[A-Za-z0-9_-]+/,
      '/sim/not-a-token',
    );
    const file = join(dir, 'forged.kubeconfig');
    writeFileSync(file, stolen);
    const r = await kubectl(file, ['get', 'pods']);
    expect(r.code).toBe(1);
    // What kubectl prints for a 401 from a real API server too.
    expect(r.stderr).toMatch(
      /error: You must be logged in to the server \(the server has asked for the client to provide credentials\)\n$/,
    );
    const ws = await kubectl(file, ['exec', 'deploy/backend', '--', 'curl', 'http://db1:1111']);
    expect(ws.code).toBe(1);
    expect(ws.stderr).toMatch(/the server has asked for the client to provide credentials|Unauthorized/);
  });

  it("a learner's cluster survives a restart; Reset restores the scenario", async () => {
    await k('a', ['label', 'svc', 'db2', 'kept=yes']);
    await server.close();
    await start();
    expect((await k('a', ['get', 'svc', '-l', 'kept=yes', '-o', 'name'])).stdout).toBe('service/db2\n');
    expect((await k('a', ['get', 'netpol', '-o', 'name'])).stdout).toBe(
      'networkpolicy.networking.k8s.io/np-backend\n',
    );
    const reset = await fetch(`${server.url}api/labs/np-backend/reset`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Cookie: learners.a.cookie },
      body: '{}',
    });
    expect(reset.status).toBe(200);
    expect(await k('a', ['get', 'netpol'])).toMatchObject({
      code: 0,
      stderr: 'No resources found in np-lab namespace.\n',
    });
    expect((await k('a', ['get', 'svc', '-l', 'kept=yes', '-o', 'name'])).stdout).toBe('');
    expect(await check('a', await editorShows('a'))).toMatchObject({ passed: false });
  }, 60_000);
});
