/**
 * The HTML pages. Every action is a plain form POST that works without JavaScript (post, then
 * redirect back); the page's script sends the same forms with X-Kubelab-Partial: 1 and gets the
 * changed parts of the page back as HTML fragments in JSON.
 */
import { groupByDomain } from '../catalogue-order.js';
import { Router, type Request, type Response } from 'express';
import { formatProblem, isKubelabError, KubelabError } from '../../errors.js';
import type { GradeReport } from '../../grader/report.js';
import type { Lab } from '../../labs/model.js';
import { emptyProgress, type LabProgress } from '../../store/index.js';
import type { AppContext } from '../app.js';
import { isConfirmed } from '../actions.js';
import { policyNameOf, starterManifest } from '../editor.js';
import { learnerOf } from '../learner.js';
import { renderMarkdown } from '../markdown.js';
import { matrixFromReport, type ConnectivityMatrix } from '../matrix.js';
import { buildTopology } from '../topology.js';
import { editorKinds } from '../manifests.js';
import { isPartial, labSummary, reportView } from '../view-model.js';

export function pageRoutes(ctx: AppContext): Router {
  const router = Router();
  const { actions, deps } = ctx;

  router.get('/', async (_req, res) => {
    const learnerId = learnerOf(_req, res);
    const { labs, problems } = await deps.labs.list();
    const progress = deps.store.allProgress(learnerId, { lastAttempt: false });
    res.render('catalogue', {
      title: 'Labs',
      problems: problems.map(formatProblem),
      labs: labs.map((lab) => labSummary(lab, progress.get(lab.id) ?? emptyProgress(lab.id))),
      sections: groupByDomain(
        labs.map((lab) => labSummary(lab, progress.get(lab.id) ?? emptyProgress(lab.id))),
      ),
    });
  });

  router.get('/labs/:id', async (req, res) => {
    const lab = await actions.lab(param(req, 'id'));
    await renderLabPage(ctx, req, res, lab, 200, {});
  });

  router.post('/labs/:id/check', async (req, res) => {
    const lab = await actions.lab(param(req, 'id'));
    const learnerId = learnerOf(req, res);
    const manifests: unknown = (req.body as Record<string, unknown> | undefined)?.manifests;
    try {
      const { report, progressNotSaved } = await actions.check(lab, learnerId, manifests);
      if (!isPartial(req)) {
        // Nothing was stored, so the page after a redirect would not show this report: render it.
        if (progressNotSaved) {
          await renderLabPage(ctx, req, res, lab, 503, {
            report,
            progressNotSaved,
            editorText: typeof manifests === 'string' ? manifests : undefined,
          });
          return;
        }
        return res.redirect(303, `/labs/${lab.id}#result`);
      }
      const progress = actions.progress(lab, learnerId);
      // What the check itself observed; when it could not probe (environment), the live prediction.
      const observed = matrixFromReport(report);
      const matrix =
        observed.sources.length > 0
          ? { matrix: observed, matrixProblem: undefined }
          : await matrixOrProblem(ctx, lab, learnerId);
      res.status(progressNotSaved ? 503 : 200).json({
        passed: report.passed,
        status: report.status,
        ...(progressNotSaved ? { progressNotSaved } : {}),
        sections: {
          result: await renderView(res, 'partials/report', {
            lab,
            view: reportView(report),
            checkError: undefined,
            progressNotSaved,
          }),
          matrix: await renderView(res, 'partials/matrix', { lab, ...matrix }),
          progress: await renderView(res, 'partials/progress', { lab, progress }),
        },
      });
    } catch (e) {
      // Bad YAML or a cluster problem is shown where the result would be, with the text kept.
      if (!isKubelabError(e) || e.code === 'INTERNAL') throw e;
      const status = e.httpStatus;
      if (isPartial(req)) {
        res.status(status).json({
          error: e.toJSON(),
          sections: {
            result: await renderView(res, 'partials/report', {
              lab,
              view: undefined,
              checkError: e.toJSON(),
            }),
          },
        });
        return;
      }
      await renderLabPage(ctx, req, res, lab, status, {
        checkError: e.toJSON(),
        editorText: typeof manifests === 'string' ? manifests : undefined,
      });
    }
  });

  router.post('/labs/:id/hints/next', async (req, res) => {
    const lab = await actions.lab(param(req, 'id'));
    const learnerId = learnerOf(req, res);
    actions.nextHint(lab, learnerId);
    if (!isPartial(req)) return res.redirect(303, `/labs/${lab.id}#hints`);
    const progress = actions.progress(lab, learnerId);
    res.json({
      sections: {
        hints: await renderView(res, 'partials/hints', {
          lab,
          progress,
          hints: actions.revealedHints(lab, progress),
        }),
        progress: await renderView(res, 'partials/progress', { lab, progress }),
      },
    });
  });

  router.post('/labs/:id/solution', async (req, res) => {
    const lab = await actions.lab(param(req, 'id'));
    const learnerId = learnerOf(req, res);
    const confirm: unknown = (req.body as Record<string, unknown> | undefined)?.confirm;
    const solution = await actions.solution(lab, learnerId, isConfirmed(confirm));
    if (!isPartial(req)) return res.redirect(303, `/labs/${lab.id}#solution`);
    res.json({
      sections: {
        solution: await renderView(res, 'partials/solution', { lab, solution, mode: ctx.state.active.info }),
        progress: await renderView(res, 'partials/progress', {
          lab,
          progress: actions.progress(lab, learnerId),
        }),
      },
    });
  });

  router.post('/labs/:id/reset', async (req, res) => {
    const lab = await actions.lab(param(req, 'id'));
    await actions.reset(lab, learnerOf(req, res));
    res.redirect(303, `/labs/${lab.id}`);
  });

  router.get('/labs/:id/concept', async (req, res) => {
    const lab = await actions.lab(param(req, 'id'));
    res.render('markdown-page', {
      title: `${lab.title}: the concept`,
      lab,
      html: renderMarkdown(await deps.labs.page(lab, 'concept')),
      kind: 'concept',
    });
  });

  router.get('/labs/:id/complete', async (req, res) => {
    const lab = await actions.lab(param(req, 'id'));
    const progress = actions.progress(lab, learnerOf(req, res));
    if (progress.status !== 'passed') {
      throw new KubelabError('FORBIDDEN', `you have not passed ${lab.title} yet`, {
        hint: 'Check your policy on the lab page; this page opens once a check passes.',
      });
    }
    res.render('markdown-page', {
      title: `${lab.title}: completed`,
      lab,
      html: renderMarkdown(await deps.labs.page(lab, 'completion')),
      kind: 'completion',
    });
  });

  router.get('/cluster', (_req, res) => {
    res.render('cluster', { title: 'Cluster', history: ctx.provisioning.history });
  });

  router.post('/cluster/provision', (_req, res) => {
    if (!ctx.provisioning.available) {
      throw new KubelabError('ENVIRONMENT', 'a real cluster cannot be created here', {
        hint: ctx.deps.provisionUnavailable ?? 'Install Docker and kind, then restart kubelab.',
      });
    }
    ctx.provisioning.start();
    res.redirect(303, '/cluster');
  });

  return router;
}

