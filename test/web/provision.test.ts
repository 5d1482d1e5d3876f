import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { ProgressFn } from '../../server/cluster/types.js';
import { environmentError } from '../../server/errors.js';
import { createApp } from '../../server/web/app.js';
import type { ActiveCluster } from '../../server/web/deps.js';
import { FakeChecker, fakeDeps } from './fakes.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function listen(app: ReturnType<typeof createApp>): Promise<string> {
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise((r) => server.once('listening', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Reads a server-sent event stream to its end and returns the events as {event, data}. */
async function readEvents(url: string): Promise<Array<{ event: string; data: unknown }>> {
  const res = await fetch(url);
  expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((block) => block.startsWith('event:'))
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? '';
      const data = /^data: (.*)$/m.exec(block)?.[1] ?? 'null';
      return { event, data: JSON.parse(data) as unknown };
    });
}

function controllable() {
  let release: (c: ActiveCluster) => void = () => undefined;
  let fail: (e: unknown) => void = () => undefined;
  let report: ProgressFn = () => undefined;
  const kubeChecker = new FakeChecker();
  const provision = (onProgress: ProgressFn) =>
    new Promise<ActiveCluster>((resolve, reject) => {
      report = onProgress;
      release = resolve;
      fail = reject;
    });
  return {
    provision,
    kubeChecker,
    progress: (step: string) => report({ step, elapsedMs: 10 }),
    finish: () =>
      release({ info: { mode: 'kube', description: 'context kind-kubelab' }, checker: kubeChecker }),
    fail: (e: unknown) => fail(e),
  };
}

describe('provisioning a real cluster', () => {
  it('says plainly when it is not available', async () => {
    const app = createApp(
      fakeDeps({ provisionUnavailable: 'Docker is not running: start it and restart kubelab.' }),
    );
    const res = await request(app).post('/api/cluster/provision').expect(503);
    expect(res.body.error.hint).toContain('Docker is not running');
    // Every page points at the cluster page, which says it once.
    const page = await request(app).get('/').expect(200);
    expect(page.text).toContain('Why not a real cluster?');
    const cluster = await request(app).get('/cluster').expect(200);
    expect(cluster.text).toContain('A real cluster cannot be created here. Docker is not running');
    await request(app).post('/cluster/provision').expect(503);
    const events = await request(app).get('/api/cluster/provision/events').expect(200);
    expect(events.text).toContain('event: idle');
  });

  it('streams progress over SSE, replays it to late subscribers, then switches the labs to the real cluster', async () => {
    const ctl = controllable();
    const deps = fakeDeps({ provision: ctl.provision });
    const base = await listen(createApp(deps));

    const start = await fetch(`${base}/api/cluster/provision`, { method: 'POST' });
    expect(start.status).toBe(202);
    const again = await fetch(`${base}/api/cluster/provision`, { method: 'POST' });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { state: string }).state).toBe('running');

    ctl.progress('creating the kind cluster');
    const live = readEvents(`${base}/api/cluster/provision/events`);
    await new Promise((r) => setTimeout(r, 50));
    ctl.progress('installing Calico');
    const page = await fetch(`${base}/cluster`).then((r) => r.text());
    expect(page).toContain('creating the kind cluster');
    expect(page).toContain('data-state="running"');
    ctl.finish();

    const events = await live;
    expect(events.map((e) => e.event)).toEqual(['progress', 'progress', 'done']);
    expect(events[0]!.data).toMatchObject({ event: { step: 'creating the kind cluster' } });
    expect(events[2]!.data).toEqual({ type: 'done', description: 'context kind-kubelab' });

    const replay = await readEvents(`${base}/api/cluster/provision/events`);
    expect(replay.map((e) => e.event)).toEqual(['progress', 'progress', 'done']);

    const status = (await fetch(`${base}/api/cluster`).then((r) => r.json())) as { mode: { mode: string } };
    expect(status.mode.mode).toBe('kube');
    // Checks now go to the real cluster's checker, and the lab page shows kubectl instead of the editor.
    const check = await fetch(`${base}/api/labs/np-fake/check`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(check.status).toBe(200);
    expect(ctl.kubeChecker.checks).toBe(1);
    expect(deps.checker.checks).toBe(0);
    const lab = await fetch(`${base}/labs/np-fake`).then((r) => r.text());
    expect(lab).toContain('kubectl get networkpolicy -n np-lab');
    expect(lab).toContain('kubectl apply -f np-backend.yaml');
    expect(lab).not.toContain('<textarea');
    expect(lab).toContain('Real cluster:');
  });

  it('reports a failure with its hint, and can be started again', async () => {
    const ctl = controllable();
    const base = await listen(createApp(fakeDeps({ provision: ctl.provision })));
    await fetch(`${base}/cluster/provision`, { method: 'POST', redirect: 'manual' }).then((r) =>
      expect(r.status).toBe(303),
    );
    const live = readEvents(`${base}/api/cluster/provision/events`);
    await new Promise((r) => setTimeout(r, 20));
    ctl.fail(
      environmentError('kind create cluster failed: no space left on device', 'Free some disk space.'),
    );
    const events = await live;
    expect(events.at(-1)).toEqual({
      event: 'failed',
      data: {
        type: 'failed',
        message: 'kind create cluster failed: no space left on device',
        hint: 'Free some disk space.',
      },
    });
    const page = await fetch(`${base}/cluster`).then((r) => r.text());
    expect(page).toContain('Try again');
    const retry = await fetch(`${base}/api/cluster/provision`, { method: 'POST' });
    expect(retry.status).toBe(202);
  });

  it('an unexpected provisioning crash shows no internals', async () => {
    const ctl = controllable();
    const deps = fakeDeps({ provision: ctl.provision });
    const base = await listen(createApp(deps));
    await fetch(`${base}/api/cluster/provision`, { method: 'POST' });
    ctl.fail(new Error('/home/secret/path exploded'));
    await new Promise((r) => setTimeout(r, 20));
    const events = await readEvents(`${base}/api/cluster/provision/events`);
    expect(JSON.stringify(events)).not.toContain('secret');
    expect(events.at(-1)!.event).toBe('failed');
    expect(deps.logs.join('\n')).toContain('/home/secret/path exploded');
  });
});
