import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { GradeReport } from '../../server/grader/report.js';
import { KubelabError } from '../../server/errors.js';
import { ProgressStore, isProgressNotSaved, newLearnerId, reportRecord } from '../../server/store/index.js';
import { refuseWrites } from './refuse-writes.js';

const at = new Date('2025-02-03T04:05:06Z');

function report(passed: boolean): GradeReport {
  return {
    lab: 'np-backend',
    passed,
    status: passed ? 'passed' : 'failed',
    cluster: { mode: 'simulated', description: 'simulated cluster' },
    checks: [],
    summary: passed ? 'ok' : 'not ok',
    startedAt: at.toISOString(),
    durationMs: 5,
  };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('ProgressStore', () => {
  it('issues one kubectl token per learner and lab, and says whose a token is', () => {
    const store = ProgressStore.open(':memory:');
    const a = newLearnerId();
    const b = newLearnerId();
    const at = new Date('2026-01-01T00:00:00Z');
    const token = store.apiToken(a, 'np-backend', at);
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(store.apiToken(a, 'np-backend', at)).toBe(token);
    expect(store.apiToken(a, 'np-and-vs-or', at)).not.toBe(token);
    expect(store.apiToken(b, 'np-backend', at)).not.toBe(token);
    expect(store.apiTokenOwner(token)).toEqual({ learnerId: a, labId: 'np-backend' });
    expect(store.apiTokenOwner('made-up')).toBeUndefined();
    store.saveSimCluster(a, 'np-backend', new Uint8Array([1, 2, 3]), at);
    expect([...(store.loadSimCluster(a, 'np-backend') ?? [])]).toEqual([1, 2, 3]);
    expect(store.loadSimCluster(b, 'np-backend')).toBeUndefined();
    store.dropSimCluster(a, 'np-backend');
    expect(store.loadSimCluster(a, 'np-backend')).toBeUndefined();
    store.close();
  });

  it('starts every lab as not started', () => {
    const store = ProgressStore.open(':memory:');
    expect(store.progress(newLearnerId(), 'np-backend')).toEqual({
      labId: 'np-backend',
      status: 'not-started',
      attempts: 0,
      passes: 0,
      hintsUsed: 0,
      solutionViewed: false,
    });
  });

  it('counts attempts and passes, keeps the first pass time, and the last attempt', () => {
    const store = ProgressStore.open(':memory:');
    const me = newLearnerId();
    store.recordCheck(me, 'np-backend', at, { manifests: 'a', report: report(false) });
    expect(store.progress(me, 'np-backend').status).toBe('attempted');
    store.recordCheck(me, 'np-backend', at, { manifests: 'b', report: report(true) });
    const passed = store.progress(me, 'np-backend');
    expect(passed).toMatchObject({
      status: 'passed',
      attempts: 2,
      passes: 1,
      firstPassedAt: at.toISOString(),
      lastManifests: 'b',
    });
    const later = new Date(at.getTime() + 60_000);
    store.recordCheck(me, 'np-backend', later, { manifests: 'c', report: report(false) });
    const failedAgain = store.progress(me, 'np-backend');
    // Once passed, always passed; the first pass time does not move.
    expect(failedAgain).toMatchObject({
      status: 'passed',
      attempts: 3,
      passes: 1,
      firstPassedAt: at.toISOString(),
    });
    expect(failedAgain.lastReport?.passed).toBe(false);
    expect(store.events(me, 'np-backend').map((e) => e.kind)).toEqual(['check', 'check', 'check']);
  });

  it("records the same from a serialised report (a grading worker's) as from the report, check after check", () => {
    const failing = (id: string): GradeReport => ({
      ...report(false),
      checks: [
        { id: 'preflight', title: 'ready', kind: 'preflight', status: 'pass', messages: [], probes: [] },
        { id, title: 'the task', kind: 'policy', status: 'fail', messages: ['no'], probes: [] },
        { id: 'other', title: 'other', kind: 'dns', status: 'error', messages: ['?'], probes: [] },
      ],
    });
    const sequence = [failing('policy-exists'), failing('backend-dns'), report(true), failing('backend-dns')];
    const fromReports = ProgressStore.open(':memory:');
    const fromRecords = ProgressStore.open(':memory:');
    const learners = [newLearnerId(), newLearnerId(), newLearnerId()];
    // Every statement runs many times over, for several learners: reused statements keep recording.
    for (const learner of learners) {
      sequence.forEach((r, i) => {
        const when = new Date(at.getTime() + i * 1000);
        fromReports.recordCheck(learner, 'np-backend', when, { manifests: `try ${i}`, report: r });
        fromRecords.recordCheck(learner, 'np-backend', when, {
          manifests: `try ${i}`,
          report: reportRecord(r),
        });
      });
    }
    for (const learner of learners) {
      const p = fromRecords.progress(learner, 'np-backend');
      expect(p).toEqual(fromReports.progress(learner, 'np-backend'));
      expect(p).toMatchObject({
        status: 'passed',
        attempts: 4,
        passes: 1,
        firstPassedAt: new Date(at.getTime() + 2000).toISOString(),
        lastManifests: 'try 3',
      });
      expect(p.lastReport).toEqual(sequence[3]);
      expect(fromRecords.events(learner, 'np-backend')).toEqual(fromReports.events(learner, 'np-backend'));
      expect(fromRecords.events(learner, 'np-backend').map((e) => e.detail)).toEqual([
        'failed',
        'failed',
        'passed',
        'failed',
      ]);
    }
    // The instructor's "checks that fail most" counts only failed checks, from either form.
    const stats = fromRecords.classroom.labStats();
    expect(stats).toEqual(fromReports.classroom.labStats());
    expect(stats[0]?.failingChecks).toEqual([
      { checkId: 'backend-dns', failures: 6 },
      { checkId: 'policy-exists', failures: 3 },
    ]);
  });

  it("the catalogue's progress leaves out the last attempt, and only that", () => {
    const store = ProgressStore.open(':memory:');
    const me = newLearnerId();
    store.recordCheck(me, 'np-backend', at, { manifests: 'x', report: report(true) });
    store.revealHint(me, 'np-backend', 3, at);
    store.recordSolutionViewed(me, 'np-backend', at);
    const full = store.allProgress(me).get('np-backend')!;
    expect(full.lastReport?.passed).toBe(true);
    const { lastManifests, lastReport, ...rest } = full;
    expect(lastManifests).toBe('x');
    expect(lastReport).toBeDefined();
    expect(store.allProgress(me, { lastAttempt: false }).get('np-backend')).toEqual(rest);
  });

  it('keeps learners apart', () => {
    const store = ProgressStore.open(':memory:');
    const a = newLearnerId();
    const b = newLearnerId();
    store.recordCheck(a, 'np-backend', at, { report: report(true) });
    expect(store.progress(b, 'np-backend').status).toBe('not-started');
    expect(store.allProgress(a).get('np-backend')?.status).toBe('passed');
    expect(store.allProgress(b).size).toBe(0);
    expect(store.learnerCount()).toBe(1);
  });

  it('reveals hints up to the total and records each one', () => {
    const store = ProgressStore.open(':memory:');
    const me = newLearnerId();
    expect(store.revealHint(me, 'lab', 2, at)).toBe(1);
    expect(store.revealHint(me, 'lab', 2, at)).toBe(2);
    expect(store.revealHint(me, 'lab', 2, at)).toBe(2);
    expect(store.events(me, 'lab').map((e) => [e.kind, e.detail])).toEqual([
      ['hint', '1'],
      ['hint', '2'],
    ]);
  });

  it('records the solution and a reset (which forgets the last attempt only)', () => {
    const store = ProgressStore.open(':memory:');
    const me = newLearnerId();
    store.recordCheck(me, 'lab', at, { manifests: 'x', report: report(true) });
    store.recordSolutionViewed(me, 'lab', at);
    store.recordReset(me, 'lab', at);
    const p = store.progress(me, 'lab');
    expect(p).toMatchObject({ status: 'passed', attempts: 1, solutionViewed: true });
    expect(p.lastManifests).toBeUndefined();
    expect(p.lastReport).toBeUndefined();
  });

  it('keeps progress and the cookie secret across a restart (reopening the file)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubelab-store-'));
    dirs.push(dir);
    const file = join(dir, 'nested', 'kubelab.db');
    const me = newLearnerId();
    const first = ProgressStore.open(file);
    const secret = first.cookieSecret();
    first.recordCheck(me, 'np-backend', at, { manifests: 'kind: NetworkPolicy', report: report(true) });
    first.revealHint(me, 'np-backend', 3, at);
    first.close();

    const again = ProgressStore.open(file);
    expect(again.cookieSecret()).toBe(secret);
    expect(again.progress(me, 'np-backend')).toMatchObject({
      status: 'passed',
      attempts: 1,
      hintsUsed: 1,
      lastManifests: 'kind: NetworkPolicy',
    });
    expect(again.progress(me, 'np-backend').lastReport?.summary).toBe('ok');
    again.close();
  });

  it('a database that cannot be opened is an environment error that names the path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubelab-store-'));
    dirs.push(dir);
    // A directory where the file should be.
    expect(() => ProgressStore.open(dir)).toThrow(/cannot open the progress database/);
  });
});

