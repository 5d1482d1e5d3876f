/**
 * A Pod Security lab over HTTP on the simulated cluster: the catalogue shows it in its domain's
 * section, its page renders with competency and mistake caught, Check passes the solution and
 * fails a known-wrong attempt on the check it names (editor objects beyond NetworkPolicies).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { loadLab } from '../../server/labs/index.js';
import type { Lab } from '../../server/labs/model.js';
import { createApp } from '../../server/web/app.js';
import { createDefaultWebDeps, type DefaultWebDeps } from '../../server/web/wiring.js';

let deps: DefaultWebDeps;
let app: ReturnType<typeof createApp>;
let lab: Lab;

beforeAll(async () => {
  deps = await createDefaultWebDeps({ mode: 'simulated', dbPath: ':memory:', simulatedWorkers: 0 });
  app = createApp(deps);
  lab = await loadLab('psa-restricted');
});
afterAll(() => deps.close());

const read = (file: string) => readFile(join(lab.dir, file), 'utf8');

describe('psa-restricted over HTTP (simulated cluster)', () => {
  it('the catalogue groups labs by domain in course order; the API names each lab its section', async () => {
    const page = await request(app).get('/').expect(200);
    const sections = [...page.text.matchAll(/<h2 id="domain-([a-z]+)"/g)].map((m) => m[1]);
    expect(sections.slice(0, 2)).toEqual(['networkpolicy', 'podsecurity']);
    const podSecurity = page.text.slice(page.text.indexOf('id="domain-podsecurity"'));
    expect(podSecurity).toContain('/labs/psa-restricted');
    const list = await request(app).get('/api/labs').expect(200);
    const entry = (list.body.labs as Array<{ id: string; section: string }>).find(
      (l) => l.id === 'psa-restricted',
    );
    expect(entry?.section).toBe('podsecurity');
  });

  it('renders the lab with its competency and the mistake it catches', async () => {
    const page = await request(app).get('/labs/psa-restricted').expect(200);
    expect(page.text).toContain('Enforce restricted and fix the workloads');
    expect(page.text).toContain('enforce</strong> the <strong>restricted</strong> profile');
    const api = await request(app).get('/api/labs/psa-restricted').expect(200);
    expect(JSON.stringify(api.body)).toContain('CKS Minimize Microservice Vulnerabilities');
  });

  it('Check passes the solution and fails a known-wrong attempt on the check it names', async () => {
    const agent = request.agent(app);
    const wrong = lab.knownWrong.find((w) => w.file === 'wrong/01-label-only.yaml')!;
    const bad = await agent
      .post('/api/labs/psa-restricted/check')
      .send({ manifests: await read(wrong.file) })
      .expect(200);
    expect(bad.body.passed).toBe(false);
    const failing = (bad.body.checks as Array<{ id: string; status: string; messages: string[] }>).filter(
      (c) => c.status === 'fail',
    );
    expect(failing.map((c) => c.id)).toEqual([wrong.failsCheck]);
    expect(failing[0]!.messages.join(' ')).toMatch(
      /would be refused: pods "kubelab-admission-deployment-web" is forbidden: violates PodSecurity "restricted:latest"/,
    );
    const good = await agent
      .post('/api/labs/psa-restricted/check')
      .send({ manifests: await read('solution.yaml') })
      .expect(200);
    expect(good.body.passed).toBe(true);
    // The scenario namespace was not deleted when the editor's earlier objects were replaced.
    expect(
      (good.body.checks as Array<{ id: string; status: string }>).every((c) => c.status === 'pass'),
    ).toBe(true);
  });

  it('refuses a kind the lab does not apply, with the line', async () => {
    const res = await request(app)
      .post('/api/labs/psa-restricted/check')
      .send({ manifests: 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n' })
      .expect(400);
    expect(JSON.stringify(res.body)).toMatch(/kind must be one of NetworkPolicy, Namespace/);
  });
});
