/**
 * Learner progress in SQLite: who tried which lab, how often, with how many hints, whether they
 * passed, and their last attempt (so a reload shows the same editor and result). One file per
 * installation; `:memory:` for tests.
 */
import Database from 'better-sqlite3';
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import type { GradeReport } from '../grader/report.js';
import { KubelabError, environmentError } from '../errors.js';
import { migrate } from './migrations.js';
import { ClassroomStore } from './classroom.js';
import { ExamStore } from './exams.js';

export const DEFAULT_DB_PATH = './.kubelab/kubelab.db';

export type LabStatus = 'not-started' | 'attempted' | 'passed';

export interface LabProgress {
  labId: string;
  status: LabStatus;
  attempts: number;
  passes: number;
  hintsUsed: number;
  solutionViewed: boolean;
  firstPassedAt?: string;
  lastCheckedAt?: string;
  /** The YAML of the last check (simulated mode), shown again in the editor. */
  lastManifests?: string;
  /** The report of the last check, shown again after a reload. */
  lastReport?: GradeReport;
}

export type ProgressEventKind = 'check' | 'hint' | 'solution' | 'reset';

export interface ProgressEvent {
  kind: ProgressEventKind;
  at: string;
  detail: string;
}

interface ProgressRow {
  lab_id: string;
  attempts: number;
  passes: number;
  hints_used: number;
  solution_viewed_at: string | null;
  first_passed_at: string | null;
  last_checked_at: string | null;
  last_manifests: string | null;
  last_report: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS learners (
  id TEXT PRIMARY KEY,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS progress (
  learner_id TEXT NOT NULL REFERENCES learners(id),
  lab_id TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  passes INTEGER NOT NULL DEFAULT 0,
  hints_used INTEGER NOT NULL DEFAULT 0,
  solution_viewed_at TEXT,
  first_passed_at TEXT,
  last_checked_at TEXT,
  last_manifests TEXT,
  last_report TEXT,
  PRIMARY KEY (learner_id, lab_id)
);
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  learner_id TEXT NOT NULL REFERENCES learners(id),
  lab_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  at TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS events_by_learner_lab ON events (learner_id, lab_id, id);
CREATE TABLE IF NOT EXISTS api_tokens (
  token TEXT PRIMARY KEY,
  learner_id TEXT NOT NULL REFERENCES learners(id),
  lab_id TEXT NOT NULL,
  created_at TEXT NOT NULL,
  UNIQUE (learner_id, lab_id)
);
CREATE TABLE IF NOT EXISTS sim_clusters (
  learner_id TEXT NOT NULL,
  lab_id TEXT NOT NULL,
  state BLOB NOT NULL,
  saved_at TEXT NOT NULL,
  PRIMARY KEY (learner_id, lab_id)
);
`;

const LEARNER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isLearnerId(s: string): boolean {
  return LEARNER_ID.test(s);
}

/**
 * A check's report as the store keeps it: the JSON text, and the few fields the store reads from
 * it. A grading worker serialises the report once and sends this, so the HTTP thread neither
 * copies the report object across threads nor stringifies it again to store and send it.
 */
export interface ReportRecord {
  /** JSON.stringify(report), exactly as it is stored and answered. */
  json: string;
  passed: boolean;
  status: GradeReport['status'];
  /** Ids of the checks that failed, for the instructor's "checks that fail most". */
  failedChecks: string[];
}

function isReportRecord(r: GradeReport | ReportRecord): r is ReportRecord {
  return typeof (r as Partial<ReportRecord>).json === 'string';
}

export function reportRecord(report: GradeReport): ReportRecord {
  return {
    json: JSON.stringify(report),
    passed: report.passed,
    status: report.status,
    failedChecks: report.checks.filter((c) => c.status === 'fail').map((c) => c.id),
  };
}

export class ProgressStore {
  private readonly db: Database.Database;
  /**
   * Statements by their SQL, prepared on first use and then reused: preparing costs more than
   * running these small statements (it was most of the store's time per check). The SQL texts are
   * constants of this file, so the map stays small.
   */
  private readonly statements = new Map<string, Database.Statement>();
  /** One transaction wrapper for every write (better-sqlite3 builds one per call otherwise). */
  private readonly inTransaction: <T>(fn: () => T) => T;

  private constructor(db: Database.Database) {
    this.db = db;
    const run = db.transaction((fn: () => unknown) => fn());
    this.inTransaction = <T>(fn: () => T) => run(fn) as T;
  }

  private sql(text: string): Database.Statement {
    let s = this.statements.get(text);
    if (!s) {
      s = this.db.prepare(text);
      this.statements.set(text, s);
    }
    return s;
  }

  /**
   * Opens (and creates, with its folder) the database file; `:memory:` keeps everything in RAM.
   * The file holds the secret that signs learner cookies, so only its owner may read it (folder
   * 0700, file 0600): anyone who reads it could sign a cookie for any learner.
   */
  static open(path: string = DEFAULT_DB_PATH): ProgressStore {
    let db: Database.Database | undefined;
    try {
      if (path !== ':memory:') {
        const file = resolve(path);
        const dir = dirname(file);
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        // kubelab's own folder is tightened even when an older version created it 0755.
        if (basename(dir) === '.kubelab') chmodSync(dir, 0o700);
        // Created 0600 before SQLite opens it; its -wal and -shm files copy the mode.
        closeSync(openSync(file, 'a', 0o600));
        chmodSync(file, 0o600);
      }
      db = new Database(path);
      // A file that is not a database, or a folder that refuses writes, fails here, not at open.
      if (path !== ':memory:') db.pragma('journal_mode = WAL');
      db.pragma('foreign_keys = ON');
      db.exec(SCHEMA);
      migrate(db);
      const store = new ProgressStore(db);
      // Also proves the file takes writes: a read-only database is refused here, not on the first check.
      store.cookieSecret();
      return store;
    } catch (e) {
      db?.close();
      throw environmentError(
        `cannot open the progress database ${path}: ${e instanceof Error ? e.message : String(e)}`,
        'Pass a writable path with --db, or remove the broken file.',
        e,
      );
    }
  }

  close(): void {
    this.db.close();
  }

  private classroomStore: ClassroomStore | undefined;
  private examStore: ExamStore | undefined;

  /** Display names, classes and the instructor's queries. */
  get classroom(): ClassroomStore {
    return (this.classroomStore ??= new ClassroomStore(this.db));
  }

  /** Exam attempts. */
  get exams(): ExamStore {
    return (this.examStore ??= new ExamStore(this.db));
  }

  /**
   * The secret that signs learner cookies. Kept in the database so cookies stay valid across
   * restarts, and created on first use so nobody has to configure one for a local install.
   */
  cookieSecret(): string {
    const row = this.sql('SELECT value FROM settings WHERE key = ?').get('cookie-secret') as
      { value: string } | undefined;
    if (row) return row.value;
    const secret = randomBytes(32).toString('hex');
    this.sql('INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)').run('cookie-secret', secret);
    return (this.sql('SELECT value FROM settings WHERE key = ?').get('cookie-secret') as { value: string })
      .value;
  }

  /** The learner the command line acts as on this machine (made on first use, then kept). */
  cliLearnerId(make: () => string): string {
    const row = this.sql('SELECT value FROM settings WHERE key = ?').get('cli-learner') as
      { value: string } | undefined;
    if (row) return row.value;
    this.sql('INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)').run('cli-learner', make());
    return (this.sql('SELECT value FROM settings WHERE key = ?').get('cli-learner') as { value: string })
      .value;
  }

  /** Learners who have done anything (a visit alone records nothing). */
  learnerCount(): number {
    return (this.sql('SELECT COUNT(*) AS n FROM learners').get() as { n: number }).n;
  }

  progress(learnerId: string, labId: string): LabProgress {
    const row = this.sql('SELECT * FROM progress WHERE learner_id = ? AND lab_id = ?').get(
      learnerId,
      labId,
    ) as ProgressRow | undefined;
    return row ? fromRow(row) : emptyProgress(labId);
  }

  /**
   * Progress of every lab the learner touched, by lab id. `lastAttempt: false` leaves out the last
   * editor text and report (a catalogue shows neither, and each report would be parsed).
   */
  allProgress(learnerId: string, opts: { lastAttempt?: boolean } = {}): Map<string, LabProgress> {
    const rows = (
      opts.lastAttempt === false
        ? this.sql(
            `SELECT lab_id, attempts, passes, hints_used, solution_viewed_at, first_passed_at, last_checked_at,
               NULL AS last_manifests, NULL AS last_report FROM progress WHERE learner_id = ?`,
          )
        : this.sql('SELECT * FROM progress WHERE learner_id = ?')
    ).all(learnerId) as ProgressRow[];
    return new Map(rows.map((r) => [r.lab_id, fromRow(r)]));
  }

  /** `report` may come serialised already (a grading worker's ReportRecord). */
  recordCheck(
    learnerId: string,
    labId: string,
    at: Date,
    attempt: { manifests?: string; report: GradeReport | ReportRecord },
  ): void {
    const when = at.toISOString();
    const record = isReportRecord(attempt.report) ? attempt.report : reportRecord(attempt.report);
    const passed = record.passed ? 1 : 0;
    this.write(() => {
      this.ensureRow(learnerId, labId, at);
      this.sql(
        `UPDATE progress SET attempts = attempts + 1, passes = passes + ?,
             first_passed_at = CASE WHEN ? = 1 AND first_passed_at IS NULL THEN ? ELSE first_passed_at END,
             last_checked_at = ?, last_manifests = ?, last_report = ?
           WHERE learner_id = ? AND lab_id = ?`,
      ).run(passed, passed, when, when, attempt.manifests ?? null, record.json, learnerId, labId);
      const eventId = this.addEvent(learnerId, labId, 'check', when, record.status);
      // Which checks failed, for the instructor's "checks that fail most".
      const failed = this.sql(
        'INSERT INTO check_failures (event_id, learner_id, lab_id, check_id) VALUES (?, ?, ?, ?)',
      );
      for (const id of record.failedChecks) failed.run(eventId, learnerId, labId, id);
    });
  }

  /** Reveals one more hint (never more than `total`); returns how many are revealed now. */
  revealHint(learnerId: string, labId: string, total: number, at: Date): number {
    return this.write(() => {
      this.ensureRow(learnerId, labId, at);
      const before = this.progress(learnerId, labId).hintsUsed;
      if (before >= total) return before;
      this.sql('UPDATE progress SET hints_used = ? WHERE learner_id = ? AND lab_id = ?').run(
        before + 1,
        learnerId,
        labId,
      );
      this.addEvent(learnerId, labId, 'hint', at.toISOString(), String(before + 1));
      return before + 1;
    });
  }

  recordSolutionViewed(learnerId: string, labId: string, at: Date): void {
    this.write(() => {
      this.ensureRow(learnerId, labId, at);
      this.sql(
        'UPDATE progress SET solution_viewed_at = COALESCE(solution_viewed_at, ?) WHERE learner_id = ? AND lab_id = ?',
      ).run(at.toISOString(), learnerId, labId);
      this.addEvent(learnerId, labId, 'solution', at.toISOString(), '');
    });
  }

  /** Forgets the last attempt (editor and result); history (attempts, passes, hints) is kept. */
  recordReset(learnerId: string, labId: string, at: Date): void {
    this.write(() => {
      this.ensureRow(learnerId, labId, at);
      this.sql(
        'UPDATE progress SET last_manifests = NULL, last_report = NULL WHERE learner_id = ? AND lab_id = ?',
      ).run(learnerId, labId);
      this.addEvent(learnerId, labId, 'reset', at.toISOString(), '');
    });
  }

  /**
   * The token that opens this learner's simulated cluster of this lab to kubectl (created on first
   * use, then the same one every time, so a downloaded kubeconfig keeps working across restarts).
   */
  apiToken(learnerId: string, labId: string, at: Date): string {
    return this.inTransaction(() => {
      const found = this.sql('SELECT token FROM api_tokens WHERE learner_id = ? AND lab_id = ?').get(
        learnerId,
        labId,
      ) as { token: string } | undefined;
      if (found) return found.token;
      this.ensureRow(learnerId, labId, at);
      const token = randomBytes(24).toString('base64url');
      this.sql('INSERT INTO api_tokens (token, learner_id, lab_id, created_at) VALUES (?, ?, ?, ?)').run(
        token,
        learnerId,
        labId,
        at.toISOString(),
      );
      return token;
    });
  }

  /** Whose cluster a token opens (undefined for a token this server never issued). */
  apiTokenOwner(token: string): { learnerId: string; labId: string } | undefined {
    const row = this.sql('SELECT learner_id, lab_id FROM api_tokens WHERE token = ?').get(token) as
      { learner_id: string; lab_id: string } | undefined;
    return row ? { learnerId: row.learner_id, labId: row.lab_id } : undefined;
  }

  /**
   * The learner who did something most recently, and in which lab (at a local install, the one
   * person at the browser): a check, hint, solution or reset, or a kubeconfig downloaded.
   */
  latestActivity(): { learnerId: string; labId: string } | undefined {
    const row = this.sql(
      `SELECT learner_id, lab_id FROM (
           SELECT learner_id, lab_id, at FROM events
           UNION ALL SELECT learner_id, lab_id, created_at AS at FROM api_tokens
         ) ORDER BY at DESC LIMIT 1`,
    ).get() as { learner_id: string; lab_id: string } | undefined;
    return row ? { learnerId: row.learner_id, labId: row.lab_id } : undefined;
  }

  /** A learner's simulated cluster as last saved (opaque bytes of server/cluster/sim). */
  loadSimCluster(learnerId: string, labId: string): Uint8Array | undefined {
    const row = this.sql('SELECT state FROM sim_clusters WHERE learner_id = ? AND lab_id = ?').get(
      learnerId,
      labId,
    ) as { state: Buffer } | undefined;
    return row?.state;
  }

  saveSimCluster(learnerId: string, labId: string, state: Uint8Array, at: Date): void {
    this.sql(
      `INSERT INTO sim_clusters (learner_id, lab_id, state, saved_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (learner_id, lab_id) DO UPDATE SET state = excluded.state, saved_at = excluded.saved_at`,
    ).run(learnerId, labId, Buffer.from(state.buffer, state.byteOffset, state.byteLength), at.toISOString());
  }

  dropSimCluster(learnerId: string, labId: string): void {
    this.sql('DELETE FROM sim_clusters WHERE learner_id = ? AND lab_id = ?').run(learnerId, labId);
  }

  events(learnerId: string, labId: string): ProgressEvent[] {
    return this.sql(
      'SELECT kind, at, detail FROM events WHERE learner_id = ? AND lab_id = ? ORDER BY id',
    ).all(learnerId, labId) as ProgressEvent[];
  }

  /**
   * One transaction; a database that stops taking writes while serving (disk full or read-only, a
   * file replaced under us) is an environment problem the caller can report, not a crash.
   */
  private write<T>(fn: () => T): T {
    try {
      return this.inTransaction(fn);
    } catch (e) {
      throw new ProgressNotSavedError(e);
    }
  }

  private ensureRow(learnerId: string, labId: string, now: Date): void {
    this.sql('INSERT OR IGNORE INTO learners (id, created_at) VALUES (?, ?)').run(
      learnerId,
      now.toISOString(),
    );
    this.sql('INSERT OR IGNORE INTO progress (learner_id, lab_id) VALUES (?, ?)').run(learnerId, labId);
  }

  private addEvent(
    learnerId: string,
    labId: string,
    kind: ProgressEventKind,
    at: string,
    detail: string,
  ): number {
    return Number(
      this.sql('INSERT INTO events (learner_id, lab_id, kind, at, detail) VALUES (?, ?, ?, ?, ?)').run(
        learnerId,
        labId,
        kind,
        at,
        detail,
      ).lastInsertRowid,
    );
  }
}

export class ProgressNotSavedError extends KubelabError {
  constructor(cause: unknown) {
    super(
      'ENVIRONMENT',
      `your progress could not be saved: ${cause instanceof Error ? cause.message : String(cause)}`,
      {
        hint: 'The progress database refuses writes (is the disk full or read-only?). Tell whoever runs kubelab.',
        cause,
      },
    );
  }
}

export function isProgressNotSaved(e: unknown): e is ProgressNotSavedError {
  return e instanceof ProgressNotSavedError;
}

export function newLearnerId(): string {
  return randomUUID();
}

export function emptyProgress(labId: string): LabProgress {
  return { labId, status: 'not-started', attempts: 0, passes: 0, hintsUsed: 0, solutionViewed: false };
}

function fromRow(row: ProgressRow): LabProgress {
  const status: LabStatus = row.passes > 0 ? 'passed' : row.attempts > 0 ? 'attempted' : 'not-started';
  const p: LabProgress = {
    labId: row.lab_id,
    status,
    attempts: row.attempts,
    passes: row.passes,
    hintsUsed: row.hints_used,
    solutionViewed: row.solution_viewed_at !== null,
  };
  if (row.first_passed_at) p.firstPassedAt = row.first_passed_at;
  if (row.last_checked_at) p.lastCheckedAt = row.last_checked_at;
  if (row.last_manifests !== null) p.lastManifests = row.last_manifests;
  if (row.last_report !== null) {
    const report = parseStoredReport(row.last_report);
    if (report) p.lastReport = report;
  }
  return p;
}

/** A stored report from an older version may not parse; then it is simply not shown again. */
function parseStoredReport(text: string): GradeReport | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v === 'object' && v !== null && 'passed' in v && 'checks' in v && Array.isArray(v.checks)) {
      return v as GradeReport;
    }
  } catch {
    // fall through
  }
  return undefined;
}
