/**
 * Who the learners are (a display name they choose, the class they joined by its short code) and
 * what an instructor reads about them: per learner and lab or exam, per lab across a class, and a
 * learner's timeline. Reads only; the progress itself is written by ProgressStore and ExamStore.
 */
import type Database from 'better-sqlite3';
import { randomInt } from 'node:crypto';

export interface LearnerProfile {
  id: string;
  displayName?: string;
  classCode?: string;
  createdAt: string;
}

export interface ClassInfo {
  code: string;
  name: string;
  createdAt: string;
}

export interface DashboardRow {
  learnerId: string;
  learner: string;
  classCode: string;
  kind: 'lab' | 'exam';
  item: string;
  attempts: number;
  hintsUsed: number;
  solutionViewed: boolean;
  passed: boolean;
  timeSpentSec: number;
  lastAt: string;
  /** The last report in one line (a lab's summary, an exam's score). */
  lastResult: string;
}

export interface LabStats {
  labId: string;
  learners: number;
  passed: number;
  passRate: number;
  medianAttempts: number;
  /** The checks that failed most often, most first. */
  failingChecks: Array<{ checkId: string; failures: number }>;
}

export interface TimelineEntry {
  at: string;
  item: string;
  kind: string;
  detail: string;
}

/** A gap longer than this between two actions is a break, not work. */
export const IDLE_CAP_MS = 15 * 60_000;

/** Class codes avoid letters and digits that read alike (0/O, 1/I/L). */
const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
export const CLASS_CODE = /^[A-HJKMNP-Z2-9]{6}$/;

const fallbackName = (id: string) => `learner ${id.slice(0, 8)}`;

export class ClassroomStore {
  constructor(private readonly db: Database.Database) {}

  profile(learnerId: string): LearnerProfile | undefined {
    const r = this.db
      .prepare('SELECT id, display_name, class_code, created_at FROM learners WHERE id = ?')
      .get(learnerId) as
      { id: string; display_name: string | null; class_code: string | null; created_at: string } | undefined;
    if (!r) return undefined;
    return {
      id: r.id,
      ...(r.display_name ? { displayName: r.display_name } : {}),
      ...(r.class_code ? { classCode: r.class_code } : {}),
      createdAt: r.created_at,
    };
  }

  /** Sets the display name and/or class; the class must exist. Returns false for an unknown class. */
  setProfile(learnerId: string, p: { displayName?: string; classCode?: string }, at: Date): boolean {
    if (p.classCode !== undefined && !this.classByCode(p.classCode)) return false;
    this.db.transaction(() => {
      this.db
        .prepare('INSERT OR IGNORE INTO learners (id, created_at) VALUES (?, ?)')
        .run(learnerId, at.toISOString());
      if (p.displayName !== undefined)
        this.db.prepare('UPDATE learners SET display_name = ? WHERE id = ?').run(p.displayName, learnerId);
      if (p.classCode !== undefined)
        this.db.prepare('UPDATE learners SET class_code = ? WHERE id = ?').run(p.classCode, learnerId);
    })();
    return true;
  }

