/**
 * kubectl against learners' simulated clusters, served on the web app's own port under
 * `/sim/TOKEN/`. A token names one learner's cluster of one lab (server/store keeps them), so one
 * endpoint serves every learner and a learner's token opens nothing but their own cluster.
 *
 * The cluster a learner's kubectl changes must be the one Check grades. Checks run in worker
 * threads (./sim-pool.ts), each owning the clusters of the learners hashed to it, so the API is
 * served by that same worker: each worker runs the Kubernetes API on a loopback port of its own,
 * and the HTTP thread forwards the learner's requests (and exec's WebSocket) to it byte for byte,
 * naming the learner in headers that only the pool's secret makes the worker believe. With no
 * workers, the HTTP thread serves the API itself from the in-process checker.
 */
import { request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { credentialsOf, SimApi } from '../cluster/sim/api/server.js';
import { SimulatedCluster } from '../cluster/sim/index.js';
import type { Lab } from '../labs/model.js';
import type { SimulatedChecker } from './checker.js';
import type { KubectlEndpoint } from './deps.js';

export interface TokenOwner {
  learnerId: string;
  labId: string;
}

/** Headers by which the HTTP thread tells a worker whose cluster a forwarded request is for. */
export const FORWARD_HEADERS = {
  secret: 'x-kubelab-pool-secret',
  learner: 'x-kubelab-learner',
  lab: 'x-kubelab-lab',
} as const;

const UNAUTHORIZED = JSON.stringify({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message: 'Unauthorized',
  reason: 'Unauthorized',
  code: 401,
});

function unavailable(why: string): string {
  return JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `the simulated cluster is not available right now (${why}); try again`,
    reason: 'ServiceUnavailable',
    code: 503,
  });
}

/**
 * The API served on the HTTP thread from an in-process checker (the web app without worker
 * threads).
 */
export function inProcessKubectl(opts: {
  owner(token: string): TokenOwner | undefined;
  lab(id: string): Promise<Lab>;
  checker: SimulatedChecker;
}): KubectlEndpoint {
  const api = new SimApi(
    checkerBackedApi(opts.checker, opts.lab, (token) => (token ? opts.owner(token) : undefined)),
  );
  return {
    handle: (req, res) => api.handle(req, res),
    upgrade: (req, socket, head) => api.upgrade(req, socket, head),
    close: async () => api.close(),
  };
}

/**
 * SimApi options for clusters kept by a SimulatedChecker: `ownerOf` says whose cluster a request
 * is for (from its token, or from the forwarding headers in a worker).
 */
export function checkerBackedApi(
  checker: SimulatedChecker,
  lab: (id: string) => Promise<Lab>,
  ownerOf: (token: string | undefined, req: IncomingMessage) => TokenOwner | undefined,
): ConstructorParameters<typeof SimApi>[0] {
  return {
    clusterFor: async (token, req) => {
      const owner = ownerOf(token, req);
      if (!owner) return undefined;
      const cluster = await checker.live(await lab(owner.labId), owner.learnerId);
      return cluster instanceof SimulatedCluster ? cluster : undefined;
    },
    onChange: (_cluster, token, req) => {
      const owner = ownerOf(token, req);
      if (owner) void lab(owner.labId).then((l) => checker.changed(l, owner.learnerId));
    },
  };
}

/** In a worker: whose cluster a forwarded request is for, believed only with the pool's secret. */
export function forwardedOwner(secret: string, req: IncomingMessage): TokenOwner | undefined {
  const h = req.headers;
  if (h[FORWARD_HEADERS.secret] !== secret) return undefined;
  const learnerId = h[FORWARD_HEADERS.learner];
  const labId = h[FORWARD_HEADERS.lab];
  return typeof learnerId === 'string' && typeof labId === 'string' ? { learnerId, labId } : undefined;
}

/** The HTTP thread's side when worker threads own the clusters: forward to the owning worker. */
export function forwardingKubectl(opts: {
  owner(token: string): TokenOwner | undefined;
  /** The loopback port of the worker that owns this learner's clusters. */
  workerPort(learnerId: string): Promise<number>;
  secret: string;
}): KubectlEndpoint {
  const target = async (req: IncomingMessage) => {
    const { token } = credentialsOf(req);
    const owner = token ? opts.owner(token) : undefined;
    if (!owner) return undefined;
    const headers: IncomingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) if (!k.startsWith('x-kubelab-')) headers[k] = v;
    headers[FORWARD_HEADERS.secret] = opts.secret;
    headers[FORWARD_HEADERS.learner] = owner.learnerId;
    headers[FORWARD_HEADERS.lab] = owner.labId;
    return { port: await opts.workerPort(owner.learnerId), headers };
  };
  const answer = (res: ServerResponse, code: number, body: string) => {
    if (res.headersSent) return void res.destroy();
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  };
  return {
    handle(req, res) {
      target(req).then(
        (t) => {
          if (!t) return answer(res, 401, UNAUTHORIZED);
          const upstream = request(
            { host: '127.0.0.1', port: t.port, method: req.method, path: req.url, headers: t.headers },
            (up) => {
              res.writeHead(up.statusCode ?? 502, up.headers);
              // Watches answer headers first and events later: the client must see the headers now.
              res.flushHeaders();
              up.pipe(res);
            },
          );
          upstream.on('error', (e) => answer(res, 503, unavailable(e.message)));
          // A client that stops watching closes its side: stop the worker's stream too.
          res.on('close', () => upstream.destroy());
          req.pipe(upstream);
        },
        (e: unknown) => answer(res, 503, unavailable(e instanceof Error ? e.message : String(e))),
      );
    },
    upgrade(req, socket, head) {
      socket.on('error', () => socket.destroy());
      target(req).then(
        (t) => {
          if (!t)
            return void socket.end(
              `HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(UNAUTHORIZED)}\r\nConnection: close\r\n\r\n${UNAUTHORIZED}`,
            );
          const up = connect(t.port, '127.0.0.1', () => {
            const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1`];
            for (const [k, v] of Object.entries(t.headers)) {
              for (const value of Array.isArray(v) ? v : [v])
                if (value !== undefined) lines.push(`${k}: ${value}`);
            }
            up.write(`${lines.join('\r\n')}\r\n\r\n`);
            if (head.length > 0) up.write(head);
            socket.pipe(up);
            up.pipe(socket);
          });
          up.on('error', () => socket.destroy());
          socket.on('close', () => up.destroy());
        },
        () => socket.destroy(),
      );
    },
  };
}

/** Is this a request for the learners' Kubernetes API? */
export function isKubectlPath(url: string | undefined): boolean {
  return (url ?? '').startsWith('/sim/');
}
