/**
 * The labs rbac-support-logs and rbac-edit-no-secrets in the web app, through the real wiring:
 * Check passes with each solution and fails a known-wrong attempt of each with the counterexample
 * the learner needs (the member of the group the task never named; the Secrets edit hands over).
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

async function checkSolutionAndWrong(id: string, wrongFile: string, checkId: string, counterexample: string) {
  const lab = await loadLab(id);
  const agent = request.agent(app);
  const solution = await readFile(lab.files.solution, 'utf8');
  const ok = await agent.post(`/api/labs/${id}/check`).send({ manifests: solution });
  expect(ok.status).toBe(200);
  expect(ok.body.passed).toBe(true);
  const wrong = await readFile(join(lab.dir, wrongFile), 'utf8');
  const failed = await agent.post(`/api/labs/${id}/check`).send({ manifests: wrong });
  expect(failed.status).toBe(200);
  expect(failed.body.passed).toBe(false);
  const check = failed.body.checks.find((c: { id: string }) => c.id === checkId);
  expect(check.status).toBe('fail');
  expect(check.messages.join('\n')).toContain(counterexample);
}

describe('RBAC labs for a group and for edit without Secrets, in the web app', () => {
  it('rbac-support-logs: the solution passes; binding the user alice fails for another member of support', async () => {
    await checkSolutionAndWrong(
      'rbac-support-logs',
      'wrong/04-user-subject.yaml',
      'whole-group-reads',
      'not allowed: carol may not get pods/log in shop',
    );
  });

  it('rbac-edit-no-secrets: the solution passes; binding edit fails naming the Secrets it grants', async () => {
    await checkSolutionAndWrong(
      'rbac-edit-no-secrets',
      'wrong/01-bind-edit.yaml',
      'no-secrets',
      'also allowed: system:serviceaccount:orders:maintainer may get, list, watch secrets in orders, via RoleBinding orders/orders-maintainer -> ClusterRole edit rules[0]',
    );
  });
});
