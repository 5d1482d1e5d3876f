/**
 * Check through a checker that reads and grades in one round trip (checkText, as the grading
 * worker pool does): the JSON API answers the worker's JSON text as res.json() would have answered
 * the report, progress records it, and the editor's starter still grades the live cluster.
 */
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { GradeReport } from '../../server/grader/report.js';
import { ProgressStore, reportRecord } from '../../server/store/index.js';
import { createApp } from '../../server/web/app.js';
import type { Checker } from '../../server/web/deps.js';
import { starterManifest } from '../../server/web/editor.js';
import { parseLearnerManifests } from '../../server/web/manifests.js';
import { FakeChecker, RIGHT_POLICY, WRONG_POLICY, fakeDeps, fakeLab } from './fakes.js';
import { expectGradedButNotSaved, withReadOnlyStore } from './refuse-writes.js';

/** A checker with checkText only (no parse), over the fake grading; it notes what it was asked. */
function oneTripChecker(fake: FakeChecker) {
  const calls: Array<{ learnerId: string; apply: boolean }> = [];
  const checker: Checker = {
    check: (req) => fake.check(req),
    matrix: (req) => fake.matrix(req),
    reset: (req) => fake.reset(req),
    async checkText({ lab, learnerId, text, limits, apply }) {
      calls.push({ learnerId, apply });
      const objects = parseLearnerManifests(text, lab, limits);
      return reportRecord(await fake.check({ lab, learnerId, ...(apply ? { manifests: objects } : {}) }));
    },
  };
  return { checker, calls };
}

function setup(store = ProgressStore.open(':memory:')) {
  const deps = fakeDeps({ store });
  const { checker, calls } = oneTripChecker(deps.checker);
  const app = createApp({ ...deps, cluster: { ...deps.cluster, checker } });
  return { app, calls, agent: request.agent(app) };
}

describe('Check in one round trip to the grader', () => {
  it('answers the JSON text as the report itself, with the same headers, and records it', async () => {
    const { agent, calls } = setup();
    const res = await agent.post('/api/labs/np-fake/check').send({ manifests: RIGHT_POLICY }).expect(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['etag']).toMatch(/^W\/"/);
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    const report = res.body as GradeReport;
    expect(report.passed).toBe(true);
    // Byte for byte what res.json(report) sends.
    expect(res.text).toBe(JSON.stringify(report));
    expect(calls).toEqual([{ learnerId: expect.any(String), apply: true }]);
    const lab = await agent.get('/api/labs/np-fake').expect(200);
    expect(lab.body.lastReport).toEqual(report);
    expect(lab.body.progress).toMatchObject({ status: 'passed', attempts: 1 });
    await agent.post('/api/labs/np-fake/check').send({ manifests: WRONG_POLICY }).expect(200);
    const again = await agent.get('/api/labs').expect(200);
    expect(again.body.labs[0].progress).toMatchObject({ status: 'passed', attempts: 2 });
  });

  it('grades the live cluster, without applying it, while the editor still holds its starter', async () => {
    const { app, calls } = setup();
    const starter = starterManifest(fakeLab());
    const [a, b] = [request.agent(app), request.agent(app)];
    await a.post('/api/labs/np-fake/check').send({ manifests: starter }).expect(200);
    // CRLF line endings and blank space around it are the starter still.
    const crlf = `\n${starter.replace(/\n/g, '\r\n')}  `;
    await b.post('/api/labs/np-fake/check').send({ manifests: crlf }).expect(200);
    expect(calls.map((c) => c.apply)).toEqual([false, false]);
    // Once a check recorded the editor's text, the starter is the learner's text like any other.
    await a.post('/api/labs/np-fake/check').send({ manifests: starter }).expect(200);
    await b.post('/api/labs/np-fake/check').send({ manifests: WRONG_POLICY }).expect(200);
    expect(calls.map((c) => c.apply)).toEqual([false, false, true, true]);
  });

  it('refuses bad YAML with the line, and records nothing', async () => {
    const { agent } = setup();
    const res = await agent
      .post('/api/labs/np-fake/check')
      .send({ manifests: 'kind: NetworkPolicy\nmetadata: [\n' })
      .expect(400);
    expect(res.body.error.code).toBe('BAD_INPUT');
    expect(res.body.error.problems[0]).toMatchObject({ file: 'your manifests', line: 3 });
    const lab = await agent.get('/api/labs/np-fake').expect(200);
    expect(lab.body.progress.attempts).toBe(0);
  });

  it('a database that refuses the write still answers the grade, with a 503 note', async () => {
    await withReadOnlyStore(async (store) => {
      const { app } = setup(store);
      await expectGradedButNotSaved(app, RIGHT_POLICY);
    });
  });
});
