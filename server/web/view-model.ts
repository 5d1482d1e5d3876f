/** Small helpers shared by the routes and the views: what every page needs, and how to answer. */
import type { Request, Response } from 'express';
import type { CheckResult, GradeReport } from '../grader/report.js';
import { groupProbes, type ProbeGroup } from '../grader/grouping.js';
import type { Lab } from '../labs/model.js';
import type { LabProgress, LabStatus } from '../store/index.js';
import type { AppContext } from './app.js';
import { domainOf } from './catalogue-order.js';
import { renderMarkdownInline } from './markdown.js';
import { outcomeLabel } from './matrix.js';

/** Requests from the page's own script ask for HTML fragments in JSON. */
export const PARTIAL_HEADER = 'x-kubelab-partial';

export function isPartial(req: Request): boolean {
  return req.get(PARTIAL_HEADER) === '1';
}

export function wantsJson(req: Request): boolean {
  return req.originalUrl.startsWith('/api/') || isPartial(req);
}

/**
 * Answers JSON that is serialised already, as res.json() would answer the value it came from (the
 * same body, Content-Type, charset and ETag): a grading worker's report is stringified once, there.
 */
export function sendJsonText(res: Response, json: string): void {
  if (!res.get('Content-Type')) res.set('Content-Type', 'application/json');
  res.send(json);
}

export function commonLocals(ctx: AppContext, req: Request): Record<string, unknown> {
  return {
    mode: ctx.state.active.info,
    provision: {
      available: ctx.provisioning.available,
      state: ctx.provisioning.state,
      unavailable: ctx.deps.provisionUnavailable,
    },
    path: req.path,
    statusWords,
    outcomeLabel,
    renderMarkdownInline,
  };
}

export const STATUS_WORDS: Record<LabStatus, string> = {
  'not-started': 'not started',
  attempted: 'attempted',
  passed: 'passed',
};

export function statusWords(status: LabStatus): string {
  return STATUS_WORDS[status];
}

export interface LabSummary {
  id: string;
  title: string;
  summary: string;
  difficulty: Lab['difficulty'];
  tags: string[];
  minutes: number;
  competency: string;
  /** The exam domain the lab trains, e.g. `CKA Services & Networking`. */
  domain?: string;
  /** The catalogue section: lab.yaml `domain` (networkpolicy, rbac, podsecurity, ...). */
  section: NonNullable<Lab['domain']>;
  progress: {
    status: LabStatus;
    attempts: number;
    hintsUsed: number;
    solutionViewed: boolean;
  };
}

export function labSummary(lab: Lab, progress: LabProgress): LabSummary {
  return {
    id: lab.id,
    title: lab.title,
    summary: lab.summary,
    difficulty: lab.difficulty,
    tags: lab.tags,
    minutes: lab.minutes,
    competency: lab.competency,
    ...(domainOf(lab) ? { domain: domainOf(lab) } : {}),
    section: lab.domain ?? 'networkpolicy',
    progress: {
      status: progress.status,
      attempts: progress.attempts,
      hintsUsed: progress.hintsUsed,
      solutionViewed: progress.solutionViewed,
    },
  };
}

/** The report split the way the page shows it: the environment's problems apart from the learner's. */
export interface ReportView {
  report: GradeReport;
  environment: Array<{ where: string; message: string }>;
  /** Probes folded into one row per cause (see server/grader/grouping.ts); `fine` counts probes. */
  checks: Array<{ check: CheckResult; wrong: ProbeGroup[]; fine: ProbeGroup[]; fineProbes: number }>;
}

export function reportView(report: GradeReport): ReportView {
  const environment: ReportView['environment'] = [];
  const checks: ReportView['checks'] = [];
  for (const check of report.checks) {
    if (check.status === 'error') {
      for (const m of check.messages) environment.push({ where: check.title, message: m });
    }
    for (const p of check.probes) {
      if (p.environmentProblem)
        environment.push({ where: `${p.from} -> ${p.to}`, message: p.environmentProblem });
    }
    if (check.kind === 'preflight' && check.status === 'pass') continue;
    const workloads = report.workloads ?? {};
    const fine = check.probes.filter((p) => p.passed);
    checks.push({
      check,
      wrong: groupProbes(
        check.probes.filter((p) => !p.passed && !p.environmentProblem),
        workloads,
        check.probes,
      ),
      fine: groupProbes(fine, workloads, check.probes),
      fineProbes: fine.length,
    });
  }
  return { report, environment, checks };
}