describe('ProgressStore on disk', () => {
  function tempDir(): string {
    const d = mkdtempSync(join(tmpdir(), 'kubelab-store-'));
    dirs.push(d);
    return d;
  }

  it('keeps the cookie secret to its owner: folder 0700, database 0600, also for an older 0755 folder', () => {
    const root = tempDir();
    const fresh = join(root, '.kubelab', 'kubelab.db');
    ProgressStore.open(fresh).close();
    expect(statSync(join(root, '.kubelab')).mode & 0o777).toBe(0o700);
    expect(statSync(fresh).mode & 0o777).toBe(0o600);

    const old = join(root, 'old', '.kubelab');
    mkdirSync(old, { recursive: true, mode: 0o755 });
    chmodSync(old, 0o755);
    writeFileSync(join(old, 'kubelab.db'), '');
    chmodSync(join(old, 'kubelab.db'), 0o644);
    ProgressStore.open(join(old, 'kubelab.db')).close();
    expect(statSync(old).mode & 0o777).toBe(0o700);
    expect(statSync(join(old, 'kubelab.db')).mode & 0o777).toBe(0o600);
  });

  it('a corrupt file is an environment error that says what to do', () => {
    const file = join(tempDir(), 'kubelab.db');
    writeFileSync(file, 'not a database '.repeat(40));
    let caught: unknown;
    try {
      ProgressStore.open(file);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(KubelabError);
    expect((caught as KubelabError).code).toBe('ENVIRONMENT');
    expect((caught as KubelabError).hint).toContain('Pass a writable path with --db');
  });

  it('a database that stops taking writes raises "progress not saved", an environment error', () => {
    const file = join(tempDir(), 'kubelab.db');
    const store = ProgressStore.open(file);
    refuseWrites(file);
    let caught: unknown;
    try {
      store.recordCheck(newLearnerId(), 'np-backend', at, { report: report(true) });
    } catch (e) {
      caught = e;
    }
    expect(isProgressNotSaved(caught)).toBe(true);
    expect((caught as KubelabError).code).toBe('ENVIRONMENT');
    expect((caught as KubelabError).message).toContain('your progress could not be saved');
    store.close();
  });

  it('statements prepared before the database stopped taking writes fail the same, and roll back', () => {
    const file = join(tempDir(), 'kubelab.db');
    const store = ProgressStore.open(file);
    const me = newLearnerId();
    store.recordCheck(me, 'np-backend', at, { manifests: 'first', report: report(false) });
    refuseWrites(file);
    let caught: unknown;
    try {
      store.recordCheck(me, 'np-backend', at, { manifests: 'second', report: report(true) });
    } catch (e) {
      caught = e;
    }
    expect(isProgressNotSaved(caught)).toBe(true);
    // Nothing of the refused check was kept (one transaction), and the store still reads.
    expect(store.progress(me, 'np-backend')).toMatchObject({
      attempts: 1,
      passes: 0,
      lastManifests: 'first',
    });
    expect(store.events(me, 'np-backend')).toHaveLength(1);
    store.close();
  });
});
