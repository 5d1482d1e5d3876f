/**
 * A small Kubernetes API server over loopback HTTP, enough for KubeCluster: discovery, server-side
 * apply (PATCH), read, list, delete, /version, and pod exec over a websocket speaking the
 * v5.channel.k8s.io protocol. It records every request so tests can assert what went on the wire.
 * Real HTTP and the real client library beat mocks: this catches serialization traps end to end.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

interface Resource {
  name: string;
  kind: string;
  namespaced: boolean;
}

const DISCOVERY: Record<string, Resource[]> = {
  '/api/v1': [
    { name: 'namespaces', kind: 'Namespace', namespaced: false },
    { name: 'nodes', kind: 'Node', namespaced: false },
    { name: 'pods', kind: 'Pod', namespaced: true },
    { name: 'services', kind: 'Service', namespaced: true },
    { name: 'endpoints', kind: 'Endpoints', namespaced: true },
    { name: 'configmaps', kind: 'ConfigMap', namespaced: true },
    { name: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true },
  ],
  '/apis/apps/v1': [
    { name: 'deployments', kind: 'Deployment', namespaced: true },
    { name: 'statefulsets', kind: 'StatefulSet', namespaced: true },
    { name: 'daemonsets', kind: 'DaemonSet', namespaced: true },
    { name: 'replicasets', kind: 'ReplicaSet', namespaced: true },
  ],
  '/apis/networking.k8s.io/v1': [{ name: 'networkpolicies', kind: 'NetworkPolicy', namespaced: true }],
  '/apis/apiextensions.k8s.io/v1': [
    { name: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false },
  ],
  '/apis/example.com/v1': [{ name: 'widgets', kind: 'Widget', namespaced: true }],
};

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType?: string;
  body?: unknown;
}

export interface ExecCall {
  namespace: string;
  pod: string;
  container: string | null;
  command: string[];
}

export type ExecReply =
  | { stdout?: string; stderr?: string; status: unknown }
  | { stdout?: string; closeWithoutStatus: true }
  | { hang: true }
  | { httpStatus: number };

type Obj = Record<string, unknown> & { metadata: Record<string, unknown> };

export interface FakeApiServer {
  url: string;
  kubeconfigYaml: string;
  requests: RecordedRequest[];
  execCalls: ExecCall[];
  /** Objects by `<group path>/<namespace or ->/<resource>/<name>`. */
  store: Map<string, Obj>;
  put(groupPath: string, resource: string, obj: Obj): void;
  /** Next matching request answers with this status and body instead. */
  failNext(method: string, pathIncludes: string, status: number, body?: unknown): void;
  /** Requests matching never get an answer (for client-side deadlines). */
  hang(method: string, pathIncludes: string): void;
  /** Called before each GET/LIST so tests can move state along as time passes. */
  onRead?: (path: string) => void;
  execHandler: (call: ExecCall) => ExecReply;
  /** Namespace deletions keep the namespace (Terminating) for this many reads. */
  terminatingReads: number;
  close(): Promise<void>;
}

function findResource(groupPath: string, resource: string): Resource | undefined {
  return DISCOVERY[groupPath]?.find((r) => r.name === resource);
}

/** Splits `/apis/apps/v1/namespaces/x/deployments/y` into its parts. */
function parsePath(
  path: string,
): { groupPath: string; namespace?: string; resource: string; name?: string } | undefined {
  const m = /^(\/api\/v1|\/apis\/[^/]+\/[^/]+)(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?$/.exec(path);
  if (!m) return undefined;
  const [, groupPath, namespace, resource, name] = m;
  // `/api/v1/namespaces/x` is the Namespace x itself, not the namespace of something.
  if (namespace && !resource) return undefined;
  return {
    groupPath: groupPath!,
    ...(namespace ? { namespace } : {}),
    resource: resource!,
    ...(name ? { name } : {}),
  };
}

const status = (code: number, reason: string, message: string, details?: unknown) => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message,
  reason,
  ...(details ? { details } : {}),
  code,
});

