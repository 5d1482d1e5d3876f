/**
 * The simulated cluster's face to kubectl and client-node: the Kubernetes REST API over HTTP on
 * loopback (discovery, server-side tables, the verbs of ./resources.ts, exec over WebSocket,
 * watch). Which cluster a request reaches is decided by its bearer token, so one endpoint can
 * serve every learner and no learner can reach another's cluster.
 *
 * What the simulation does not serve is answered with a Status saying so (404/405/415), never
 * with something that merely looks right.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { SimulatedCluster } from '../cluster.js';
import { allKinds, type KindInfo } from '../kinds.js';
import type { KubeObject } from '../../types.js';
import {
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
  openApiV3Doc,
  openApiV3Root,
  SUBRESOURCES,
  versionInfo,
} from './discovery.js';
import { ExecStreams } from './exec-stream.js';
import { parseBody, Resources } from './resources.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { ApiError, failure, fromKubelabError, unsupported } from './status.js';
import { table } from './table.js';
import { Watches } from './watch.js';

export interface SimApiOptions {
  /**
   * The cluster a token opens (undefined for an unknown or missing token: 401). The request is
   * there for a server that forwards requests on behalf of another (the web app's worker threads).
   */
  clusterFor(
    token: string | undefined,
    req: IncomingMessage,
  ): SimulatedCluster | undefined | Promise<SimulatedCluster | undefined>;
  /** Told after every change a request made (the web app saves the learner's cluster). */
  onChange?(cluster: SimulatedCluster, token: string | undefined, req: IncomingMessage): void;
  /** Largest request body accepted, in bytes (default 3 MiB, as the API server's limit). */
  maxBodyBytes?: number;
}

interface Route {
  info: KindInfo;
  namespace?: string;
  name?: string;
  sub?: string;
}

const MAX_BODY = 3 * 1024 * 1024;

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Warnings travel as HTTP `Warning` headers (code 299), which kubectl prints as `Warning: ...`. */
function addWarnings(res: ServerResponse, warnings: string[]): void {
  if (warnings.length === 0) return;
  res.setHeader(
    'Warning',
    warnings.map((w) => `299 - ${JSON.stringify(w.replace(/[\r\n]+/g, ' '))}`),
  );
}

function sendError(res: ServerResponse, e: unknown): void {
  const err = e instanceof ApiError ? e : fromKubelabError(e);
  send(res, err.status.code, err.status);
}

/**
 * Where a request's token is: kubectl sends no bearer token to a plain-HTTP server, so the
 * kubeconfig puts the learner's token in the server URL instead (`http://127.0.0.1:P/sim/TOKEN`);
 * an Authorization header is honoured too. Returns the token and the API path after the prefix.
 */
export function credentialsOf(req: IncomingMessage): {
  token: string | undefined;
  path: string;
  query: URLSearchParams;
} {
  const url = new URL(req.url ?? '/', 'http://sim');
  const prefixed = /^\/sim\/([A-Za-z0-9_-]+)(\/.*)?$/.exec(url.pathname);
  const auth = req.headers.authorization;
  const bearer = typeof auth === 'string' ? /^Bearer\s+(\S+)$/i.exec(auth)?.[1] : undefined;
  return {
    token: prefixed ? prefixed[1] : bearer,
    path: prefixed ? (prefixed[2] ?? '/') : url.pathname,
    query: url.searchParams,
  };
}

