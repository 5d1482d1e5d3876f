/** Every lab of the catalogue, through the real wiring: listed, rendered, and passable over HTTP. */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { listLabs } from '../../server/labs/index.js';
import type { Lab } from '../../server/labs/model.js';
import { createApp } from '../../server/web/app.js';
import { createDefaultWebDeps, type DefaultWebDeps } from '../../server/web/wiring.js';

/** What ejs's <%= %> makes of a string. */
const escapeHtml = (t: string) =>
  t
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&#34;')
    .replace(/'/g, '&#39;');

let deps: DefaultWebDeps;
let app: ReturnType<typeof createApp>;
const labs: Lab[] = await listLabs();

beforeAll(async () => {
  deps = await createDefaultWebDeps({ mode: 'simulated', dbPath: ':memory:', simulatedWorkers: 0 });
  app = createApp(deps);
});
afterAll(() => deps.close());

describe('the catalogue in the web app', () => {
  it('lists at least 9 labs', async () => {
    expect(labs.length).toBeGreaterThanOrEqual(9);
    const home = await request(app).get('/').expect(200);
    for (const lab of labs) expect(home.text).toContain(`/labs/${lab.id}`);
  });

  it.each(labs.map((l) => [l.id, l] as const))(
    '%s: page, concept page, and a pass with its solution',
    async (id, lab) => {
      const agent = request.agent(app);
      const page = await agent.get(`/labs/${id}`).expect(200);
      expect(page.text).toContain(`<h1>${escapeHtml(lab.title)}</h1>`);
      // What the lab trains and the mistakes it catches, on the lab page itself.
      expect(page.text).toContain(escapeHtml(lab.competency));
      expect(page.text).toContain(escapeHtml(lab.catches));
      expect(page.text).toContain(
        (lab.domain ?? 'networkpolicy') === 'networkpolicy'
          ? 'NetworkPolicy YAML'
          : 'Kinds this editor applies:',
      );
      await agent.get(`/labs/${id}/concept`).expect(200);
      await agent.get(`/labs/${id}/complete`).expect(403);
      const res = await agent
        .post(`/api/labs/${id}/check`)
        .send({ manifests: await readFile(lab.files.solution, 'utf8') });
      expect(res.status).toBe(200);
      expect(res.body.passed).toBe(true);
      await agent.get(`/labs/${id}/complete`).expect(200);
    },
  );
});

describe('answers that only the statements of intent catch fail in the web app too, with a counterexample', () => {
  const cases = labs.flatMap((lab) =>
    lab.knownWrong
      .filter((w) =>
        lab.checks.some((c) => c.id === w.failsCheck && (c.kind === 'traffic' || c.kind === 'unchanged')),
      )
      .map((w) => [lab.id, w.file, w.failsCheck, lab] as const),
  );

  it('has such answers in every lab with statements of intent', () => {
    const withIntent = labs.filter((l) =>
      l.checks.some((c) => c.kind === 'traffic' || c.kind === 'unchanged'),
    );
    expect(new Set(cases.map(([id]) => id))).toEqual(new Set(withIntent.map((l) => l.id)));
  });

  it.each(cases)('%s %s fails %s', async (id, file, failsCheck, lab) => {
    const res = await request(app)
      .post(`/api/labs/${id}/check`)
      .send({ manifests: await readFile(`${lab.dir}/${file}`, 'utf8') })
      .expect(200);
    expect(res.body.passed).toBe(false);
    const check = res.body.checks.find((c: { id: string }) => c.id === failsCheck);
    expect(check.status).toBe('fail');
    expect(check.messages[0]).toMatch(
      /^(also reachable|not reachable|no longer reachable|newly reachable)\b.* -> .* on (TCP|UDP|SCTP|every port)/,
    );
    expect(res.body.diagnosis).toMatch(/\S/);
  });
});
