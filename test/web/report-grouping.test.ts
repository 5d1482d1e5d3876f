/** Issue 10 item 2: a wrong answer's report opens with a diagnosis and reads as one row per cause. */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createApp } from '../../server/web/app.js';
import { createDefaultWebDeps, type DefaultWebDeps } from '../../server/web/wiring.js';

let deps: DefaultWebDeps;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  deps = await createDefaultWebDeps({ mode: 'simulated', dbPath: ':memory:', simulatedWorkers: 0 });
  app = createApp(deps);
});
afterAll(() => deps.close());

describe('the report of np-backend with ingress rules instead of egress', () => {
  it('groups identical causes and names replicas by their workload', async () => {
    const agent = request.agent(app);
    await agent.get('/labs/np-backend').expect(200);
    const answer = await readFile(
      new URL('../../labs/np-backend/wrong/06-ingress-instead-of-egress.yaml', import.meta.url),
      'utf8',
    );
    const posted = await agent
      .post('/labs/np-backend/check')
      .type('form')
      .send({ manifests: answer })
      .expect(303);
    const page = await agent.get(posted.headers.location!).expect(200);
    const html = page.text;

    const verdict = html.slice(
      html.indexOf('class="verdict'),
      html.indexOf('</div>', html.indexOf('class="verdict')),
    );
    expect(verdict).toMatch(/Not yet/);
    expect(verdict).toMatch(/restricts Ingress/);

    const wrongTables = [
      ...html.matchAll(/aria-label="Probes that did not behave as expected[^"]*"[\s\S]*?<\/table>/g),
    ].map((m) => m[0]);
    const rows = wrongTables.flatMap((t) =>
      [...t.matchAll(/<tr><td data-label="From">([^<]*)<\/td>/g)].map((m) => m[1]),
    );
    // 24 failing probes before grouping; one row per source workload and cause now.
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThanOrEqual(8);
    expect(rows).toContain('np-lab/backend (2 pods)');
    // No replica's hashed name where the workload says it all.
    expect(wrongTables.join('')).not.toMatch(/backend-[a-z0-9]{6,10}-[a-z0-9]{5}/);
  });
});
