/**
 * The progress database of the previous kubelab (user_version 0, the original tables, with data)
 * opened by this one: the migration only adds, the old data stays, the new tables work.
 */
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProgressStore } from '../../server/store/index.js';
import { SCHEMA_VERSION } from '../../server/store/migrations.js';

/** The schema as kubelab created it before migrations existed (server/store/index.ts at that time). */
const PREVIOUS_SCHEMA = `
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE learners (id TEXT PRIMARY KEY, created_at TEXT NOT NULL);
CREATE TABLE progress (
  learner_id TEXT NOT NULL REFERENCES learners(id), lab_id TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, passes INTEGER NOT NULL DEFAULT 0, hints_used INTEGER NOT NULL DEFAULT 0,
  solution_viewed_at TEXT, first_passed_at TEXT, last_checked_at TEXT, last_manifests TEXT, last_report TEXT,
  PRIMARY KEY (learner_id, lab_id));
CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, learner_id TEXT NOT NULL REFERENCES learners(id),
  lab_id TEXT NOT NULL, kind TEXT NOT NULL, at TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '');
CREATE INDEX events_by_learner_lab ON events (learner_id, lab_id, id);
CREATE TABLE api_tokens (token TEXT PRIMARY KEY, learner_id TEXT NOT NULL REFERENCES learners(id), lab_id TEXT NOT NULL,
  created_at TEXT NOT NULL, UNIQUE (learner_id, lab_id));
CREATE TABLE sim_clusters (learner_id TEXT NOT NULL, lab_id TEXT NOT NULL, state BLOB NOT NULL, saved_at TEXT NOT NULL,
  PRIMARY KEY (learner_id, lab_id));
`;

const L = '11111111-2222-4333-8444-555555555555';

describe('progress database migrations', () => {
  it('upgrades a database of the previous schema in place, keeping its data', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kubelab-migrate-')), 'kubelab.db');
    const old = new Database(file);
    old.exec(PREVIOUS_SCHEMA);
    old.prepare('INSERT INTO settings VALUES (?, ?)').run('cookie-secret', 'kept-secret');
    old.prepare('INSERT INTO learners VALUES (?, ?)').run(L, '2025-01-01T00:00:00.000Z');
    old
      .prepare(
        'INSERT INTO progress (learner_id, lab_id, attempts, passes, hints_used) VALUES (?, ?, 3, 1, 2)',
      )
      .run(L, 'np-backend');
    old
      .prepare('INSERT INTO events (learner_id, lab_id, kind, at) VALUES (?, ?, ?, ?)')
      .run(L, 'np-backend', 'check', '2025-01-01T00:00:00.000Z');
    old
      .prepare('INSERT INTO events (learner_id, lab_id, kind, at) VALUES (?, ?, ?, ?)')
      .run(L, 'np-backend', 'check', '2025-01-01T00:10:00.000Z');
    expect(old.pragma('user_version', { simple: true })).toBe(0);
    old.close();

    const store = ProgressStore.open(file);
    expect(store.cookieSecret()).toBe('kept-secret');
    expect(store.progress(L, 'np-backend')).toMatchObject({
      attempts: 3,
      passes: 1,
      hintsUsed: 2,
      status: 'passed',
    });
    // The new parts work on the old data.
    const cls = store.classroom.createClass('Group A', new Date('2025-02-01T00:00:00Z'));
    expect(store.classroom.setProfile(L, { displayName: 'Ada', classCode: cls.code }, new Date())).toBe(true);
    expect(store.classroom.rows(cls.code)).toEqual([
      expect.objectContaining({
        learner: 'Ada',
        item: 'np-backend',
        attempts: 3,
        hintsUsed: 2,
        passed: true,
        timeSpentSec: 600,
      }),
    ]);
    const attempt = store.exams.start({
      learnerId: L,
      examId: 'cka-network',
      mode: 'simulated',
      labs: ['np-backend'],
      at: new Date('2025-02-01T00:00:00Z'),
      minutes: 60,
    });
    expect(attempt.deadlineAt).toBe('2025-02-01T01:00:00.000Z');
    store.close();

    // Opening again is a no-op: the version is current and nothing is added twice.
    const again = ProgressStore.open(file);
    expect(again.exams.get(attempt.id)?.examId).toBe('cka-network');
    again.close();
    const raw = new Database(file);
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const columns = (raw.prepare('PRAGMA table_info(learners)').all() as Array<{ name: string }>).map(
      (c) => c.name,
    );
    expect(columns).toEqual(['id', 'created_at', 'display_name', 'class_code']);
    raw.close();
  });

  it('finishes an exam attempt once: the first of submit and deadline wins', () => {
    const store = ProgressStore.open(':memory:');
    const a = store.exams.start({
      learnerId: L,
      examId: 'x',
      mode: 'simulated',
      labs: ['a'],
      at: new Date(0),
      minutes: 1,
    });
    expect(
      store.exams.finish(a, new Date(1000), 'submitted', { earned: 3, totalPoints: 5, passed: true }),
    ).toBe(true);
    expect(
      store.exams.finish(a, new Date(2000), 'time-up', { earned: 5, totalPoints: 5, passed: true }),
    ).toBe(false);
    expect(store.exams.get(a.id)).toMatchObject({ finishedHow: 'submitted', score: { earned: 3 } });
    store.close();
  });
});
