/**
 * createApp(deps) -> the express app: the catalogue, lab pages, the JSON API and cluster
 * provisioning. It never listens by itself (server/cli/serve.ts does), so tests drive it in-process.
 */
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import cookieParser from 'cookie-parser';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubelabError, isKubelabError } from '../errors.js';
import { LabActions, type AppState } from './actions.js';
import { DEFAULT_LIMITS, type WebDeps, type WebLimits } from './deps.js';
import { learnerIdentity } from './learner.js';
import { ProvisionJob } from './provision.js';
import { apiRoutes } from './routes/api.js';
import { pageRoutes } from './routes/pages.js';
import { examRoutes } from './routes/exams.js';
import { instructorRoutes } from './routes/instructor.js';
import { examCatalogue, webExamService, type ExamCatalogue } from './exams.js';
import type { ExamService } from '../exams/service.js';
import { allowedHostsOnly, hostAllowed, sameOriginOnly, securityHeaders } from './security.js';
import { isKubectlPath } from './kubectl.js';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { commonLocals, wantsJson } from './view-model.js';

// Views and static files stay in the source tree; the compiled build (dist/web/) is at the same
// depth, so this path means the same from both.
const here = fileURLToPath(new URL('../../server/web/', import.meta.url));
const codemirrorRoot = dirname(createRequire(import.meta.url).resolve('codemirror/package.json'));

export interface AppContext {
  deps: WebDeps;
  state: AppState;
  actions: LabActions;
  provisioning: ProvisionJob;
  limits: WebLimits;
  exams: ExamService;
  examCatalogue: ExamCatalogue;
}

const upgrades = new WeakMap<Express, (req: IncomingMessage, socket: Duplex, head: Buffer) => void>();

/**
 * What the server does with an HTTP upgrade (exec's WebSocket to a learner's simulated cluster);
 * the entry that listens wires it (`server.on('upgrade', upgradeHandler(app))`).
 */
export function upgradeHandler(app: Express): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return upgrades.get(app) ?? ((_req, socket) => socket.destroy());
}

export function createApp(deps: WebDeps): Express {
  const limits: WebLimits = { ...DEFAULT_LIMITS, ...deps.limits };
  const log = deps.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const state: AppState = { active: deps.cluster };
  const ctx: AppContext = {
    deps,
    state,
    limits,
    actions: new LabActions(deps, state, limits),
    provisioning: new ProvisionJob(deps.provision, (cluster) => (state.active = cluster), log),
    ...examParts(deps, state, limits),
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('views', join(here, 'views'));
  app.set('view engine', 'ejs');

  if (deps.allowedHostnames) app.use(allowedHostsOnly(deps.allowedHostnames));
  // kubectl's requests are the Kubernetes API's, not the app's: no cookies, bodies or pages.
  app.use((req, res, next) => {
    if (!isKubectlPath(req.url)) return next();
    const endpoint = state.active.kubectl;
    if (endpoint) return endpoint.handle(req, res);
    res.status(404).json(noKubectlStatus);
  });
  upgrades.set(app, (req, socket, head) => {
    const endpoint = state.active.kubectl;
    if (!isKubectlPath(req.url) || !endpoint || !hostAllowed(deps.allowedHostnames, req.headers.host))
      return void socket.destroy();
    endpoint.upgrade(req, socket, head);
  });
  app.use(securityHeaders());
  app.use('/static', express.static(join(here, 'public'), { index: false, maxAge: '1h' }));
  // Only the parts of CodeMirror the page uses: nothing else from node_modules is reachable.
  app.use(
    '/vendor/codemirror/lib',
    express.static(join(codemirrorRoot, 'lib'), { index: false, maxAge: '1d' }),
  );
  app.use(
    '/vendor/codemirror/mode/yaml',
    express.static(join(codemirrorRoot, 'mode', 'yaml'), { index: false, maxAge: '1d' }),
  );
  app.use(cookieParser(deps.store.cookieSecret()));
  app.use(learnerIdentity());
  app.use((req, res, next) => {
    Object.assign(res.locals, commonLocals(ctx, req));
    next();
  });
  app.use(sameOriginOnly());
  app.use(express.json({ limit: limits.maxBodyBytes }));
  app.use(
    express.urlencoded({ extended: false, limit: limits.maxBodyBytes, verify: refuseBadPercentEscapes }),
  );

  app.use(instructorRoutes(ctx));
  app.use(examRoutes(ctx));
  app.use('/api', apiRoutes(ctx));
  app.use(pageRoutes(ctx));
  app.use(notFoundHandler);
  app.use(errorHandler(ctx, log));
  return app;
}

/** Exams run on the active cluster when it is a real one, else on a simulated cluster per attempt. */
function examParts(deps: WebDeps, state: AppState, limits: WebLimits) {
  const catalogue = deps.exams ?? examCatalogue();
  const exams = webExamService({
    store: deps.store,
    clock: deps.clock,
    exams: catalogue,
    limits,
    realCluster: () => (state.active.info.mode === 'kube' ? state.active.cluster : undefined),
  });
  return { exams, examCatalogue: catalogue };
}

const noKubectlStatus = {
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message:
    "this kubelab server grades a real cluster: use that cluster's own kubeconfig (kubectl reaches kubelab only for simulated clusters)",
  reason: 'NotFound',
  code: 404,
};

/**
 * A form value with a broken %-escape would otherwise be kept undecoded and applied as nonsense
 * (and counted as an attempt): refuse the request instead. A browser never sends one.
 */
function refuseBadPercentEscapes(_req: unknown, _res: unknown, body: Buffer): void {
  const at = body.toString('latin1').search(/%(?![0-9a-fA-F]{2})/);
  if (at >= 0) {
    throw new KubelabError('BAD_INPUT', `the form data has an invalid %-escape at byte ${at}`, {
      hint: 'Send the form URL-encoded (every % followed by two hex digits), or use the JSON API.',
    });
  }
}

const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(
    new KubelabError('NOT_FOUND', `nothing here: ${req.method} ${req.path.slice(0, 200)}`, {
      hint: 'Start from the catalogue.',
    }),
  );
};

