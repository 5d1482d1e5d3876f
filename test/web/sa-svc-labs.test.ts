/**
 * The ServiceAccount and Service troubleshooting labs over HTTP on the simulated cluster: each
 * sits in its domain's section of the catalogue, its page shows competency and mistake caught,
 * and Check fails a known-wrong attempt on the check it names (ServiceAccounts and Services from
 * the editor) and passes the solution.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { loadLab } from '../../server/labs/index.js';
import { createApp } from '../../server/web/app.js';
import { createDefaultWebDeps, type DefaultWebDeps } from '../../server/web/wiring.js';

let deps: DefaultWebDeps;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  deps = await createDefaultWebDeps({ mode: 'simulated', dbPath: ':memory:', simulatedWorkers: 0 });
  app = createApp(deps);
});
afterAll(() => deps.close());

type Check = { id: string; status: string; messages: string[] };

describe.each([
  {
    id: 'sa-automount',
    section: 'serviceaccounts',
    competency: 'CKS Cluster Hardening',
    wrong: 'wrong/03-account-off-pod-on.yaml',
    message:
      /pod sa-apps\/worker-[a-z0-9-]+: spec\.volumes\[\*\]\.projected\.sources\[\*\]\.serviceAccountToken is .*expected it to be absent/,
  },
  {
    id: 'svc-broken-service',
    section: 'troubleshooting',
    competency: 'CKA Troubleshooting',
    wrong: 'wrong/04-shared-label.yaml',
    message: /Service svc-shop\/api: spec\.selector\.app is absent, expected "api"/,
  },
])('$id over HTTP (simulated cluster)', ({ id, section, competency, wrong, message }) => {
  it('is listed in its domain section and renders its competency', async () => {
    const home = await request(app).get('/').expect(200);
    const start = home.text.indexOf(`id="domain-${section}"`);
    expect(start).toBeGreaterThan(-1);
    expect(home.text.indexOf(`/labs/${id}"`, start)).toBeGreaterThan(start);
    const api = await request(app).get(`/api/labs/${id}`).expect(200);
    expect(JSON.stringify(api.body)).toContain(competency);
  });

  it('Check fails the known-wrong attempt on the check it names and passes the solution', async () => {
    const lab = await loadLab(id);
    const known = lab.knownWrong.find((w) => w.file === wrong)!;
    const agent = request.agent(app);
    const bad = await agent
      .post(`/api/labs/${id}/check`)
      .send({ manifests: await readFile(join(lab.dir, wrong), 'utf8') })
      .expect(200);
    expect(bad.body.passed).toBe(false);
    const failing = (bad.body.checks as Check[]).filter((c) => c.status === 'fail');
    expect(failing.map((c) => c.id)).toEqual([known.failsCheck]);
    expect(failing[0]!.messages.join(' ')).toMatch(message);
    const good = await agent
      .post(`/api/labs/${id}/check`)
      .send({ manifests: await readFile(lab.files.solution, 'utf8') })
      .expect(200);
    expect((good.body.checks as Check[]).filter((c) => c.status !== 'pass')).toEqual([]);
    expect(good.body.passed).toBe(true);
  });
});