/** The base URL a kubeconfig names for one learner's cluster. */
export function simServerUrl(base: string, token: string): string {
  return `${base.replace(/\/+$/, '')}/sim/${token}`;
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit)
      throw failure(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function wantsTable(req: IncomingMessage): boolean {
  return /as=Table/.test(String(req.headers.accept ?? ''));
}

/** Splits `/api/v1/...` and `/apis/G/V/...` into the kind and object they address. */
function route(path: string): Route | 'discovery' | undefined {
  const parts = path
    .split('/')
    .filter((p) => p !== '')
    .map(decodeURIComponent);
  let gv: string;
  let rest: string[];
  if (parts[0] === 'api' && parts[1] === 'v1') {
    gv = 'v1';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    gv = `${parts[1]}/${parts[2]}`;
    rest = parts.slice(3);
  } else return undefined;
  if (rest.length === 0) return 'discovery';
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const info = allKinds().find((k) => k.apiVersion === gv && k.resource === rest[0]);
  if (!info || rest.length > 3) return undefined;
  if (info.namespaced === false && namespace !== undefined) return undefined;
  return {
    info,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(rest[1] !== undefined ? { name: rest[1] } : {}),
    ...(rest[2] !== undefined ? { sub: rest[2] } : {}),
  };
}

export class SimApi {
  private readonly exec = new ExecStreams();
  private readonly watches = new Watches();

  constructor(private readonly opts: SimApiOptions) {}

  /** Answers one HTTP request (never throws). */
  handle(req: IncomingMessage, res: ServerResponse): void {
    this.serve(req, res).catch((e: unknown) => {
      if (!res.headersSent) sendError(res, e);
      else res.end();
    });
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const creds = credentialsOf(req);
    const cluster = await this.opts.clusterFor(creds.token, req);
    if (!cluster) {
      send(res, 401, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'Unauthorized',
        reason: 'Unauthorized',
        code: 401,
      });
      return;
    }
    const method = req.method ?? 'GET';
    const path = creds.path.replace(/\/+$/, '') || '/';
    if (method === 'GET') {
      const doc = discovery(path, req.headers.host ?? '127.0.0.1');
      if (doc !== undefined) return send(res, 200, doc);
    }
    const review =
      /^\/apis\/authorization\.k8s\.io\/v1\/(selfsubjectaccessreviews|selfsubjectrulesreviews)$/.exec(path);
    if (review) {
      if (method !== 'POST') throw unsupported(405, `${method} on ${review[1]} (they are only created)`);
      // kubectl sends reviews as protobuf; the answer does not depend on the question, so the
      // body is echoed only when it is JSON (clients accept a JSON answer either way).
      const raw = await readBody(req, this.opts.maxBodyBytes ?? MAX_BODY);
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        body = undefined;
      }
      return send(res, 201, reviewAnswer(review[1]!, body));
    }
    const r = route(path);
    if (r === undefined || r === 'discovery') {
      if (/^\/openapi\//.test(path))
        throw unsupported(404, `the OpenAPI documents (${path}); kubectl validates and patches without them`);
      throw failure(404, 'NotFound', 'the server could not find the requested resource');
    }
    const q = creds.query;
    const dryRun = q.getAll('dryRun').includes('All');
    const fieldManager = q.get('fieldManager') ?? undefined;
    const writeOpts = {
      dryRun,
      ...(fieldManager ? { fieldManager } : {}),
      ...(q.get('force') === 'true' ? { force: true } : {}),
    };
    const resources = new Resources(cluster);
    const { info, namespace, name, sub } = r;
    if (info.namespaced && name !== undefined && namespace === undefined)
      throw failure(404, 'NotFound', 'the server could not find the requested resource');
    const changed = () => {
      if (!dryRun) {
        this.watches.poke(cluster);
        this.opts.onChange?.(cluster, creds.token, req);
      }
    };

    if (sub !== undefined)
      return this.subresource(
        req,
        res,
        resources,
        r as Route & { name: string; sub: string },
        cluster,
        changed,
      );

    if (name === undefined) {
      if (method === 'GET') {
        const labelMatch = parseLabelSelector(q.get('labelSelector'));
        const fieldMatch = parseFieldSelector(q.get('fieldSelector'));
        const filter = (o: KubeObject) => labelMatch(o.metadata.labels ?? {}) && fieldMatch(o);
        if (q.get('watch') === 'true' || q.get('watch') === '1') {
          this.watches.open(req, res, {
            cluster,
            info,
            namespace,
            filter,
            table: wantsTable(req),
            since: q.get('resourceVersion') ?? undefined,
          });
          return;
        }
        const items = resources.list(info, namespace).filter(filter);
        if (wantsTable(req)) {
          return send(
            res,
            200,
            table(info.kind, items, {
              now: cluster.clock(),
              resourceVersion: cluster.resourceVersion,
              includeObject: includeOf(q),
            }),
          );
        }
        return send(res, 200, {
          kind: `${info.kind}List`,
          apiVersion: info.apiVersion,
          metadata: { resourceVersion: cluster.resourceVersion },
          items,
        });
      }
      if (method === 'POST') {
        if (info.namespaced && namespace === undefined)
          throw failure(404, 'NotFound', 'the server could not find the requested resource');
        const body = parseBody(await readBody(req, this.opts.maxBodyBytes ?? MAX_BODY), 'yaml');
        const created = await resources.create(info, namespace, body, writeOpts);
        changed();
        addWarnings(res, resources.warnings);
        return send(res, 201, created);
      }
      throw unsupported(405, `${method} on a collection of ${info.resource} (delete objects one by one)`);
    }

    switch (method) {
      case 'GET': {
        const obj = resources.get(info, namespace, name);
        if (wantsTable(req))
          return send(
            res,
            200,
            table(info.kind, [obj], {
              now: cluster.clock(),
              resourceVersion: cluster.resourceVersion,
              includeObject: includeOf(q),
            }),
          );
        return send(res, 200, obj);
      }
      case 'PUT': {
        const body = parseBody(await readBody(req, this.opts.maxBodyBytes ?? MAX_BODY), 'json');
        const obj = await resources.replace(info, namespace, name, body, writeOpts);
        changed();
        addWarnings(res, resources.warnings);
        return send(res, 200, obj);
      }
      case 'PATCH': {
        const raw = await readBody(req, this.opts.maxBodyBytes ?? MAX_BODY);
        const { object, created } = await resources.patch(
          info,
          namespace,
          name,
          String(req.headers['content-type'] ?? ''),
          raw,
          writeOpts,
        );
        changed();
        addWarnings(res, resources.warnings);
        return send(res, created ? 201 : 200, object);
      }
      case 'DELETE': {
        // kubectl puts dryRun in the DeleteOptions body rather than in the query.
        const raw = await readBody(req, this.opts.maxBodyBytes ?? MAX_BODY);
        const options = raw.trim() === '' ? {} : parseBody(raw, 'json');
        const bodyDryRun =
          typeof options === 'object' &&
          options !== null &&
          Array.isArray((options as { dryRun?: unknown }).dryRun)
            ? (options as { dryRun: unknown[] }).dryRun.includes('All')
            : false;
        const obj = await resources.delete(info, namespace, name, { dryRun: dryRun || bodyDryRun });
        if (bodyDryRun) return send(res, 200, obj);
        changed();
        return send(res, 200, obj);
      }
      default:
        throw unsupported(405, `${method} on ${info.resource}`);
    }
  }

  private async subresource(
    req: IncomingMessage,
    res: ServerResponse,
    resources: Resources,
    r: Route & { name: string; sub: string },
    cluster: SimulatedCluster,
    changed: () => void,
  ): Promise<void> {
    const { info, namespace, name, sub } = r;
    const method = req.method ?? 'GET';
    if (!(SUBRESOURCES[info.resource] ?? []).includes(sub))
      throw failure(404, 'NotFound', 'the server could not find the requested resource');
    if (sub === 'exec') {
      resources.get(info, namespace, name);
      throw failure(
        400,
        'BadRequest',
        'the simulated cluster (kubelab) runs exec over WebSocket only (v5.channel.k8s.io): use kubectl 1.30 or newer (older ones speak SPDY)',
      );
    }
    if (sub === 'log') {
      const pod = resources.get(info, namespace, name);
      const text = containerLog(pod, credentialsOf(req).query.get('container') ?? undefined);
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    if (sub === 'status') {
      if (method === 'GET') return send(res, 200, resources.get(info, namespace, name));
      throw unsupported(405, `writing ${info.resource}/status: the simulation's controllers own it`);
    }
    // scale
    if (method === 'GET') return send(res, 200, resources.scale(info, namespace, name));
    const raw = await readBody(req, this.opts.maxBodyBytes ?? MAX_BODY);
    let scale: unknown;
    if (method === 'PUT') scale = parseBody(raw, 'json');
    else if (method === 'PATCH') {
      const { mergePatch, jsonPatch } = await import('./patch.js');
      const type = String(req.headers['content-type'] ?? '').split(';')[0];
      const current = resources.scale(info, namespace, name);
      scale =
        type === 'application/json-patch+json'
          ? jsonPatch(current, parseBody(raw, 'json'))
          : mergePatch(current, parseBody(raw, 'json'));
    } else throw unsupported(405, `${method} on ${info.resource}/scale`);
    const dryRun = credentialsOf(req).query.getAll('dryRun').includes('All');
    const out = await resources.setScale(info, namespace, name, scale, { dryRun });
    changed();
    void cluster;
    return send(res, 200, out);
  }

  /** WebSocket upgrades: exec only. Anything else is refused with a Status. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.upgradeAsync(req, socket, head).catch(() => socket.destroy());
  }

  private async upgradeAsync(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const refuse = (code: number, message: string) => {
      const body = JSON.stringify({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message,
        code,
      });
      socket.end(
        `HTTP/1.1 ${code} ${code === 401 ? 'Unauthorized' : code === 404 ? 'Not Found' : 'Bad Request'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    };
    const creds = credentialsOf(req);
    const cluster = await this.opts.clusterFor(creds.token, req);
    if (!cluster) return refuse(401, 'Unauthorized');
    const r = route(creds.path);
    if (!r || r === 'discovery' || r.info.kind !== 'Pod' || r.sub !== 'exec' || !r.name || !r.namespace)
      return refuse(404, 'the simulated cluster (kubelab) upgrades only pods/exec connections');
    if (!ExecStreams.speaks(req))
      return refuse(
        400,
        'the simulated cluster (kubelab) speaks exec over WebSocket with v5.channel.k8s.io or v4.channel.k8s.io only: use kubectl 1.30 or newer',
      );
    if (!cluster.get('Pod', r.name, r.namespace)) return refuse(404, `pods "${r.name}" not found`);
    const q = creds.query;
    const command = q.getAll('command');
    if (command.length === 0) return refuse(400, 'you must specify at least 1 command');
    const container = q.get('container') ?? undefined;
    this.exec.upgrade(req, socket, head, {
      cluster,
      namespace: r.namespace,
      pod: r.name,
      ...(container ? { container } : {}),
      command,
      tty: q.get('tty') === 'true' || q.get('tty') === '1',
      stdin: q.get('stdin') === 'true' || q.get('stdin') === '1',
    });
  }

  close(): void {
    this.exec.close();
    this.watches.close();
  }
}

/**
 * `kubectl auth can-i`: the simulation has no RBAC yet, so the learner may do everything, and the
 * answer says why.
 */
function reviewAnswer(resource: string, body: unknown): unknown {
  const spec = typeof body === 'object' && body !== null ? (body as { spec?: unknown }).spec : undefined;
  const base = {
    apiVersion: 'authorization.k8s.io/v1',
    metadata: { creationTimestamp: null },
    spec: spec ?? {},
  };
  if (resource === 'selfsubjectaccessreviews')
    return {
      ...base,
      kind: 'SelfSubjectAccessReview',
      status: {
        allowed: true,
        reason: 'the simulated cluster (kubelab) has no RBAC yet: everything is allowed',
      },
    };
  return {
    ...base,
    kind: 'SelfSubjectRulesReview',
    status: {
      resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
      nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
      incomplete: false,
    },
  };
}

/**
 * A container's log, where the simulation knows it: agnhost porter prints nothing while it serves
 * (it logs only when a listener fails). Other programs' output is not modelled: refused, not made up.
 */
function containerLog(pod: KubeObject, container: string | undefined): string {
  const spec = (pod.spec ?? {}) as { containers?: Array<{ name?: string; image?: string; args?: unknown }> };
  const containers = spec.containers ?? [];
  const name = pod.metadata.name;
  if (container === undefined && containers.length > 1)
    throw badRequestStatus(
      `a container name must be specified for pod ${name}, choose one of: [${containers.map((c) => c.name).join(' ')}]`,
    );
  const c = container === undefined ? containers[0] : containers.find((x) => x.name === container);
  if (!c) throw badRequestStatus(`container ${container ?? ''} is not valid for pod ${name}`);
  const args = Array.isArray(c.args) ? c.args : [];
  if (/(^|\/)agnhost:/.test(c.image ?? '') && args[0] === 'porter') return '';
  throw unsupported(
    404,
    `the log of container ${c.name ?? ''} in pod ${name} (${c.image ?? 'no image'}${args.length ? ` ${args.join(' ')}` : ''}): only agnhost porter's (which prints nothing while it serves) is known`,
  );
}

function badRequestStatus(message: string): ApiError {
  return failure(400, 'BadRequest', message);
}

function includeOf(q: URLSearchParams): 'Metadata' | 'Object' | 'None' {
  const v = q.get('includeObject');
  return v === 'Object' ? 'Object' : v === 'None' ? 'None' : 'Metadata';
}

function discovery(path: string, host: string): unknown {
  if (path === '/version') return versionInfo();
  if (path === '/openapi/v3') return openApiV3Root();
  if (path.startsWith('/openapi/v3/')) return openApiV3Doc(path.slice('/openapi/v3/'.length));
  if (path === '/api') return apiVersions(host);
  if (path === '/apis') return apiGroupList();
  if (path === '/api/v1') return apiResourceList('v1');
  const group = /^\/apis\/([^/]+)$/.exec(path);
  if (group) return apiGroup(group[1]!);
  const gv = /^\/apis\/([^/]+\/[^/]+)$/.exec(path);
  if (gv) return apiResourceList(gv[1]!);
  return undefined;
}

export interface RunningSimApi {
  url: string;
  port: number;
  server: Server;
  api: SimApi;
  close(): Promise<void>;
}

/** Serves the API on its own HTTP server (loopback unless told otherwise). */
export async function listenSimApi(
  opts: SimApiOptions & { host?: string; port?: number },
): Promise<RunningSimApi> {
  const api = new SimApi(opts);
  const server = createServer((req, res) => api.handle(req, res));
  server.on('upgrade', (req, socket, head) => api.upgrade(req, socket, head));
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    server,
    api,
    close: () =>
      new Promise<void>((resolve) => {
        api.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
