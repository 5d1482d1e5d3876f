/**
 * Exam pages and their JSON API, and the learner's own page (display name, class). Every action is
 * a form POST that works without script; the countdown is the only script (exam.js), and the
 * server decides when time is up.
 */
import { Router, type Request, type Response } from 'express';
import { examTaskMarkdown } from '../../exams/task-text.js';
import { badInput, formatProblem, isKubelabError, notFound } from '../../errors.js';
import { isAttemptId } from '../../store/exams.js';
import { CLASS_CODE } from '../../store/classroom.js';
import type { AppContext } from '../app.js';
import { learnerOf } from '../learner.js';
import { renderMarkdown } from '../markdown.js';
import type { AttemptView } from '../../exams/service.js';

const NAME_MAX = 60;

function param(req: Request, name: string): string {
  const v = req.params[name];
  return typeof v === 'string' ? v : '';
}

function attemptParam(req: Request): string {
  const id = param(req, 'aid');
  if (!isAttemptId(id)) throw notFound('there is no such exam attempt', 'Start an exam from the exams page.');
  return id;
}

function field(req: Request, name: string): unknown {
  return (req.body as Record<string, unknown> | undefined)?.[name];
}

function attemptJson(v: AttemptView) {
  return {
    id: v.attempt.id,
    exam: v.attempt.examId,
    mode: v.attempt.mode,
    startedAt: v.attempt.startedAt,
    deadlineAt: v.attempt.deadlineAt,
    remainingMs: v.remainingMs,
    finished: v.finished,
    ...(v.attempt.finishedHow ? { finishedHow: v.attempt.finishedHow } : {}),
    checkPerTask: v.loaded.exam.checkPerTask,
    tasks: v.tasks.map((t) => ({
      lab: t.labId,
      title: t.lab.title,
      points: t.points,
      flagged: t.flagged,
      checks: t.checks,
    })),
    ...(v.score ? { score: v.score } : {}),
  };
}

