/**
 * A learner cannot overwrite an object the scenario ships, through the real wiring: the check is
 * refused with the object's name, nothing in the learner's cluster is deleted, and the reference
 * solution still passes afterwards (it used to fail until Reset, because the next check deleted
 * the scenario's policy that the refused one had replaced).
 */
import { readFile } from 'node:fs/promises';
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

const OVERWRITE = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-same-namespace
  namespace: mon-app
spec:
  podSelector: {}
  policyTypes: [Ingress]
  ingress:
    - {}
`;

describe('scenario objects in the web app', () => {
  it('refuses a submission that replaces a scenario policy, and the solution passes after it', async () => {
    const lab = await loadLab('np-allow-monitoring');
    const solution = await readFile(lab.files.solution, 'utf8');
    const agent = request.agent(app);
    for (let i = 0; i < 2; i++) {
      const refused = await agent
        .post(`/api/labs/${lab.id}/check`)
        .send({ manifests: `${solution}\n---\n${OVERWRITE}` });
      expect(refused.status).toBe(400);
      expect(JSON.stringify(refused.body)).toMatch(
        /NetworkPolicy mon-app\/allow-same-namespace belongs to the scenario/,
      );
      expect(JSON.stringify(refused.body)).toMatch(/another name/);
    }
    const ok = await agent.post(`/api/labs/${lab.id}/check`).send({ manifests: solution });
    expect(ok.status).toBe(200);
    expect(ok.body.passed).toBe(true);
    expect(ok.body.checks.find((c: { id: string }) => c.id === 'scenario-intact').status).toBe('pass');
  });
});