interface HttpishError {
  status?: number;
  statusCode?: number;
  type?: string;
  expose?: boolean;
}

/** body-parser and friends signal client mistakes with a status and a type. */
function fromHttpError(e: unknown): { status: number; error: KubelabError } | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const h = e as HttpishError;
  const status = h.status ?? h.statusCode;
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  if (h.type === 'entity.too.large') {
    return {
      status: 413,
      error: new KubelabError('BAD_INPUT', 'the request is too large', {
        hint: 'Keep manifests under 128 kB.',
      }),
    };
  }
  if (h.type === 'entity.parse.failed') {
    return { status: 400, error: new KubelabError('BAD_INPUT', 'the request body is not valid JSON') };
  }
  return { status, error: new KubelabError('BAD_INPUT', 'the request could not be read') };
}

function errorHandler(ctx: AppContext, log: (m: string) => void): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) return next(err);
    let status: number;
    let error: KubelabError;
    const http = fromHttpError(err);
    if (isKubelabError(err)) {
      status = err.httpStatus;
      error = err;
    } else if (http) {
      ({ status, error } = http);
    } else {
      log(
        `internal error on ${req.method} ${req.path}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
      status = 500;
      error = new KubelabError('INTERNAL', 'something went wrong inside kubelab', {
        hint: 'The server log has the details. Try again, or reset the lab.',
      });
    }
    if (wantsJson(req)) {
      res.status(status).json({ error: error.toJSON() });
      return;
    }
    // Common locals again: the error may come from a middleware that ran before they were set.
    const locals = {
      ...commonLocals(ctx, req),
      ...res.locals,
      status,
      error: error.toJSON(),
      title: titleFor(status),
    };
    res.status(status).render('error', locals, (renderError: Error | null, html?: string) => {
      if (!renderError) return void res.send(html);
      log(`error page failed to render: ${renderError.stack ?? renderError.message}`);
      res.type('text/plain').send(`${error.message}\n`);
    });
  };
}

function titleFor(status: number): string {
  if (status === 404) return 'Not found';
  if (status === 403) return 'Not allowed';
  if (status === 413) return 'Too large';
  if (status === 503) return 'Cluster problem';
  if (status >= 500) return 'Something went wrong';
  return 'Cannot do that';
}
