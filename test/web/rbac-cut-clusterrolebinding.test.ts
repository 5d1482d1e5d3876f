/**
 * The lab rbac-cut-clusterrolebinding in the web app, through the real wiring: the editor may
 * replace the scenario's ClusterRoleBinding (it is changeable) but not its ServiceAccount, a narrow ClusterRole bound
 * cluster-wide fails with the namespace it leaks into, and the solution passes.
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

describe('rbac-cut-clusterrolebinding in the web app', () => {
  it('fails a narrow ClusterRole bound cluster-wide, naming the leak, then passes the solution', async () => {
    const lab = await loadLab('rbac-cut-clusterrolebinding');
    const agent = request.agent(app);
    const wrong = await readFile(
      join(lab.dir, 'wrong/04-narrow-clusterrole-clusterrolebinding.yaml'),
      'utf8',
    );
    const failed = await agent.post(`/api/labs/${lab.id}/check`).send({ manifests: wrong });
    expect(failed.status).toBe(200);
    expect(failed.body.passed).toBe(false);
    const check = failed.body.checks.find((c: { id: string }) => c.id === 'exporter-nothing-else');
    expect(check.status).toBe('fail');
    expect(check.messages.join('\n')).toContain(
      'also allowed: system:serviceaccount:reports:exporter may get, list, watch configmaps in billing, via ClusterRoleBinding exporter-narrow -> ClusterRole exporter rules[0]',
    );
    // Only the listed binding is the learner's: the exporter's ServiceAccount stays the scenario's.
    const sa = 'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: exporter\n  namespace: reports\n';
    const refused = await agent.post(`/api/labs/${lab.id}/check`).send({ manifests: `${wrong}\n---\n${sa}` });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toMatch(/ServiceAccount reports\/exporter belongs to the scenario/);
    const solution = await readFile(lab.files.solution, 'utf8');
    const ok = await agent.post(`/api/labs/${lab.id}/check`).send({ manifests: solution });
    expect(ok.status).toBe(200);
    expect(ok.body.passed).toBe(true);
  });
});
