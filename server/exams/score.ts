/**
 * From the grader's reports to an exam score: points per task and per check, the pass mark, and
 * for every lost point the explanation the lab's report gives (the same words a lab shows).
 */
import type { CheckResult, GradeReport } from '../grader/report.js';
import type { Exam, ExamTask } from './model.js';

export interface CheckScore {
  id: string;
  title: string;
  /**
   * `points`: this check earns points; `condition`: it must pass for the task to earn any (the
   * scenario left intact, "nothing else changes"); `info`: shown, but neither earns nor costs.
   */
  role: 'points' | 'condition' | 'info';
  points: number;
  earned: number;
  status: CheckResult['status'];
  /** Why it failed, in the lab's words (empty when it passed). */
  why: string[];
}

export interface TaskScore {
  lab: string;
  title: string;
  scoring: ExamTask['scoring'];
  points: number;
  earned: number;
  /** `not-graded`: the environment broke the grade; nothing is blamed on the learner. */
  status: 'full' | 'partial' | 'none' | 'not-graded';
  /** The lab's one-line diagnosis when points were lost. */
  diagnosis?: string;
  /** Each lost point's reason, one line per cause. */
  lost: string[];
  checks: CheckScore[];
}

export interface ExamScore {
  exam: string;
  title: string;
  totalPoints: number;
  earned: number;
  percent: number;
  passPercent: number;
  passed: boolean;
  /** Some task could not be graded (environment problem): the score counts it as 0 and says so. */
  notGraded: string[];
  tasks: TaskScore[];
  gradedAt: string;
}

/**
 * Per-check scoring: whatever else the learner earns, breaking the scenario or the traffic the
 * task says must not change costs the whole task (else a policy that denies everything could
 * collect the points of every "blocked" check).
 */
const CONDITION_KINDS = new Set<CheckResult['kind']>(['preflight', 'scenario', 'unchanged']);

function why(check: CheckResult): string[] {
  return check.messages.filter((m) => !m.startsWith('note:') || check.status === 'fail');
}

export function scoreTask(task: ExamTask, title: string, report: GradeReport): TaskScore {
  const environment = report.status === 'environment-error';
  const pointsOf = new Map(task.checks.map((c) => [c.id, c.points]));
  const checks: CheckScore[] = report.checks
    .filter((c) => !(c.id === 'preflight' && c.status === 'pass'))
    .map((c) => {
      const role: CheckScore['role'] =
        task.scoring === 'task' || CONDITION_KINDS.has(c.kind)
          ? 'condition'
          : pointsOf.has(c.id)
            ? 'points'
            : 'info';
      return {
        id: c.id,
        title: c.title,
        role,
        points: role === 'points' ? pointsOf.get(c.id)! : 0,
        earned: 0,
        status: c.status,
        why: c.status === 'pass' ? [] : why(c),
      };
    });
  const failedConditions = checks.filter((c) => c.role === 'condition' && c.status !== 'pass');
  let earned = 0;
  const lost: string[] = [];
  if (environment) {
    lost.push(`not graded: ${report.summary}`);
    for (const c of checks) if (c.status === 'error') lost.push(...c.why.map((w) => `${c.title}: ${w}`));
  } else if (task.scoring === 'task') {
    if (report.passed) earned = task.points;
    else
      for (const c of checks.filter((x) => x.status !== 'pass'))
        lost.push(...c.why.map((w) => `${c.title}: ${w}`));
  } else if (failedConditions.length > 0) {
    for (const c of failedConditions)
      lost.push(...c.why.map((w) => `${c.title} (needed for any points of this task): ${w}`));
  } else {
    for (const c of checks) {
      if (c.role !== 'points') continue;
      if (c.status === 'pass') c.earned = c.points;
      else lost.push(...c.why.map((w) => `${c.title} (${c.points} point${c.points === 1 ? '' : 's'}): ${w}`));
    }
    earned = checks.reduce((n, c) => n + c.earned, 0);
  }
  return {
    lab: task.lab,
    title,
    scoring: task.scoring,
    points: task.points,
    earned,
    status: environment ? 'not-graded' : earned === task.points ? 'full' : earned > 0 ? 'partial' : 'none',
    ...(report.diagnosis && earned < task.points ? { diagnosis: report.diagnosis } : {}),
    lost,
    checks,
  };
}

export function scoreExam(
  exam: Exam,
  titles: Map<string, string>,
  reports: Map<string, GradeReport>,
  at: Date,
): ExamScore {
  const tasks = exam.tasks.map((t) => {
    const report = reports.get(t.lab);
    if (!report) throw new Error(`no report for task ${t.lab}`);
    return scoreTask(t, titles.get(t.lab) ?? t.lab, report);
  });
  const earned = tasks.reduce((n, t) => n + t.earned, 0);
  const percent = exam.totalPoints === 0 ? 0 : Math.round((earned / exam.totalPoints) * 1000) / 10;
  return {
    exam: exam.id,
    title: exam.title,
    totalPoints: exam.totalPoints,
    earned,
    percent,
    passPercent: exam.passPercent,
    passed: percent >= exam.passPercent,
    notGraded: tasks.filter((t) => t.status === 'not-graded').map((t) => t.lab),
    tasks,
    gradedAt: at.toISOString(),
  };
}
