/**
 * The instructor's view: every learner's progress per lab and exam, sortable and filtered by class,
 * a learner's timeline, per-lab statistics, CSV and JSON export. Nothing here answers a learner:
 * without the instructor token (Bearer, or the instructor cookie set by the login form) every page
 * is 403 and every API call is a 403 JSON error.
 */
import { Router, type NextFunction, type Request, type Response } from 'express';
import { KubelabError, badInput, notFound } from '../../errors.js';
import { CLASS_CODE, type DashboardRow } from '../../store/classroom.js';
import { isLearnerId } from '../../store/index.js';
import type { AppContext } from '../app.js';
import { INSTRUCTOR_COOKIE, isInstructor, sameSecret, sessionValue } from '../instructor-auth.js';

const SORTABLE: Array<keyof DashboardRow> = [
  'learner',
  'classCode',
  'kind',
  'item',
  'attempts',
  'hintsUsed',
  'solutionViewed',
  'passed',
  'timeSpentSec',
  'lastAt',
];

export const CSV_COLUMNS: Array<[keyof DashboardRow, string]> = [
  ['learner', 'learner'],
  ['classCode', 'class'],
  ['kind', 'kind'],
  ['item', 'lab or exam'],
  ['attempts', 'attempts'],
  ['hintsUsed', 'hints opened'],
  ['solutionViewed', 'solution seen'],
  ['passed', 'passed'],
  ['timeSpentSec', 'time spent (s)'],
  ['lastAt', 'last activity'],
  ['lastResult', 'last report'],
];

function csvCell(v: unknown): string {
  let s = typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v ?? '');
  // A cell a spreadsheet would run as a formula is kept as text.
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(rows: DashboardRow[]): string {
  const lines = [CSV_COLUMNS.map(([, h]) => csvCell(h)).join(',')];
  for (const r of rows) lines.push(CSV_COLUMNS.map(([k]) => csvCell(r[k])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

function sortRows(rows: DashboardRow[], key: string, dir: string): DashboardRow[] {
  const k = (SORTABLE as string[]).includes(key) ? (key as keyof DashboardRow) : 'learner';
  const sign = dir === 'desc' ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = a[k];
    const y = b[k];
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return sign * c || a.learner.localeCompare(b.learner) || a.item.localeCompare(b.item);
  });
}

export function instructorRoutes(ctx: AppContext): Router {
  const router = Router();
  const token = ctx.deps.instructorToken;
  const store = ctx.deps.store;

  const forbidden = () =>
    new KubelabError('FORBIDDEN', "this is the instructor's view: it needs the instructor token", {
      hint: 'The token is printed when kubelab serve starts (or set with KUBELAB_INSTRUCTOR_TOKEN).',
    });
  const guard = (req: Request, res: Response, next: NextFunction) => {
    if (isInstructor(req, token)) return next();
    if (req.originalUrl.startsWith('/api/')) return next(forbidden());
    res
      .status(403)
      .render('instructor-login', { title: 'Instructor', configured: Boolean(token), failed: false });
  };

  router.post('/instructor/login', (req, res) => {
    const given = (req.body as Record<string, unknown> | undefined)?.token;
    if (!token || typeof given !== 'string' || !sameSecret(given.trim(), token)) {
      res
        .status(403)
        .render('instructor-login', { title: 'Instructor', configured: Boolean(token), failed: true });
      return;
    }
    res.cookie(INSTRUCTOR_COOKIE, sessionValue(token), { httpOnly: true, sameSite: 'strict', path: '/' });
    res.redirect(303, '/instructor');
  });
  router.post('/instructor/logout', (_req, res) => {
    res.clearCookie(INSTRUCTOR_COOKIE, { path: '/' });
    res.redirect(303, '/');
  });

  router.use(['/instructor', '/api/instructor'], guard);

  const classOf = (req: Request): string | undefined => {
    const c = typeof req.query.class === 'string' ? req.query.class.trim().toUpperCase() : '';
    if (c === '') return undefined;
    if (!CLASS_CODE.test(c)) throw badInput(`"${c}" is not a class code`);
    return c;
  };

  router.get('/instructor', (req, res) => {
    const classCode = classOf(req);
    const sort = typeof req.query.sort === 'string' ? req.query.sort : 'learner';
    const dir = req.query.dir === 'desc' ? 'desc' : 'asc';
    const rows = sortRows(store.classroom.rows(classCode, ctx.deps.clock()), sort, dir);
    res.render('instructor', {
      title: 'Instructor',
      rows,
      sort,
      dir,
      classCode,
      classes: store.classroom.classes(),
      learners: store.classroom.learners(classCode),
      stats: store.classroom.labStats(classCode),
      query: classCode ? `class=${classCode}&` : '',
    });
  });

  router.post('/instructor/classes', (req, res) => {
    const name = (req.body as Record<string, unknown> | undefined)?.name;
    const clean = typeof name === 'string' ? name.trim().slice(0, 80) : '';
    if (clean === '') throw badInput('give the class a name');
    const created = store.classroom.createClass(clean, ctx.deps.clock());
    res.redirect(303, `/instructor?class=${created.code}`);
  });

  router.get('/instructor/learners/:id', (req, res) => {
    const id = req.params.id ?? '';
    const profile = isLearnerId(id) ? store.classroom.profile(id) : undefined;
    if (!profile) throw notFound('there is no such learner');
    res.render('instructor-learner', {
      title: `Learner ${profile.displayName ?? id.slice(0, 8)}`,
      profile,
      rows: store.classroom.rows(undefined, ctx.deps.clock()).filter((r) => r.learnerId === id),
      timeline: store.classroom.timeline(id),
      attempts: store.exams.attempts(id),
    });
  });

  router.get('/api/instructor/dashboard', (req, res) => {
    const classCode = classOf(req);
    res.json({
      class: classCode ?? null,
      learners: store.classroom.learners(classCode),
      rows: store.classroom.rows(classCode, ctx.deps.clock()),
      stats: store.classroom.labStats(classCode),
    });
  });
  router.get('/api/instructor/export.json', (req, res) => {
    const classCode = classOf(req);
    res.attachment(`kubelab-progress${classCode ? `-${classCode}` : ''}.json`);
    res.json({
      exportedAt: ctx.deps.clock().toISOString(),
      class: classCode ?? null,
      rows: store.classroom.rows(classCode, ctx.deps.clock()),
      stats: store.classroom.labStats(classCode),
    });
  });
  router.get('/api/instructor/export.csv', (req, res) => {
    const classCode = classOf(req);
    res.attachment(`kubelab-progress${classCode ? `-${classCode}` : ''}.csv`);
    res
      .type('text/csv; charset=utf-8')
      .send(toCsv(sortRows(store.classroom.rows(classCode, ctx.deps.clock()), 'learner', 'asc')));
  });
  router.get('/api/instructor/learners/:id/timeline', (req, res) => {
    const id = req.params.id ?? '';
    if (!isLearnerId(id) || !store.classroom.profile(id)) throw notFound('there is no such learner');
    res.json({ learner: store.classroom.profile(id), timeline: store.classroom.timeline(id) });
  });
  router.get('/api/instructor/classes', (_req, res) => res.json({ classes: store.classroom.classes() }));

  return router;
}
