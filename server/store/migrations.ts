/**
 * Additive schema migrations of the progress database, numbered by SQLite's user_version. A
 * database made by an older kubelab (user_version 0, the original tables) gains columns and tables
 * here; nothing is dropped or rewritten, so an older kubelab can still open the file.
 */
import type Database from 'better-sqlite3';

const MIGRATIONS: string[] = [
  // 1: display names and classes, exam attempts, the checks each check failed.
  `
  ALTER TABLE learners ADD COLUMN display_name TEXT;
  ALTER TABLE learners ADD COLUMN class_code TEXT;
  CREATE TABLE IF NOT EXISTS classes (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS check_failures (
    event_id INTEGER NOT NULL,
    learner_id TEXT NOT NULL,
    lab_id TEXT NOT NULL,
    check_id TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS check_failures_by_lab ON check_failures (lab_id, check_id);
  CREATE TABLE IF NOT EXISTS exam_attempts (
    id TEXT PRIMARY KEY,
    learner_id TEXT NOT NULL REFERENCES learners(id),
    exam_id TEXT NOT NULL,
    mode TEXT NOT NULL,
    started_at TEXT NOT NULL,
    deadline_at TEXT NOT NULL,
    finished_at TEXT,
    finished_how TEXT,
    score TEXT
  );
  CREATE INDEX IF NOT EXISTS exam_attempts_by_learner ON exam_attempts (learner_id, exam_id, started_at);
  CREATE TABLE IF NOT EXISTS exam_tasks (
    attempt_id TEXT NOT NULL REFERENCES exam_attempts(id),
    lab_id TEXT NOT NULL,
    flagged INTEGER NOT NULL DEFAULT 0,
    checks INTEGER NOT NULL DEFAULT 0,
    manifests TEXT,
    last_check TEXT,
    PRIMARY KEY (attempt_id, lab_id)
  );
  CREATE TABLE IF NOT EXISTS exam_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    attempt_id TEXT NOT NULL,
    learner_id TEXT NOT NULL,
    exam_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    at TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
  );
  CREATE TABLE IF NOT EXISTS exam_sim_clusters (
    attempt_id TEXT PRIMARY KEY,
    state BLOB NOT NULL,
    saved_at TEXT NOT NULL
  );
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the database to SCHEMA_VERSION, one migration per transaction. */
export function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