export async function startFakeApiServer(): Promise<FakeApiServer> {
  const requests: RecordedRequest[] = [];
  const execCalls: ExecCall[] = [];
  const store = new Map<string, Obj>();
  const failures: Array<{ method: string; pathIncludes: string; status: number; body?: unknown }> = [];
  const hangs: Array<{ method: string; pathIncludes: string }> = [];
  const pending = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  const terminating = new Map<string, number>();
  let rv = 1;

  const keyOf = (groupPath: string, namespace: string | undefined, resource: string, name: string) =>
    `${groupPath}/${namespace ?? '-'}/${resource}/${name}`;

  const fake: FakeApiServer = {
    url: '',
    kubeconfigYaml: '',
    requests,
    execCalls,
    store,
    terminatingReads: 0,
    put(groupPath, resource, obj) {
      const meta = obj.metadata;
      store.set(keyOf(groupPath, meta.namespace as string | undefined, resource, String(meta.name)), {
        ...obj,
        metadata: { ...meta, resourceVersion: String(rv++), uid: `uid-${String(meta.name)}` },
      });
    },
    failNext(method, pathIncludes, code, body) {
      failures.push({ method, pathIncludes, status: code, body });
    },
    hang(method, pathIncludes) {
      hangs.push({ method, pathIncludes });
    },
    execHandler: () => ({ status: { metadata: {}, status: 'Success' } }),
    close: async () => {},
  };

  const send = (res: ServerResponse, code: number, body: unknown) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const method = req.method ?? 'GET';
    const recorded: RecordedRequest = { method, path: url.pathname, query: url.searchParams };
    if (req.headers['content-type']) recorded.contentType = req.headers['content-type'];
    if (text) recorded.body = JSON.parse(text);
    requests.push(recorded);

    if (hangs.some((h) => h.method === method && url.pathname.includes(h.pathIncludes))) {
      pending.add(res);
      return;
    }
    const f = failures.findIndex((x) => x.method === method && url.pathname.includes(x.pathIncludes));
    if (f >= 0) {
      const [failure] = failures.splice(f, 1);
      return send(
        res,
        failure!.status,
        failure!.body ?? status(failure!.status, 'Failed', 'injected failure'),
      );
    }
    if (url.pathname === '/version')
      return send(res, 200, { major: '1', minor: '35', gitVersion: 'v1.35.0', platform: 'linux/amd64' });
    const discovery = DISCOVERY[url.pathname];
    if (discovery) {
      const groupVersion = url.pathname.replace(/^\/apis?\//, '');
      return send(res, 200, {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion,
        resources: discovery.map((r) => ({
          name: r.name,
          singularName: '',
          namespaced: r.namespaced,
          kind: r.kind,
          verbs: ['create', 'delete', 'get', 'list', 'patch'],
        })),
      });
    }
    const parts = parsePath(url.pathname);
    const resource = parts && findResource(parts.groupPath, parts.resource);
    if (!parts || !resource)
      return send(
        res,
        404,
        status(404, 'NotFound', `the server could not find the requested resource (${url.pathname})`),
      );
    const apiVersion = parts.groupPath.replace(/^\/apis?\//, '');

    if (method === 'GET' && !parts.name) {
      fake.onRead?.(url.pathname);
      const prefix = `${parts.groupPath}/`;
      const selector = url.searchParams.get('labelSelector');
      const items = [...store.entries()]
        .filter(([k]) => k.startsWith(prefix) && k.split('/').slice(-2, -1)[0] === parts.resource)
        .filter(([k]) => !parts.namespace || k.startsWith(`${prefix}${parts.namespace}/`))
        .map(([, v]) => v)
        .filter((o) => {
          if (!selector) return true;
          const labels = (o.metadata.labels ?? {}) as Record<string, string>;
          return selector.split(',').every((term) => {
            const [k, v] = term.split('=');
            return labels[k!] === v;
          });
        })
        // Like a real API server, list items carry no apiVersion/kind.
        .map(({ apiVersion: _a, kind: _k, ...rest }) => rest);
      return send(res, 200, {
        kind: `${resource.kind}List`,
        apiVersion,
        metadata: { resourceVersion: String(rv) },
        items,
      });
    }
    const key = keyOf(parts.groupPath, parts.namespace, parts.resource, parts.name ?? '');
    if (method === 'GET') {
      fake.onRead?.(url.pathname);
      const obj = store.get(key);
      if (!obj)
        return send(
          res,
          404,
          status(404, 'NotFound', `${parts.resource} "${parts.name}" not found`, {
            name: parts.name,
            kind: parts.resource,
          }),
        );
      if (resource.kind === 'Namespace' && terminating.has(key)) {
        const left = terminating.get(key)!;
        if (left <= 0) {
          store.delete(key);
          terminating.delete(key);
          return send(res, 404, status(404, 'NotFound', `namespaces "${parts.name}" not found`));
        }
        terminating.set(key, left - 1);
      }
      return send(res, 200, obj);
    }
    if (method === 'PATCH') {
      const body = recorded.body as Obj;
      const existing = store.get(key);
      const { resourceVersion: _rv, uid: _uid, ...incomingMeta } = body.metadata;
      const same =
        existing &&
        JSON.stringify({
          ...existing,
          metadata: { ...existing.metadata, resourceVersion: undefined, uid: undefined },
        }) ===
          JSON.stringify({
            ...body,
            metadata: { ...incomingMeta, resourceVersion: undefined, uid: undefined },
          });
      if (same) return send(res, 200, existing);
      const stored: Obj = {
        ...body,
        metadata: {
          ...incomingMeta,
          resourceVersion: String(rv++),
          uid: (existing?.metadata.uid as string) ?? `uid-${parts.name}`,
        },
      };
      if (resource.kind === 'CustomResourceDefinition')
        stored.status = { conditions: [{ type: 'Established', status: 'True' }] };
      store.set(key, stored);
      return send(res, existing ? 200 : 201, stored);
    }
    if (method === 'DELETE') {
      const obj = store.get(key);
      if (!obj) return send(res, 404, status(404, 'NotFound', `${parts.resource} "${parts.name}" not found`));
      if (resource.kind === 'Namespace' && fake.terminatingReads > 0) {
        terminating.set(key, fake.terminatingReads);
        obj.status = { phase: 'Terminating' };
      } else {
        store.delete(key);
      }
      return send(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' });
    }
    return send(res, 405, status(405, 'MethodNotAllowed', `${method} not supported by the fake`));
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => send(res, 500, status(500, 'InternalError', String(e))));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => (protocols.has('v5.channel.k8s.io') ? 'v5.channel.k8s.io' : false),
  });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/.exec(url.pathname);
    if (!m) {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    const call: ExecCall = {
      namespace: m[1]!,
      pod: m[2]!,
      container: url.searchParams.get('container'),
      command: url.searchParams.getAll('command'),
    };
    execCalls.push(call);
    const reply = fake.execHandler(call);
    if ('httpStatus' in reply) {
      socket.end(`HTTP/1.1 ${reply.httpStatus} Refused\r\ncontent-length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      if ('hang' in reply) return;
      const frame = (channel: number, text: string) =>
        ws.send(Buffer.concat([Buffer.from([channel]), Buffer.from(text)]));
      if (reply.stdout) frame(1, reply.stdout);
      if ('status' in reply) {
        if (reply.stderr) frame(2, reply.stderr);
        frame(3, JSON.stringify(reply.status));
      }
      ws.close();
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  fake.url = `http://127.0.0.1:${port}`;
  fake.kubeconfigYaml = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: fake`,
    `  cluster: {server: "${fake.url}", insecure-skip-tls-verify: true}`,
    'users:',
    '- name: fake',
    '  user: {token: test-token}',
    'contexts:',
    '- name: fake',
    '  context: {cluster: fake, user: fake}',
    'current-context: fake',
    '',
  ].join('\n');
  fake.close = async () => {
    for (const res of pending) res.destroy();
    for (const client of wss.clients) client.terminate();
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return fake;
}
