/**
 * Lab rbac-aggregated-clusterrole over HTTP, through the real wiring: the solution (one labelled
 * component ClusterRole) passes, and a component that also carries the label of the built-in view
 * fails with the request that every viewer gained.
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

describe('lab rbac-aggregated-clusterrole in the web app', () => {
  it('Check passes with the solution and fails the aggregate-to-view label with the counterexample', async () => {
    const lab = await loadLab('rbac-aggregated-clusterrole');
    const agent = request.agent(app);
    const ok = await agent
      .post(`/api/labs/${lab.id}/check`)
      .send({ manifests: await readFile(lab.files.solution, 'utf8') });
    expect(ok.status).toBe(200);
    expect(ok.body.passed).toBe(true);
    const wrong = await readFile(join(lab.dir, 'wrong/03-also-aggregate-to-view.yaml'), 'utf8');
    const failed = await agent.post(`/api/labs/${lab.id}/check`).send({ manifests: wrong });
    expect(failed.status).toBe(200);
    expect(failed.body.passed).toBe(false);
    const failing = (failed.body.checks as Array<{ id: string; status: string }>)
      .filter((c) => c.status === 'fail')
      .map((c) => c.id);
    // view feeds edit, so the developers' edit grows too.
    expect(failing).toEqual(['view-unchanged', 'edit-unchanged']);
    const check = failed.body.checks.find((c: { id: string }) => c.id === 'view-unchanged');
    expect(check.messages.join('\n')).toContain(
      'also allowed: support-engineer may get, list, watch roles.rbac.authorization.k8s.io in shop, via RoleBinding shop/support-view -> ClusterRole view rules[0]',
    );
  });
});
