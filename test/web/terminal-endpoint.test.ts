/**
 * Who may open a terminal (the WebSocket at /terminal/LAB) and what the pane says when it is off:
 * one server on loopback, WebSocket clients with and without the learner's cookie and our Origin.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServer, terminalSettings, type RunningServer } from '../../server/cli/serve.js';

let server: RunningServer;
let cookie = '';
let origin = '';

beforeAll(async () => {
  // KUBELAB_KUBECTL: a stand-in program, so this file needs no kubectl and runs none.
  server = await startServer({
    host: '127.0.0.1',
    port: 0,
    dbPath: ':memory:',
    mode: 'simulated',
    simulatedWorkers: 0,
    env: { ...process.env, KUBELAB_KUBECTL: '/bin/echo' },
  });
  origin = server.url.slice(0, -1);
  const res = await fetch(`${server.url}labs/np-backend`);
  cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
});

afterAll(async () => {
  await server?.close();
});

/** Opens a terminal socket; resolves with the HTTP status of a refusal, or the first output. */
function open(
  headers: Record<string, string>,
  lab = 'np-backend',
): Promise<{ status?: number; output?: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${origin.replace('http', 'ws')}/terminal/${lab}`, { headers });
    ws.on('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0 }));
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', history: ['kubectl get pods'], cols: 80 })));
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as { type: string; data?: string };
      if (m.type === 'output' && m.data?.includes('$ ')) {
        ws.close();
        resolve({ output: m.data });
      }
    });
    ws.on('error', () => {});
  });
}

describe('the terminal socket', () => {
  it('opens for the learner with our Origin', async () => {
    expect(await open({ Cookie: cookie, Origin: origin })).toEqual({ output: '$ ' });
  });

  it('refuses another Origin (cross-site WebSocket hijacking)', async () => {
    expect(await open({ Cookie: cookie, Origin: 'http://evil.example' })).toEqual({ status: 403 });
    expect(await open({ Cookie: cookie, Origin: origin.replace('http:', 'https:') })).toEqual({
      status: 403,
    });
    expect(await open({ Cookie: cookie })).toEqual({ status: 403 });
  });

  it('refuses without a learner cookie, or with a forged one', async () => {
    expect(await open({ Origin: origin })).toEqual({ status: 403 });
    expect(await open({ Origin: origin, Cookie: 'kubelab_learner=s%3Aforged.sig' })).toEqual({ status: 403 });
  });

  it('refuses a Host the app does not answer to (DNS rebinding) and a lab id that is not one', async () => {
    expect(await open({ Cookie: cookie, Origin: 'http://evil.example', Host: 'evil.example' })).toEqual({
      status: 403,
    });
    expect(await open({ Cookie: cookie, Origin: origin }, '..%2F..%2Fetc')).toEqual({ status: 404 });
  });
});

describe('the pane when the terminal cannot run', () => {
  it('is off beyond loopback unless --terminal, and never gets the real cluster there', () => {
    const exposed = terminalSettings('0.0.0.0', {}, '/usr/bin/kubectl');
    expect(exposed.enabled).toBe(false);
    expect(exposed.disabledReason).toMatch(/--terminal/);
    const forced = terminalSettings('0.0.0.0', { terminal: true }, '/usr/bin/kubectl');
    expect(forced.enabled).toBe(true);
    expect(forced.realClusterKubeconfig).toBeUndefined();
    const local = terminalSettings('127.0.0.1', {}, '/usr/bin/kubectl');
    expect(local.enabled).toBe(true);
    expect(local.realClusterKubeconfig).toBeTypeOf('function');
  });

  it('the lab page allows inline styles (xterm) only while the terminal is on', async () => {
    const res = await fetch(`${server.url}labs/np-backend`);
    expect(res.headers.get('content-security-policy')).toContain("style-src 'self' 'unsafe-inline'");
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self';");
    const catalogue = await fetch(server.url);
    expect(catalogue.headers.get('content-security-policy')).not.toContain('unsafe-inline');
  });
});
