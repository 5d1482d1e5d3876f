/**
 * Exam attempts in the progress database. The deadline is stored when the attempt starts, so the
 * clock survives reloads and server restarts; an attempt is finished exactly once (the first
 * submit, or the deadline), and its score never changes after that.
 */
import type Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';

export type ExamMode = 'simulated' | 'kube';

export interface ExamAttempt {
  id: string;
  learnerId: string;
  examId: string;
  mode: ExamMode;
  startedAt: string;
  deadlineAt: string;
  finishedAt?: string;
  /** `submitted` by the learner, or `time-up` when the deadline passed first. */
  finishedHow?: 'submitted' | 'time-up';
  /** The ExamScore as JSON (opaque here). */
  score?: unknown;
}

export interface ExamTaskState {
  labId: string;
  flagged: boolean;
  checks: number;
  manifests?: string;
  /** The last per-task check while the clock ran (opaque JSON). */
  lastCheck?: unknown;
}

interface AttemptRow {
  id: string;
  learner_id: string;
  exam_id: string;
  mode: string;
  started_at: string;
  deadline_at: string;
  finished_at: string | null;
  finished_how: string | null;
  score: string | null;
}

function attemptOf(r: AttemptRow): ExamAttempt {
  return {
    id: r.id,
    learnerId: r.learner_id,
    examId: r.exam_id,
    mode: r.mode === 'kube' ? 'kube' : 'simulated',
    startedAt: r.started_at,
    deadlineAt: r.deadline_at,
    ...(r.finished_at ? { finishedAt: r.finished_at } : {}),
    ...(r.finished_how === 'submitted' || r.finished_how === 'time-up'
      ? { finishedHow: r.finished_how }
      : {}),
    ...(r.score ? { score: safeJson(r.score) } : {}),
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Attempt ids go into URLs; 16 random bytes cannot be guessed. */
const ATTEMPT_ID = /^[A-Za-z0-9_-]{22}$/;

export function isAttemptId(s: string): boolean {
  return ATTEMPT_ID.test(s);
}

export class ExamStore {
  constructor(private readonly db: Database.Database) {}

  start(a: {
    learnerId: string;
    examId: string;
    mode: ExamMode;
    labs: string[];
    at: Date;
    minutes: number;
  }): ExamAttempt {
    const id = randomBytes(16).toString('base64url');
    const deadline = new Date(a.at.getTime() + a.minutes * 60_000);
    this.db.transaction(() => {
      this.db
        .prepare('INSERT OR IGNORE INTO learners (id, created_at) VALUES (?, ?)')
        .run(a.learnerId, a.at.toISOString());
      this.db
        .prepare(
          'INSERT INTO exam_attempts (id, learner_id, exam_id, mode, started_at, deadline_at) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(id, a.learnerId, a.examId, a.mode, a.at.toISOString(), deadline.toISOString());
      const task = this.db.prepare('INSERT INTO exam_tasks (attempt_id, lab_id) VALUES (?, ?)');
      for (const lab of a.labs) task.run(id, lab);
      this.event(id, a.learnerId, a.examId, 'start', a.at, `${a.minutes} min, ${a.mode}`);
    })();
    return this.get(id)!;
  }

  get(id: string): ExamAttempt | undefined {
    const r = this.db.prepare('SELECT * FROM exam_attempts WHERE id = ?').get(id) as AttemptRow | undefined;
    return r ? attemptOf(r) : undefined;
  }

  /** The learner's attempts, newest first (of one exam, or of all). */
  attempts(learnerId: string, examId?: string): ExamAttempt[] {
    const rows = (
      examId === undefined
        ? this.db
            .prepare('SELECT * FROM exam_attempts WHERE learner_id = ? ORDER BY started_at DESC, rowid DESC')
            .all(learnerId)
        : this.db
            .prepare(
              'SELECT * FROM exam_attempts WHERE learner_id = ? AND exam_id = ? ORDER BY started_at DESC, rowid DESC',
            )
            .all(learnerId, examId)
    ) as AttemptRow[];
    return rows.map(attemptOf);
  }

  /** Attempts whose clock ran out without a score (to finish after a restart). */
  unfinished(): ExamAttempt[] {
    return (
      this.db.prepare('SELECT * FROM exam_attempts WHERE finished_at IS NULL').all() as AttemptRow[]
    ).map(attemptOf);
  }

  tasks(attemptId: string): ExamTaskState[] {
    const rows = this.db
      .prepare(
        'SELECT lab_id, flagged, checks, manifests, last_check FROM exam_tasks WHERE attempt_id = ? ORDER BY rowid',
      )
      .all(attemptId) as Array<{
      lab_id: string;
      flagged: number;
      checks: number;
      manifests: string | null;
      last_check: string | null;
    }>;
    return rows.map((r) => ({
      labId: r.lab_id,
      flagged: r.flagged === 1,
      checks: r.checks,
      ...(r.manifests !== null ? { manifests: r.manifests } : {}),
      ...(r.last_check !== null ? { lastCheck: safeJson(r.last_check) } : {}),
    }));
  }

  setFlag(attemptId: string, labId: string, flagged: boolean): void {
    this.db
      .prepare('UPDATE exam_tasks SET flagged = ? WHERE attempt_id = ? AND lab_id = ?')
      .run(flagged ? 1 : 0, attemptId, labId);
  }

  setManifests(attemptId: string, labId: string, text: string): void {
    this.db
      .prepare('UPDATE exam_tasks SET manifests = ? WHERE attempt_id = ? AND lab_id = ?')
      .run(text, attemptId, labId);
  }

  recordTaskCheck(attempt: ExamAttempt, labId: string, at: Date, result: unknown, detail: string): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          'UPDATE exam_tasks SET checks = checks + 1, last_check = ? WHERE attempt_id = ? AND lab_id = ?',
        )
        .run(JSON.stringify(result), attempt.id, labId);
      this.event(attempt.id, attempt.learnerId, attempt.examId, 'check', at, `${labId}: ${detail}`);
    })();
  }

  /**
   * Records the score unless the attempt already has one; true when this call finished it. The
   * first finish wins, so a submit racing the deadline cannot change a score.
   */
  finish(
    attempt: ExamAttempt,
    at: Date,
    how: 'submitted' | 'time-up',
    score: { earned: number; totalPoints: number; passed: boolean },
  ): boolean {
    return this.db.transaction(() => {
      const changed = this.db
        .prepare(
          'UPDATE exam_attempts SET finished_at = ?, finished_how = ?, score = ? WHERE id = ? AND finished_at IS NULL',
        )
        .run(at.toISOString(), how, JSON.stringify(score), attempt.id).changes;
      if (changed === 1)
        this.event(
          attempt.id,
          attempt.learnerId,
          attempt.examId,
          how === 'submitted' ? 'submit' : 'time-up',
          at,
          `${score.earned}/${score.totalPoints}${score.passed ? ' passed' : ''}`,
        );
      return changed === 1;
    })();
  }

  loadCluster(attemptId: string): Uint8Array | undefined {
    const r = this.db.prepare('SELECT state FROM exam_sim_clusters WHERE attempt_id = ?').get(attemptId) as
      { state: Buffer } | undefined;
    return r?.state;
  }

  saveCluster(attemptId: string, state: Uint8Array, at: Date): void {
    this.db
      .prepare(
        `INSERT INTO exam_sim_clusters (attempt_id, state, saved_at) VALUES (?, ?, ?)
         ON CONFLICT (attempt_id) DO UPDATE SET state = excluded.state, saved_at = excluded.saved_at`,
      )
      .run(attemptId, Buffer.from(state.buffer, state.byteOffset, state.byteLength), at.toISOString());
  }

  dropCluster(attemptId: string): void {
    this.db.prepare('DELETE FROM exam_sim_clusters WHERE attempt_id = ?').run(attemptId);
  }

  private event(
    attemptId: string,
    learnerId: string,
    examId: string,
    kind: string,
    at: Date,
    detail: string,
  ): void {
    this.db
      .prepare(
        'INSERT INTO exam_events (attempt_id, learner_id, exam_id, kind, at, detail) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(attemptId, learnerId, examId, kind, at.toISOString(), detail);
  }
}
