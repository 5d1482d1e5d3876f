/**
 * An RBAC lab in the web app, through the real wiring: the page renders with its competency, the
 * mistake it catches and the Role starter; Check passes with the solution and fails a known-wrong
 * attempt with the counterexample; the editor refuses a submission replacing the scenario's
 * ServiceAccount and a kind it does not apply.
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

describe('lab rbac-ci-deployer in the web app', () => {
  it('renders the lab page with its task and the Role starter in the editor', async () => {
    const page = await request(app).get('/labs/rbac-ci-deployer');
    expect(page.status).toBe(200);
    expect(page.text).toContain('A least-privilege Role for a CI deployer');
    expect(page.text).toContain('Write the Role and the RoleBinding here');
  });

  it('Check passes with the solution and fails a known-wrong attempt with the counterexample', async () => {
    const lab = await loadLab('rbac-ci-deployer');
    const agent = request.agent(app);
    const solution = await readFile(lab.files.solution, 'utf8');
    const ok = await agent.post(`/api/labs/${lab.id}/check`).send({ manifests: solution });
    expect(ok.status).toBe(200);
    expect(ok.body.passed).toBe(true);
    const wrong = await readFile(join(lab.dir, 'wrong/02-cluster-role-binding.yaml'), 'utf8');
    const failed = await agent.post(`/api/labs/${lab.id}/check`).send({ manifests: wrong });
    expect(failed.body.passed).toBe(false);
    const check = failed.body.checks.find((c: { id: string }) => c.id === 'deployer-nothing-else');
    expect(check.status).toBe('fail');
    expect(check.messages.join('\n')).toContain(
      'also allowed: system:serviceaccount:ci:deployer may get, list, watch, create, update, patch deployments.apps in ci, via ClusterRoleBinding deployer -> ClusterRole deployer rules[0]',
    );
  });

  it("refuses to replace the scenario's ServiceAccount, and kinds the editor does not apply", async () => {
    const agent = request.agent(app);
    const sa = 'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: deployer\n  namespace: ci\n';
    const refused = await agent.post('/api/labs/rbac-ci-deployer/check').send({ manifests: sa });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toMatch(/ServiceAccount ci\/deployer belongs to the scenario/);
    const pod = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\n';
    const bad = await agent.post('/api/labs/rbac-ci-deployer/check').send({ manifests: pod });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/kind must be one of NetworkPolicy, Role, RoleBinding/);
  });
});