  createClass(name: string, at: Date): ClassInfo {
    for (;;) {
      const code = Array.from({ length: 6 }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]).join('');
      const done = this.db
        .prepare('INSERT OR IGNORE INTO classes (code, name, created_at) VALUES (?, ?, ?)')
        .run(code, name, at.toISOString()).changes;
      if (done === 1) return { code, name, createdAt: at.toISOString() };
    }
  }

  classes(): ClassInfo[] {
    return (
      this.db.prepare('SELECT code, name, created_at FROM classes ORDER BY created_at, code').all() as Array<{
        code: string;
        name: string;
        created_at: string;
      }>
    ).map((r) => ({ code: r.code, name: r.name, createdAt: r.created_at }));
  }

  classByCode(code: string): ClassInfo | undefined {
    return this.classes().find((c) => c.code === code);
  }

  /** Learners (of one class, or all), by display name. */
  learners(classCode?: string): LearnerProfile[] {
    const rows = (
      classCode === undefined
        ? this.db.prepare('SELECT id FROM learners').all()
        : this.db.prepare('SELECT id FROM learners WHERE class_code = ?').all(classCode)
    ) as Array<{ id: string }>;
    return rows
      .map((r) => this.profile(r.id)!)
      .sort((a, b) => nameOf(a).localeCompare(nameOf(b)) || a.id.localeCompare(b.id));
  }

  /** One row per learner and lab or exam they touched. */
  rows(classCode?: string, now: Date = new Date()): DashboardRow[] {
    const out: DashboardRow[] = [];
    for (const learner of this.learners(classCode)) {
      const base = { learnerId: learner.id, learner: nameOf(learner), classCode: learner.classCode ?? '' };
      const progress = this.db
        .prepare(
          'SELECT lab_id, attempts, passes, hints_used, solution_viewed_at, last_checked_at, last_report FROM progress WHERE learner_id = ? ORDER BY lab_id',
        )
        .all(learner.id) as Array<{
        lab_id: string;
        attempts: number;
        passes: number;
        hints_used: number;
        solution_viewed_at: string | null;
        last_checked_at: string | null;
        last_report: string | null;
      }>;
      for (const p of progress) {
        const events = this.db
          .prepare('SELECT at FROM events WHERE learner_id = ? AND lab_id = ? ORDER BY id')
          .all(learner.id, p.lab_id) as Array<{ at: string }>;
        out.push({
          ...base,
          kind: 'lab',
          item: p.lab_id,
          attempts: p.attempts,
          hintsUsed: p.hints_used,
          solutionViewed: p.solution_viewed_at !== null,
          passed: p.passes > 0,
          timeSpentSec: Math.round(activeMs(events.map((e) => Date.parse(e.at))) / 1000),
          lastAt: events.at(-1)?.at ?? p.last_checked_at ?? '',
          lastResult: summaryOf(p.last_report),
        });
      }
      const exams = this.db
        .prepare(
          'SELECT exam_id, started_at, deadline_at, finished_at, score FROM exam_attempts WHERE learner_id = ? ORDER BY started_at',
        )
        .all(learner.id) as Array<{
        exam_id: string;
        started_at: string;
        deadline_at: string;
        finished_at: string | null;
        score: string | null;
      }>;
      const byExam = new Map<string, typeof exams>();
      for (const e of exams) byExam.set(e.exam_id, [...(byExam.get(e.exam_id) ?? []), e]);
      for (const [examId, attempts] of [...byExam].sort(([a], [b]) => a.localeCompare(b))) {
        const scores = attempts.map((a) => parseScore(a.score));
        const last = attempts.at(-1)!;
        const lastScore = scores.at(-1);
        out.push({
          ...base,
          kind: 'exam',
          item: examId,
          attempts: attempts.length,
          hintsUsed: 0,
          solutionViewed: false,
          passed: scores.some((s) => s?.passed === true),
          timeSpentSec: Math.round(
            attempts.reduce((n, a) => {
              const end = a.finished_at
                ? Date.parse(a.finished_at)
                : Math.min(now.getTime(), Date.parse(a.deadline_at));
              return n + Math.max(0, end - Date.parse(a.started_at));
            }, 0) / 1000,
          ),
          lastAt: last.finished_at ?? last.started_at,
          lastResult: lastScore
            ? `${lastScore.earned}/${lastScore.totalPoints} points, ${lastScore.passed ? 'passed' : 'not passed'}`
            : 'in progress',
        });
      }
    }
    return out;
  }

  /** Everything one learner did, in time order: lab actions and exam events. */
  timeline(learnerId: string): TimelineEntry[] {
    return this.db
      .prepare(
        `SELECT at, item, kind, detail FROM (
           SELECT at, lab_id AS item, kind, detail, id AS seq, 0 AS src FROM events WHERE learner_id = ?
           UNION ALL SELECT at, 'exam ' || exam_id AS item, 'exam-' || kind AS kind, detail, id AS seq, 1 AS src FROM exam_events WHERE learner_id = ?
         ) ORDER BY at, src, seq`,
      )
      .all(learnerId, learnerId) as TimelineEntry[];
  }

  /** Per lab, across the learners of a class (or all). */
  labStats(classCode?: string): LabStats[] {
    const ids = new Set(this.learners(classCode).map((l) => l.id));
    const rows = (
      this.db
        .prepare('SELECT learner_id, lab_id, attempts, passes FROM progress WHERE attempts > 0')
        .all() as Array<{ learner_id: string; lab_id: string; attempts: number; passes: number }>
    ).filter((r) => ids.has(r.learner_id));
    const byLab = new Map<string, typeof rows>();
    for (const r of rows) byLab.set(r.lab_id, [...(byLab.get(r.lab_id) ?? []), r]);
    const failures = (
      this.db.prepare('SELECT learner_id, lab_id, check_id FROM check_failures').all() as Array<{
        learner_id: string;
        lab_id: string;
        check_id: string;
      }>
    ).filter((f) => ids.has(f.learner_id));
    return [...byLab]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([labId, list]) => {
        const counts = new Map<string, number>();
        for (const f of failures)
          if (f.lab_id === labId) counts.set(f.check_id, (counts.get(f.check_id) ?? 0) + 1);
        const passed = list.filter((r) => r.passes > 0).length;
        return {
          labId,
          learners: list.length,
          passed,
          passRate: Math.round((passed / list.length) * 1000) / 10,
          medianAttempts: median(list.map((r) => r.attempts)),
          failingChecks: [...counts]
            .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
            .slice(0, 3)
            .map(([checkId, n]) => ({ checkId, failures: n })),
        };
      });
  }
}

function nameOf(p: LearnerProfile): string {
  return p.displayName ?? fallbackName(p.id);
}

/** Working time from action times: the gaps between actions, each counted up to IDLE_CAP_MS. */
export function activeMs(times: number[]): number {
  let total = 0;
  for (let i = 1; i < times.length; i++)
    total += Math.min(IDLE_CAP_MS, Math.max(0, times[i]! - times[i - 1]!));
  return total;
}

export function median(values: number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function summaryOf(report: string | null): string {
  if (!report) return '';
  try {
    const r = JSON.parse(report) as { summary?: unknown; status?: unknown };
    return typeof r.summary === 'string' ? r.summary : typeof r.status === 'string' ? r.status : '';
  } catch {
    return '';
  }
}

function parseScore(
  text: string | null,
): { earned: number; totalPoints: number; passed: boolean } | undefined {
  if (!text) return undefined;
  try {
    const s = JSON.parse(text) as { earned?: unknown; totalPoints?: unknown; passed?: unknown };
    if (typeof s.earned === 'number' && typeof s.totalPoints === 'number')
      return { earned: s.earned, totalPoints: s.totalPoints, passed: s.passed === true };
  } catch {
    // an unreadable score reads as none
  }
  return undefined;
}