export function examRoutes(ctx: AppContext): Router {
  const router = Router();
  const service = ctx.exams;
  const catalogue = ctx.examCatalogue;

  router.get('/exams', async (req, res) => {
    const learnerId = learnerOf(req, res);
    const { exams, problems } = await catalogue.list();
    res.render('exams', {
      title: 'Exams',
      exams: exams.map((e) => e.exam),
      problems: problems.map(formatProblem),
      attempts: ctx.deps.store.exams.attempts(learnerId),
    });
  });

  router.get('/api/exams', async (_req, res) => {
    const { exams } = await catalogue.list();
    res.json({
      exams: exams.map(({ exam }) => ({
        id: exam.id,
        title: exam.title,
        style: exam.style,
        minutes: exam.minutes,
        passPercent: exam.passPercent,
        checkPerTask: exam.checkPerTask,
        totalPoints: exam.totalPoints,
        tasks: exam.tasks.map((t) => ({ lab: t.lab, points: t.points, scoring: t.scoring })),
      })),
    });
  });

  const start = async (req: Request, res: Response) => {
    const loaded = await catalogue.get(param(req, 'id'));
    return service.start(learnerOf(req, res), loaded.exam.id);
  };
  router.post('/exams/:id/start', async (req, res) => {
    const attempt = await start(req, res);
    res.redirect(303, `/exams/attempts/${attempt.id}`);
  });
  router.post('/api/exams/:id/start', async (req, res) => {
    const attempt = await start(req, res);
    res.status(201).json(attemptJson(await service.view(attempt.id, attempt.learnerId)));
  });

  router.get('/exams/attempts/:aid', async (req, res) => {
    const view = await service.view(attemptParam(req), learnerOf(req, res));
    await renderAttempt(req, res, view, 200, {});
  });
  router.get('/api/exam-attempts/:aid', async (req, res) => {
    res.json(attemptJson(await service.view(attemptParam(req), learnerOf(req, res))));
  });

  const renderAttempt = async (
    req: Request,
    res: Response,
    view: AttemptView,
    status: number,
    extra: Record<string, unknown>,
  ) => {
    if (view.finished) {
      res
        .status(status)
        .render('exam-result', { title: `${view.loaded.exam.title}: result`, view, score: view.score });
      return;
    }
    const wanted = typeof req.query.task === 'string' ? req.query.task : undefined;
    const current = view.tasks.find((t) => t.labId === wanted) ?? view.tasks[0]!;
    res.status(status).render('exam', {
      title: view.loaded.exam.title,
      view,
      current,
      taskHtml: renderMarkdown(examTaskMarkdown(await ctx.deps.labs.page(current.lab, 'task'))),
      scripts: ['/static/exam.js'],
      ...extra,
    });
  };

  /** A task action from a form: redirect back to the task; a refused action is shown on the page. */
  const taskAction =
    (fn: (aid: string, learnerId: string, lab: string, req: Request) => Promise<unknown>) =>
    async (req: Request, res: Response) => {
      const aid = attemptParam(req);
      const learnerId = learnerOf(req, res);
      const lab = param(req, 'lab');
      try {
        const result = await fn(aid, learnerId, lab, req);
        if (req.originalUrl.startsWith('/api/'))
          return void res.json({ ok: true, ...(result && typeof result === 'object' ? { result } : {}) });
        res.redirect(303, `/exams/attempts/${aid}?task=${encodeURIComponent(lab)}#task`);
      } catch (e) {
        if (
          req.originalUrl.startsWith('/api/') ||
          !isKubelabError(e) ||
          e.code === 'INTERNAL' ||
          e.code === 'NOT_FOUND'
        )
          throw e;
        const view = await service.view(aid, learnerId);
        await renderAttempt(Object.assign(req, { query: { task: lab } }), res, view, e.httpStatus, {
          actionError: e.toJSON(),
          editorText: typeof field(req, 'manifests') === 'string' ? field(req, 'manifests') : undefined,
        });
      }
    };

  const apply = (aid: string, learnerId: string, lab: string, req: Request) => {
    const text = field(req, 'manifests');
    if (typeof text !== 'string') throw badInput('send the YAML as the form field "manifests"');
    return service.apply(aid, learnerId, lab, text);
  };
  const flag = (aid: string, learnerId: string, lab: string, req: Request) =>
    service.setFlag(
      aid,
      learnerId,
      lab,
      String(field(req, 'flagged')) === '1' || field(req, 'flagged') === true,
    );
  const check = async (aid: string, learnerId: string, lab: string, req: Request) => {
    // The editor's text is applied first, so Check grades what the learner sees.
    const text = field(req, 'manifests');
    if (typeof text === 'string') await service.apply(aid, learnerId, lab, text);
    return service.checkTask(aid, learnerId, lab);
  };
  for (const [name, fn] of [
    ['apply', apply],
    ['flag', flag],
    ['check', check],
  ] as const) {
    router.post(`/exams/attempts/:aid/tasks/:lab/${name}`, taskAction(fn));
    router.post(`/api/exam-attempts/:aid/tasks/:lab/${name}`, taskAction(fn));
  }

  router.post('/exams/attempts/:aid/submit', async (req, res) => {
    const aid = attemptParam(req);
    const learnerId = learnerOf(req, res);
    if (field(req, 'confirm') !== 'yes') {
      const view = await service.view(aid, learnerId);
      return renderAttempt(req, res, view, 400, {
        actionError: {
          code: 'BAD_INPUT',
          message: 'tick "I am done" to submit: a submitted exam cannot be changed',
          problems: [],
        },
      });
    }
    await service.submit(aid, learnerId);
    res.redirect(303, `/exams/attempts/${aid}`);
  });
  router.post('/api/exam-attempts/:aid/submit', async (req, res) => {
    const aid = attemptParam(req);
    const learnerId = learnerOf(req, res);
    await service.submit(aid, learnerId);
    res.json(attemptJson(await service.view(aid, learnerId)));
  });

  // The learner's own page: the name an instructor sees, and the class they joined.
  router.get('/me', (req, res) => {
    const learnerId = learnerOf(req, res);
    const profile = ctx.deps.store.classroom.profile(learnerId);
    res.render('me', { title: 'You', profile, saved: req.query.saved === '1', formError: undefined });
  });
  router.post('/me', (req, res) => {
    const learnerId = learnerOf(req, res);
    const name = field(req, 'displayName');
    const code = field(req, 'classCode');
    const problems: string[] = [];
    const displayName = typeof name === 'string' ? name.trim().replace(/\s+/g, ' ') : '';
    if (
      displayName.length === 0 ||
      displayName.length > NAME_MAX ||
      [...displayName].some((ch) => ch.charCodeAt(0) < 32)
    )
      problems.push(`Your name must be 1 to ${NAME_MAX} characters.`);
    const classCode = typeof code === 'string' ? code.trim().toUpperCase() : '';
    if (classCode !== '' && !CLASS_CODE.test(classCode))
      problems.push('A class code is 6 letters and digits, as your instructor gave it.');
    if (problems.length === 0) {
      const ok = ctx.deps.store.classroom.setProfile(
        learnerId,
        { displayName, ...(classCode !== '' ? { classCode } : {}) },
        ctx.deps.clock(),
      );
      if (!ok) problems.push(`There is no class ${classCode}: check the code with your instructor.`);
    }
    if (problems.length > 0) {
      res.status(400).render('me', {
        title: 'You',
        profile: ctx.deps.store.classroom.profile(learnerId),
        saved: false,
        formError: problems.join(' '),
      });
      return;
    }
    res.redirect(303, '/me?saved=1');
  });

  return router;
}
