/** The JSON API: the same actions as the pages, for scripts and tests. Errors are `{error: {...}}`. */
import { Router } from 'express';
import { KubelabError } from '../../errors.js';
import type { AppContext } from '../app.js';
import { isConfirmed } from '../actions.js';
import { learnerOf } from '../learner.js';
import type { ProvisionMessage } from '../provision.js';
import { labSummary, sendJsonText } from '../view-model.js';
import { emptyProgress } from '../../store/index.js';
import { param } from './pages.js';

export function apiRoutes(ctx: AppContext): Router {
  const router = Router();
  const { actions, deps } = ctx;

  router.get('/labs', async (req, res) => {
    const learnerId = learnerOf(req, res);
    const { labs, problems } = await deps.labs.list();
    // One query for all labs (not one per lab), without the last reports the summaries do not show.
    const progress = deps.store.allProgress(learnerId, { lastAttempt: false });
    res.json({
      labs: labs.map((lab) => labSummary(lab, progress.get(lab.id) ?? emptyProgress(lab.id))),
      problems,
    });
  });

  router.get('/labs/:id', async (req, res) => {
    const lab = await actions.lab(param(req, 'id'));
    const progress = actions.progress(lab, learnerOf(req, res));
    res.json({
      ...labSummary(lab, progress),
      namespace: lab.namespace,
      catches: lab.catches,
      task: await deps.labs.page(lab, 'task'),
      hints: { total: lab.hints.length, revealed: actions.revealedHints(lab, progress) },
      checks: lab.checks.map((c) => ({ id: c.id, kind: c.kind, title: c.title })),
      mode: ctx.state.active.info,
      lastReport: progress.lastReport ?? null,
      links: {
        page: `/labs/${lab.id}`,
        concept: `/labs/${lab.id}/concept`,
        ...(progress.status === 'passed' ? { completion: `/labs/${lab.id}/complete` } : {}),
      },
    });
  });

  router.post('/labs/:id/check', async (req, res) => {
    const lab = await actions.lab(param(req, 'id'));
    const body = (req.body ?? {}) as Record<string, unknown>;
    const outcome = await actions.check(lab, learnerOf(req, res), body.manifests);
    // 503 tells a script that something is wrong on the server, yet the grade is in the body.
    if (outcome.progressNotSaved)
      res.status(503).json({ ...outcome.report, progressNotSaved: outcome.progressNotSaved });
    else sendJsonText(res, outcome.record.json);
  });

  router.get('/labs/:id/matrix', async (req, res) => {
    const lab = await actions.lab(param(req, 'id'));
    res.json(await actions.matrix(lab, learnerOf(req, res)));
  });

  /** kubectl's way into this learner's simulated cluster of this lab (a download from the page). */
  router.get('/labs/:id/kubeconfig', async (req, res) => {
    const lab = await actions.lab(param(req, 'id'));
    const text = actions.kubeconfig(
      lab,
      learnerOf(req, res),
      `${req.protocol}://${req.get('host') ?? '127.0.0.1'}`,
    );
    res
      .status(200)
      .type('application/yaml')
      .set('Content-Disposition', `attachment; filename="kubelab-${lab.id}.kubeconfig"`)
      .set('Cache-Control', 'no-store')
      .send(text);
  });

  router.post('/labs/:id/hints/next', async (req, res) => {
    const lab = await actions.lab(param(req, 'id'));
    res.json(actions.nextHint(lab, learnerOf(req, res)));
  });

  router.post('/labs/:id/solution', async (req, res) => {
    const lab = await actions.lab(param(req, 'id'));
    const body = (req.body ?? {}) as Record<string, unknown>;
    res.json({ solution: await actions.solution(lab, learnerOf(req, res), isConfirmed(body.confirm)) });
  });

  router.post('/labs/:id/reset', async (req, res) => {
    const lab = await actions.lab(param(req, 'id'));
    await actions.reset(lab, learnerOf(req, res));
    res.json({ reset: true });
  });

  router.get('/cluster', (_req, res) => {
    res.json({
      mode: ctx.state.active.info,
      provision: {
        available: ctx.provisioning.available,
        state: ctx.provisioning.state,
        ...(deps.provisionUnavailable ? { unavailable: deps.provisionUnavailable } : {}),
      },
    });
  });

  router.post('/cluster/provision', (_req, res) => {
    if (!ctx.provisioning.available) {
      throw new KubelabError('ENVIRONMENT', 'a real cluster cannot be created here', {
        hint: deps.provisionUnavailable ?? 'Install Docker and kind, then restart kubelab.',
      });
    }
    const started = ctx.provisioning.start();
    res
      .status(started ? 202 : 200)
      .json({ state: ctx.provisioning.state, events: '/api/cluster/provision/events' });
  });

  /** Server-sent events: every progress message so far, then live ones, until done or failed. */
  router.get('/cluster/provision/events', (req, res) => {
    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    const send = (m: ProvisionMessage) => {
      res.write(`event: ${m.type}\ndata: ${JSON.stringify(m)}\n\n`);
      if (m.type !== 'progress') finish();
    };
    let finished = false;
    let unsubscribe: () => void = () => undefined;
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    const finish = () => {
      if (finished) return;
      finished = true;
      clearInterval(keepAlive);
      unsubscribe();
      res.end();
    };
    req.on('close', finish);
    if (ctx.provisioning.state === 'idle') {
      res.write(`event: idle\ndata: ${JSON.stringify({ type: 'idle' })}\n\n`);
      finish();
      return;
    }
    unsubscribe = ctx.provisioning.follow(send);
    // follow() may have replayed a final message already, before `unsubscribe` was assigned.
    if (finished) unsubscribe();
  });

  return router;
}