export function param(req: Request, name: string): string {
  const v: unknown = req.params[name];
  return typeof v === 'string' ? v : '';
}

async function matrixOrProblem(
  ctx: AppContext,
  lab: Lab,
  learnerId: string,
): Promise<{ matrix: ConnectivityMatrix | undefined; matrixProblem: string | undefined }> {
  try {
    return { matrix: await ctx.actions.matrix(lab, learnerId), matrixProblem: undefined };
  } catch (e) {
    // The matrix is a help, not the grade: a cluster that cannot be read must not take the page down.
    if (!isKubelabError(e)) throw e;
    return { matrix: undefined, matrixProblem: e.message };
  }
}

async function renderLabPage(
  ctx: AppContext,
  req: Request,
  res: Response,
  lab: Lab,
  status: number,
  extra: {
    checkError?: ReturnType<KubelabError['toJSON']>;
    editorText?: string | undefined;
    report?: GradeReport;
    progressNotSaved?: string;
  },
): Promise<void> {
  const learnerId = learnerOf(req, res);
  const progress: LabProgress = ctx.actions.progress(lab, learnerId);
  const [task, scenarioObjects, matrix, solution] = await Promise.all([
    ctx.deps.labs.page(lab, 'task'),
    ctx.deps.labs.scenarioObjects(lab),
    matrixOrProblem(ctx, lab, learnerId),
    ctx.actions.shownSolution(lab, progress),
  ]);
  res.status(status).render('lab', {
    title: lab.title,
    lab,
    progress,
    taskHtml: renderMarkdown(withoutLeadingTitle(task)),
    topology: buildTopology(scenarioObjects, lab),
    ...matrix,
    hints: ctx.actions.revealedHints(lab, progress),
    solution,
    view: extra.checkError
      ? undefined
      : extra.report
        ? reportView(extra.report)
        : progress.lastReport
          ? reportView(progress.lastReport)
          : undefined,
    checkError: extra.checkError,
    progressNotSaved: extra.progressNotSaved,
    editorText: extra.editorText ?? progress.lastManifests ?? starterManifest(lab),
    policyName: policyNameOf(lab),
    editorKinds: Object.keys(editorKinds(lab)),
  });
}

export { starterManifest };

/** The lab page already has the title as its heading; the task's own `# Title` would repeat it. */
export function withoutLeadingTitle(markdown: string): string {
  return markdown.replace(/^\s*# [^\n]*\n/, '');
}

function renderView(res: Response, view: string, locals: Record<string, unknown>): Promise<string> {
  return new Promise((resolve, reject) => {
    res.app.render(view, { ...res.locals, ...locals }, (err: Error | null, html?: string) => {
      if (err) reject(err);
      else resolve(html ?? '');
    });
  });
}
