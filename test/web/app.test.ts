import { describe, expect, it } from 'vitest';
import request from 'supertest';
import { createApp } from '../../server/web/app.js';
import { LEARNER_COOKIE } from '../../server/web/learner.js';
import { FAKE_SOLUTION, RIGHT_POLICY, WRONG_POLICY, fakeCatalogue, fakeDeps, fakeLab } from './fakes.js';

function setup(overrides: Parameters<typeof fakeDeps>[0] = {}) {
  const deps = fakeDeps(overrides);
  const app = createApp(deps);
  return { deps, app, agent: request.agent(app) };
}

/** No script in the markup except external files, and no inline event handlers. */
function expectNoInlineScript(html: string) {
  expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
  expect(html).not.toMatch(/\son[a-z]+\s*=/i);
  expect(html).not.toMatch(/style="/i);
}

describe('catalogue and identity', () => {
  it('lists labs with tags, difficulty, minutes and progress, and sets a signed httpOnly lax cookie', async () => {
    const { app } = setup();
    const res = await request(app).get('/').expect(200);
    expect(res.text).toContain('Fake lab');
    expect(res.text).toContain('CKA');
    expect(res.text).toContain('CKS');
    expect(res.text).toContain('beginner');
    expect(res.text).toContain('15 min');
    expect(res.text).toContain('not started');
    expect(res.text).toContain('Simulated cluster');
    expectNoInlineScript(res.text);
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toContain(`${LEARNER_COOKIE}=s%3A`);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
  });

  it('still lists the valid labs when another lab is broken, and says what is wrong', async () => {
    const labs = fakeCatalogue();
    labs.list = async () => ({
      labs: [fakeLab()],
      problems: [{ file: 'labs/half/lab.yaml', line: 3, path: 'pages.task', message: 'file not found' }],
    });
    const app = createApp(fakeDeps({ labs }));
    const page = await request(app).get('/').expect(200);
    expect(page.text).toContain('Fake lab');
    expect(page.text).toContain('1 problem kept some labs out of the catalogue');
    expect(page.text).toContain('labs/half/lab.yaml:3: pages.task: file not found');
    const api = await request(app).get('/api/labs').expect(200);
    expect(api.body.labs).toHaveLength(1);
    expect(api.body.problems).toHaveLength(1);
  });

  it('keeps the same learner across requests and ignores a tampered cookie', async () => {
    const { agent, app } = setup();
    await agent.post('/api/labs/np-fake/check').send({ manifests: WRONG_POLICY }).expect(200);
    const mine = await agent.get('/api/labs').expect(200);
    expect(mine.body.labs[0].progress.status).toBe('attempted');

    const forged = await request(app)
      .get('/api/labs')
      .set('Cookie', `${LEARNER_COOKIE}=s%3A00000000-0000-4000-8000-000000000000.forgedsignature`)
      .expect(200);
    expect(forged.body.labs[0].progress.status).toBe('not-started');
    expect(String(forged.headers['set-cookie'])).toContain(LEARNER_COOKIE);
  });

  it('sends a CSP without inline script and the usual helmet headers', async () => {
    const { app } = setup();
    const res = await request(app).get('/').expect(200);
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("script-src-attr 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['referrer-policy']).toBe('same-origin');
    expect(res.headers['strict-transport-security']).toBeUndefined();
  });
});

describe('lab page', () => {
  it('renders the task as sanitised Markdown with the scenario, matrix, editor and hints', async () => {
    const { app } = setup();
    const res = await request(app).get('/labs/np-fake').expect(200);
    // The page's own title replaces the task's `# The task`.
    expect(res.text).toContain('<h1>Fake lab</h1>');
    expect(res.text).not.toContain('The task');
    expect(res.text).toContain('<strong>np-backend</strong>');
    expect(res.text).not.toContain('<script>alert');
    expect(res.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(res.text).not.toMatch(/href="javascript/i);
    expect(res.text).toContain('href="/labs/np-fake/concept"');
    // The scenario picture: the namespace, the subject pods, the Service.
    expect(res.text).toContain('namespace</span> np-lab');
    expect(res.text).toMatch(
      /backend<\/span>\s*<span class="box-kind">Deployment × 2 · <strong>your policy's pods/,
    );
    expect(res.text).toContain('db1');
    // The "before" matrix: everything open.
    expect(res.text).toContain('Before your policy:');
    expect(res.text).toContain('db1.np-lab:1111/TCP');
    // Editor with a textarea fallback and CodeMirror from our own server.
    expect(res.text).toMatch(/<textarea id="manifests" name="manifests"/);
    expect(res.text).toContain('name: np-backend');
    expect(res.text).toContain('/vendor/codemirror/lib/codemirror.js');
    expect(res.text).toContain('Show a hint');
    expectNoInlineScript(res.text);
  });

  it('refuses lab ids that are not lab folder names with 404, before touching the catalogue', async () => {
    const { app, deps } = setup();
    for (const path of [
      '/labs/..%2F..%2Fetc',
      '/labs/NP-FAKE',
      '/labs/-x',
      '/labs/a.b',
      `/labs/${'a'.repeat(80)}`,
    ]) {
      const res = await request(app).get(path).expect(404);
      expect(res.text).toContain('Not found');
    }
    const api = await request(app).get('/api/labs/..%2Fsecrets').expect(404);
    expect(api.body.error.code).toBe('NOT_FOUND');
    expect((deps.labs as unknown as { pageReads: number }).pageReads).toBe(0);
  });

  it('answers an unknown lab with a 404 page without any stack trace', async () => {
    const { app } = setup();
    const res = await request(app).get('/labs/no-such-lab').expect(404);
    expect(res.text).toContain('there is no lab called no-such-lab');
    expect(res.text).not.toMatch(/at .*\.ts:\d+/);
    expect(res.headers['content-type']).toMatch(/html/);
  });

  it('serves the concept page and unknown paths as 404', async () => {
    const { app } = setup();
    const concept = await request(app).get('/labs/np-fake/concept').expect(200);
    expect(concept.text).toContain('<h1>Concept</h1>');
    await request(app).get('/nope').expect(404);
    const api = await request(app).get('/api/nope').expect(404);
    expect(api.body.error.code).toBe('NOT_FOUND');
  });

  it('serves the stylesheet, the page scripts and CodeMirror, but nothing else from node_modules', async () => {
    const { app } = setup();
    await request(app).get('/static/app.css').expect(200).expect('content-type', /css/);
    await request(app)
      .get('/static/lab.js')
      .expect(200)
      .expect('content-type', /javascript/);
    await request(app).get('/static/cluster.js').expect(200);
    await request(app).get('/vendor/codemirror/lib/codemirror.js').expect(200);
    await request(app).get('/vendor/codemirror/lib/codemirror.css').expect(200);
    await request(app).get('/vendor/codemirror/mode/yaml/yaml.js').expect(200);
    await request(app).get('/vendor/codemirror/package.json').expect(404);
    await request(app).get('/vendor/codemirror/mode/javascript/javascript.js').expect(404);
  });
});

describe('checking from the page', () => {
  it('a form post redirects back, and the page then shows the result with its explanation', async () => {
    const { agent } = setup();
    const post = await agent
      .post('/labs/np-fake/check')
      .type('form')
      .send({ manifests: WRONG_POLICY })
      .expect(303);
    expect(post.headers.location).toBe('/labs/np-fake#result');
    const page = await agent.get('/labs/np-fake').expect(200);
    expect(page.text).toContain('Not yet');
    expect(page.text).toContain('no egress rule allows DNS to kube-dns');
    expect(page.text).toContain('could not resolve host');
    expect(page.text).toContain('With your policies:');
    expect(page.text).toContain('attempted');
    // The editor keeps what was checked.
    expect(page.text).toContain('name: other');
  });

  it('a partial post returns the changed sections as HTML, and the completion page opens after a pass', async () => {
    const { agent } = setup();
    await agent.get('/labs/np-fake/complete').expect(403);
    const res = await agent
      .post('/labs/np-fake/check')
      .set('X-Kubelab-Partial', '1')
      .type('form')
      .send({ manifests: RIGHT_POLICY })
      .expect(200);
    expect(res.body.passed).toBe(true);
    expect(res.body.sections.result).toContain('Passed');
    expect(res.body.sections.result).toContain('/labs/np-fake/complete');
    expect(res.body.sections.matrix).toContain('cell-ok');
    expect(res.body.sections.progress).toContain('passed');
    const done = await agent.get('/labs/np-fake/complete').expect(200);
    expect(done.text).toContain('Well done');
  });

  it('the completion page is refused (403 page) before passing, even after failing checks', async () => {
    const { agent } = setup();
    await agent.post('/labs/np-fake/check').type('form').send({ manifests: WRONG_POLICY }).expect(303);
    const res = await agent.get('/labs/np-fake/complete').expect(403);
    expect(res.text).toContain('you have not passed Fake lab yet');
    expect(res.text).toContain('Not allowed');
  });

  it('broken YAML comes back as 400 with line and column, keeping the text in the editor', async () => {
    const { agent } = setup();
    const broken = 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: [unclosed\n';
    const page = await agent.post('/labs/np-fake/check').type('form').send({ manifests: broken }).expect(400);
    expect(page.text).toContain('Your YAML cannot be applied');
    expect(page.text).toMatch(/line \d+, column \d+/);
    expect(page.text).toContain('name: [unclosed');
    const partial = await agent
      .post('/labs/np-fake/check')
      .set('X-Kubelab-Partial', '1')
      .type('form')
      .send({ manifests: broken })
      .expect(400);
    expect(partial.body.error.code).toBe('BAD_INPUT');
    expect(partial.body.sections.result).toMatch(/line \d+, column \d+/);
  });

  it("a checker that reports an environment problem gives 503 and says it is not the learner's mistake", async () => {
    const { agent, deps } = setup();
    deps.checker.failWith = 'environment';
    const page = await agent
      .post('/labs/np-fake/check')
      .type('form')
      .send({ manifests: RIGHT_POLICY })
      .expect(503);
    expect(page.text).toContain('The cluster has a problem (not your mistake)');
    expect(page.text).toContain('the cluster is not answering');
    const api = await agent.post('/api/labs/np-fake/check').send({ manifests: RIGHT_POLICY }).expect(503);
    expect(api.body.error).toMatchObject({ code: 'ENVIRONMENT', hint: 'Start Docker and retry.' });
  });

  it("a report with environment problems keeps them apart from the learner's mistakes", async () => {
    const { agent, deps } = setup();
    deps.checker.reportOverride = {
      lab: 'np-fake',
      passed: false,
      status: 'environment-error',
      cluster: { mode: 'kube', description: 'context kind-kubelab' },
      summary: 'The environment has a problem, so this attempt was not graded.',
      startedAt: '2025-01-01T00:00:00.000Z',
      durationMs: 9,
      checks: [
        {
          id: 'preflight',
          title: 'The lab environment is ready',
          kind: 'preflight',
          status: 'error',
          messages: ['pod np-lab/db1-0 is not ready (ImagePullBackOff).'],
          probes: [],
        },
        {
          id: 'allowed',
          title: 'backend reaches db1',
          kind: 'connectivity',
          status: 'fail',
          messages: [],
          probes: [
            {
              from: 'np-lab/backend-0',
              to: 'db1.np-lab:1111/TCP',
              expected: 'open',
              actual: 'blocked',
              passed: false,
              attempts: 3,
              detail: 'curl exit 28',
              explanation: 'the policies allow this connection',
              environmentProblem:
                'the policies allow it but the probe timed out: the CNI may not enforce yet',
            },
            {
              from: 'np-lab/backend-0',
              to: 'vault.np-lab:3333/TCP',
              expected: 'blocked',
              actual: 'allowed',
              passed: false,
              attempts: 1,
              detail: 'connected',
              explanation: 'no egress policy selects backend-0',
            },
          ],
        },
      ],
    };
    const res = await agent
      .post('/labs/np-fake/check')
      .set('X-Kubelab-Partial', '1')
      .type('form')
      .send({ manifests: '' })
      .expect(200);
    const html = res.body.sections.result as string;
    expect(res.body.status).toBe('environment-error');
    expect(html).toContain('Not graded: environment problem');
    const envSection = html.slice(
      html.indexOf('Environment problems (not your mistakes)'),
      html.indexOf('<ol class="checks">'),
    );
    expect(envSection).toContain('pod np-lab/db1-0 is not ready (ImagePullBackOff).');
    expect(envSection).toContain('the CNI may not enforce yet');
    // The learner's own mistake is listed with the check, the environment's is not.
    const checks = html.slice(html.indexOf('<ol class="checks">'));
    expect(checks).toContain('vault.np-lab:3333/TCP');
    expect(checks).toContain('no egress policy selects backend-0');
    expect(checks).not.toContain('the CNI may not enforce yet');
  });

  it('an unexpected failure is a generic 500 with no internals, logged on the server', async () => {
    const { agent, deps } = setup();
    deps.checker.failWith = 'crash';
    const page = await agent
      .post('/labs/np-fake/check')
      .type('form')
      .send({ manifests: RIGHT_POLICY })
      .expect(500);
    expect(page.text).toContain('something went wrong inside kubelab');
    expect(page.text).not.toContain('secret internal detail');
    const api = await agent.post('/api/labs/np-fake/check').send({ manifests: RIGHT_POLICY }).expect(500);
    expect(api.body).toEqual({
      error: {
        code: 'INTERNAL',
        message: 'something went wrong inside kubelab',
        problems: [],
        hint: expect.any(String),
      },
    });
    expect(JSON.stringify(api.body)).not.toContain('secret');
    expect(deps.logs.join('\n')).toContain('secret internal detail');
  });
});

describe('JSON API', () => {
  it("GET /api/labs and /api/labs/:id describe labs and the learner's progress", async () => {
    const { agent } = setup();
    const list = await agent.get('/api/labs').expect(200);
    expect(list.body.labs).toEqual([
      expect.objectContaining({ id: 'np-fake', tags: ['CKA', 'CKS'], difficulty: 'beginner', minutes: 15 }),
    ]);
    const one = await agent.get('/api/labs/np-fake').expect(200);
    expect(one.body).toMatchObject({
      id: 'np-fake',
      namespace: 'np-lab',
      hints: { total: 2, revealed: [] },
      mode: { mode: 'simulated' },
      lastReport: null,
      links: { concept: '/labs/np-fake/concept' },
    });
    expect(one.body.task).toContain('# The task');
    expect(one.body.links.completion).toBeUndefined();
  });

  it('POST check returns the GradeReport with a top-level passed, and records attempts and passes', async () => {
    const { agent, deps } = setup();
    const wrong = await agent.post('/api/labs/np-fake/check').send({ manifests: WRONG_POLICY }).expect(200);
    expect(wrong.body.passed).toBe(false);
    expect(wrong.body.status).toBe('failed');
    expect(wrong.body.checks[1].probes[0].explanation).toContain('DNS');
    const right = await agent.post('/api/labs/np-fake/check').send({ manifests: RIGHT_POLICY }).expect(200);
    expect(right.body.passed).toBe(true);
    const one = await agent.get('/api/labs/np-fake').expect(200);
    expect(one.body.progress).toMatchObject({ status: 'passed', attempts: 2 });
    expect(one.body.links.completion).toBe('/labs/np-fake/complete');
    expect(one.body.lastReport.passed).toBe(true);
    // The namespace defaults to the lab's, and the checker got parsed objects.
    const applied = [...deps.checker.applied.values()].at(-1)!;
    expect(applied[0]!.metadata).toMatchObject({ name: 'np-backend', namespace: 'np-lab' });
  });

  it('broken YAML is a 400 with line and column in the problems', async () => {
    const { agent, deps } = setup();
    const res = await agent
      .post('/api/labs/np-fake/check')
      .send({ manifests: 'kind: NetworkPolicy\nmetadata:\n  name: x\n  bad: : :\n' })
      .expect(400);
    expect(res.body.error.code).toBe('BAD_INPUT');
    expect(res.body.error.problems[0]).toMatchObject({
      file: 'your manifests',
      line: expect.any(Number),
      column: expect.any(Number),
    });
    expect(deps.checker.checks).toBe(0);
  });

  it('refuses other kinds, a missing name, duplicates and a missing manifests field, each with its line', async () => {
    const { agent } = setup();
    const res = await agent
      .post('/api/labs/np-fake/check')
      .send({
        manifests:
          'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {}\n---\n' +
          'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: a\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: a\n',
      })
      .expect(400);
    const problems = res.body.error.problems as Array<{ line: number; path: string; message: string }>;
    expect(problems).toEqual([
      expect.objectContaining({
        line: 1,
        path: 'apiVersion',
        message: expect.stringContaining('networking.k8s.io/v1'),
      }),
      expect.objectContaining({
        line: 2,
        path: 'kind',
        message: expect.stringContaining('NetworkPolicies only'),
      }),
      expect.objectContaining({ line: 8, path: 'metadata.name' }),
      expect.objectContaining({
        line: 18,
        path: 'metadata.name',
        message: expect.stringContaining('appears twice'),
      }),
    ]);
    const missing = await agent.post('/api/labs/np-fake/check').send({}).expect(400);
    expect(missing.body.error.message).toContain('manifests');
  });

  it("an empty text removes the learner's policies (and simply fails the check)", async () => {
    const { agent, deps } = setup();
    const res = await agent.post('/api/labs/np-fake/check').send({ manifests: '' }).expect(200);
    expect(res.body.passed).toBe(false);
    expect([...deps.checker.applied.values()][0]).toEqual([]);
  });

  it('limits manifests (400), request bodies (413) and YAML aliases (400)', async () => {
    const { agent } = setup();
    const big = `# ${'x'.repeat(140 * 1024)}\n`;
    const tooBig = await agent.post('/api/labs/np-fake/check').send({ manifests: big }).expect(400);
    expect(tooBig.body.error.message).toContain('larger than');
    const huge = 'x'.repeat(300 * 1024);
    const body = await agent.post('/api/labs/np-fake/check').send({ manifests: huge }).expect(413);
    expect(body.body.error.message).toContain('too large');
    const page = await agent.post('/labs/np-fake/check').type('form').send({ manifests: huge }).expect(413);
    expect(page.text).toContain('Too large');
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 8; i++)
      lines.push(
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`,
      );
    const bomb = await agent
      .post('/api/labs/np-fake/check')
      .send({ manifests: lines.join('\n') })
      .expect(400);
    expect(bomb.body.error.code).toBe('BAD_INPUT');
  });

  it('malformed JSON is a 400, not a 500', async () => {
    const { agent } = setup();
    const res = await agent
      .post('/api/labs/np-fake/check')
      .set('Content-Type', 'application/json')
      .send('{"manifests": ')
      .expect(400);
    expect(res.body.error.message).toContain('not valid JSON');
  });

  it('GET matrix shows all open before any policy, then the state after a check', async () => {
    const { agent } = setup();
    const before = await agent.get('/api/labs/np-fake/matrix').expect(200);
    expect(before.body).toMatchObject({
      before: true,
      sources: ['np-lab/backend-0'],
      targets: ['db1.np-lab:1111/TCP'],
    });
    expect(before.body.cells[0][0]).toMatchObject({ outcome: 'allowed', ok: true });
    await agent.post('/api/labs/np-fake/check').send({ manifests: WRONG_POLICY }).expect(200);
    const after = await agent.get('/api/labs/np-fake/matrix').expect(200);
    expect(after.body.before).toBe(false);
    expect(after.body.cells[0][0]).toMatchObject({ outcome: 'dns-failure', ok: false });
  });

  it('hints are revealed one at a time, recorded, and run out politely', async () => {
    const { agent } = setup();
    const first = await agent.post('/api/labs/np-fake/hints/next').expect(200);
    expect(first.body).toEqual({ hint: 'First hint: look at egress.', index: 0, hintsUsed: 1, total: 2 });
    const second = await agent.post('/api/labs/np-fake/hints/next').expect(200);
    expect(second.body.index).toBe(1);
    const none = await agent.post('/api/labs/np-fake/hints/next').expect(200);
    expect(none.body).toEqual({ hint: null, index: null, hintsUsed: 2, total: 2 });
    const page = await agent.get('/labs/np-fake').expect(200);
    expect(page.text).toContain('Second hint: DNS needs UDP 53.');
    expect(page.text).toContain('That was the last hint.');
    const one = await agent.get('/api/labs/np-fake').expect(200);
    expect(one.body.hints.revealed).toHaveLength(2);
  });

  it('the solution needs a confirmation, is recorded, and stays visible afterwards', async () => {
    const { agent } = setup();
    const refused = await agent.post('/api/labs/np-fake/solution').send({}).expect(400);
    expect(refused.body.error.message).toContain('confirm');
    const shown = await agent.post('/api/labs/np-fake/solution').send({ confirm: true }).expect(200);
    expect(shown.body.solution).toBe(FAKE_SOLUTION);
    const one = await agent.get('/api/labs/np-fake').expect(200);
    expect(one.body.progress.solutionViewed).toBe(true);
    const page = await agent.get('/labs/np-fake').expect(200);
    expect(page.text).toContain('The reference solution');
    const catalogue = await agent.get('/').expect(200);
    expect(catalogue.text).toContain('solution seen');
  });

  it("reset clears the learner's cluster and last attempt but keeps their history", async () => {
    const { agent, deps } = setup();
    await agent.post('/api/labs/np-fake/check').send({ manifests: RIGHT_POLICY }).expect(200);
    await agent.post('/api/labs/np-fake/reset').expect(200, { reset: true });
    expect(deps.checker.resets).toBe(1);
    const one = await agent.get('/api/labs/np-fake').expect(200);
    expect(one.body.lastReport).toBeNull();
    expect(one.body.progress.status).toBe('passed');
    const matrix = await agent.get('/api/labs/np-fake/matrix').expect(200);
    expect(matrix.body.before).toBe(true);
    const page = await agent.get('/labs/np-fake').expect(200);
    expect(page.text).toContain('No check yet.');
  });
});

describe('page forms for hints, solution and reset', () => {
  it('work without JavaScript (post, then redirect) and with partial responses', async () => {
    const { agent } = setup();
    const hint = await agent.post('/labs/np-fake/hints/next').type('form').send({}).expect(303);
    expect(hint.headers.location).toBe('/labs/np-fake#hints');
    const partialHint = await agent
      .post('/labs/np-fake/hints/next')
      .set('X-Kubelab-Partial', '1')
      .expect(200);
    expect(partialHint.body.sections.hints).toContain('Second hint');

    const noConfirm = await agent.post('/labs/np-fake/solution').type('form').send({}).expect(400);
    expect(noConfirm.text).toContain('confirm that you want to see the solution');
    const sol = await agent.post('/labs/np-fake/solution').type('form').send({ confirm: 'yes' }).expect(303);
    expect(sol.headers.location).toBe('/labs/np-fake#solution');
    const partialSol = await agent
      .post('/labs/np-fake/solution')
      .set('X-Kubelab-Partial', '1')
      .type('form')
      .send({ confirm: 'on' })
      .expect(200);
    expect(partialSol.body.sections.solution).toContain('name: np-backend');

    const reset = await agent.post('/labs/np-fake/reset').type('form').send({}).expect(303);
    expect(reset.headers.location).toBe('/labs/np-fake');
  });
});

describe("the editor's YAML errors", () => {
  it('speak of the manifests in the plural', async () => {
    const { app } = setup();
    const res = await request(app).post('/api/labs/np-fake/check').send({ manifests: 'a: [1\n' });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toBe('your manifests are not valid YAML');
  });
});

describe('hostile YAML', () => {
  it('130,000 unclosed [ are refused with one problem, parsed where the checker parses', async () => {
    const { app, deps } = setup();
    const parsed: string[] = [];
    const { parseLearnerManifests } = await import('../../server/web/manifests.js');
    // A checker that parses off the HTTP thread gets the text; the fake parses in place and records it.
    deps.checker.parse = async ({ lab, text, limits }) => {
      parsed.push(text);
      return parseLearnerManifests(text, lab, limits);
    };
    const res = await request(app)
      .post('/api/labs/np-fake/check')
      .send({ manifests: `a: ${'['.repeat(130_000)}` });
    expect(res.status).toBe(400);
    expect(res.body.error.problems).toHaveLength(1);
    expect(res.body.error.problems[0].message).toContain('nested collections');
    expect(parsed).toHaveLength(1);
    expect(deps.checker.checks).toBe(0);
  });
});

describe('form posts with a broken %-escape', () => {
  it('are refused with 400 and not counted as an attempt', async () => {
    const { app, deps } = setup();
    const res = await request(app)
      .post('/labs/np-fake/check')
      .type('form')
      .send('manifests=kind%3A%20NetworkPolicy%zz');
    expect(res.status).toBe(400);
    expect(res.text).toContain('invalid %-escape');
    const api = await request(app)
      .post('/labs/np-fake/check')
      .set('X-Kubelab-Partial', '1')
      .type('form')
      .send('manifests=%E2%8');
    expect(api.status).toBe(400);
    expect(api.body.error.code).toBe('BAD_INPUT');
    expect(deps.checker.checks).toBe(0);
    // A literal percent sign, properly escaped, is fine.
    await request(app)
      .post('/labs/np-fake/check')
      .type('form')
      .send(`manifests=${encodeURIComponent(`# 100% mine\n${RIGHT_POLICY}`)}`)
      .expect(303);
    expect(deps.checker.checks).toBe(1);
  });
});

describe('cross-site protection', () => {
  it('refuses POSTs from another origin or site with 403, and accepts same-origin ones', async () => {
    const { app, deps } = setup();
    const evil = await request(app)
      .post('/api/labs/np-fake/check')
      .set('Origin', 'http://evil.example')
      .send({ manifests: RIGHT_POLICY })
      .expect(403);
    expect(evil.body.error.message).toContain('cross-site request refused');
    await request(app).post('/labs/np-fake/reset').set('Sec-Fetch-Site', 'cross-site').expect(403);
    await request(app).post('/labs/np-fake/reset').set('Origin', 'null').expect(403);
    const page = await request(app)
      .post('/labs/np-fake/hints/next')
      .set('Sec-Fetch-Site', 'same-site')
      .expect(403);
    expect(page.text).toContain('Not allowed');
    expect(deps.checker.checks).toBe(0);

    // The browser's own Sec-Fetch-Site decides, even when a form post says `Origin: null`.
    await request(app)
      .post('/labs/np-fake/hints/next')
      .set('Origin', 'null')
      .set('Sec-Fetch-Site', 'same-origin')
      .expect(303);
    await request(app)
      .post('/labs/np-fake/hints/next')
      .set('Origin', `http://localhost:3000`)
      .set('Sec-Fetch-Site', 'cross-site')
      .expect(403);
    await request(app)
      .post('/api/labs/np-fake/check')
      .set('Host', 'localhost:3000')
      .set('Origin', 'http://localhost:3000')
      .set('Sec-Fetch-Site', 'same-origin')
      .send({ manifests: RIGHT_POLICY })
      .expect(200);
  });

  it('compares the scheme and port of the Origin too, not only the host', async () => {
    const { app, deps } = setup();
    for (const origin of ['https://127.0.0.1:3000', 'http://127.0.0.1:3001', 'ftp://127.0.0.1:3000']) {
      const res = await request(app)
        .post('/api/labs/np-fake/check')
        .set('Host', '127.0.0.1:3000')
        .set('Origin', origin)
        .send({ manifests: RIGHT_POLICY });
      expect(res.status, origin).toBe(403);
    }
    expect(deps.checker.checks).toBe(0);
    await request(app)
      .post('/api/labs/np-fake/check')
      .set('Host', '127.0.0.1:80')
      .set('Origin', 'http://127.0.0.1')
      .send({ manifests: RIGHT_POLICY })
      .expect(200);
  });

  it('a loopback server answers only to its own host names (DNS rebinding)', async () => {
    const { app } = setup({ allowedHostnames: ['127.0.0.1', 'localhost', '[::1]'] });
    const refused = await request(app).get('/').set('Host', 'attacker.example:3000').expect(403);
    expect(refused.text).toContain('does not answer to host');
    expect(refused.text).toContain('Not allowed');
    expect(refused.text).not.toMatch(/ReferenceError|at .*\.(ts|js):\d+/);
    await request(app).get('/').set('Host', 'localhost:3000').expect(200);
    await request(app).get('/api/labs').set('Host', '127.0.0.1:3000').expect(200);
    await request(app).get('/api/labs').set('Host', '[::1]:3000').expect(200);
  });
});

describe('a progress database that stops taking writes while serving', () => {
  it('answers the check with its report and a 503 note that progress was not saved', async () => {
    const { withReadOnlyStore, expectGradedButNotSaved } = await import('./refuse-writes.js');
    await withReadOnlyStore(async (store) => {
      const app = createApp(fakeDeps({ store }));
      await expectGradedButNotSaved(app, RIGHT_POLICY);

      const page = await request(app)
        .post('/labs/np-fake/check')
        .type('form')
        .send({ manifests: RIGHT_POLICY });
      expect(page.status).toBe(503);
      expect(page.text).toContain('Passed');
      expect(page.text).toContain('not saved to your progress');

      // Other writes are environment problems too, never a 500.
      await request(app).post('/api/labs/np-fake/hints/next').expect(503);
    });
  });
});
