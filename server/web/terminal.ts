/**
 * The lab page's terminal over a WebSocket at `/terminal/LAB`: who may open one, and the wiring of
 * a TerminalSession (server/terminal) to the socket and to a kubectl that reaches only this
 * learner's own cluster.
 *
 * Who: the learner named by the signed cookie (no cookie, no terminal: the socket never creates an
 * identity), from a page of this very server (the Origin must be ours: a WebSocket is not bound by
 * the same-origin policy, so without this any web site could drive a learner's kubectl), on a
 * Host the app answers to. Messages are JSON: {type: hello|input|resize} in, {type:
 * output|history|unavailable} out.
 */
import cookieParser from 'cookie-parser';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { isKubelabError } from '../errors.js';
import { isLearnerId } from '../store/index.js';
import { kubectlRunner } from '../terminal/kubectl-runner.js';
import { MAX_HISTORY, MAX_LINE } from '../terminal/line-editor.js';
import { TerminalSession } from '../terminal/session.js';
import { LAB_ID } from './actions.js';
import type { AppContext } from './app.js';
import { LEARNER_COOKIE } from './learner.js';
import { hostAllowed, sameOrigin } from './security.js';

const PATH = /^\/terminal\/([^/?#]+)(?:\?.*)?$/;
/** Terminals open at once, per learner and in all (each may run a kubectl). */
const PER_LEARNER = 4;
const IN_ALL = 64;

export function isTerminalPath(url: string | undefined): boolean {
  return PATH.test(url ?? '');
}

export interface TerminalView {
  /** on: connect; off / no-kubectl / real-cluster: show `message` instead. */
  state: 'on' | 'off' | 'no-kubectl' | 'real-cluster';
  message?: string;
}

export const INSTALL_KUBECTL =
  'kubectl is not installed on the machine that runs kubelab, so the terminal is off (the rest of the page works as before). Install kubectl 1.30 or newer (https://kubernetes.io/docs/tasks/tools/; on Debian or Ubuntu from pkgs.k8s.io, on macOS `brew install kubectl`), make sure `kubectl version --client` works, then restart kubelab. Or set KUBELAB_KUBECTL to its path.';

/** What the lab page shows in the terminal pane. */
export function terminalView(ctx: AppContext): TerminalView {
  const t = ctx.deps.terminal;
  if (!t) return { state: 'off', message: 'The terminal is not enabled on this server.' };
  if (!t.enabled) return { state: 'off', message: t.disabledReason ?? 'The terminal is off on this server.' };
  if (!t.kubectl) return { state: 'no-kubectl', message: INSTALL_KUBECTL };
  if (ctx.state.active.info.mode === 'kube' && !t.realClusterKubeconfig)
    return {
      state: 'real-cluster',
      message:
        'The terminal reaches a real cluster only when kubelab serves on this machine alone (127.0.0.1): use kubectl in a terminal of your own.',
    };
  return { state: 'on' };
}

function learnerFromCookie(header: string | undefined, secret: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== LEARNER_COOKIE) continue;
    let raw: string;
    try {
      raw = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return undefined;
    }
    const id = cookieParser.signedCookie(raw, secret);
    return typeof id === 'string' && isLearnerId(id) ? id : undefined;
  }
  return undefined;
}

function deny(socket: Duplex, status: number, text: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${status === 403 ? 'Forbidden' : status === 404 ? 'Not Found' : 'Unavailable'}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  );
}

/** The address this server was reached on, as kubectl on this machine reaches it. */
function selfOrigin(req: IncomingMessage): string {
  const address = (req.socket.localAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  const host = address.includes(':') ? `[${address}]` : address;
  const wildcard = address === '0.0.0.0' || address === '::';
  return `http://${wildcard ? '127.0.0.1' : host}:${req.socket.localPort ?? 80}`;
}

export class TerminalEndpoint {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 256 * 1024 });
  private readonly open = new Map<string, number>();
  private total = 0;

  constructor(private readonly ctx: AppContext) {}

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const { deps } = this.ctx;
    if (!hostAllowed(deps.allowedHostnames, req.headers.host)) return deny(socket, 403, 'host not allowed');
    const origin = req.headers.origin;
    const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true;
    if (!origin || !sameOrigin(origin, encrypted ? 'https' : 'http', req.headers.host))
      return deny(socket, 403, "the terminal opens only from this server's own pages");
    const learnerId = learnerFromCookie(req.headers.cookie, deps.store.cookieSecret());
    if (!learnerId) return deny(socket, 403, 'no learner: reload the lab page');
    const labId = decodeURIComponent(PATH.exec(req.url ?? '')?.[1] ?? '');
    if (!LAB_ID.test(labId)) return deny(socket, 404, 'no such lab');
    const view = terminalView(this.ctx);
    if (view.state !== 'on') return deny(socket, 503, view.message ?? 'the terminal is off');
    if ((this.open.get(learnerId) ?? 0) >= PER_LEARNER || this.total >= IN_ALL)
      return deny(socket, 503, 'too many terminals are open: close one');
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      void this.serve(ws, req, learnerId, labId);
    });
  }

  close(): void {
    for (const c of this.wss.clients) c.terminate();
    this.wss.close();
  }

  private async serve(ws: WebSocket, req: IncomingMessage, learnerId: string, labId: string): Promise<void> {
    this.open.set(learnerId, (this.open.get(learnerId) ?? 0) + 1);
    this.total++;
    const release = () => {
      const n = (this.open.get(learnerId) ?? 1) - 1;
      if (n <= 0) this.open.delete(learnerId);
      else this.open.set(learnerId, n);
      this.total--;
    };
    const send = (message: object) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
    };
    // The page says hello first (history, size); keys typed before the session exists wait.
    const early: unknown[] = [];
    let session: TerminalSession | undefined;
    let closed = false;
    let greeted: (hello: Hello | undefined) => void = () => {};
    const hello = new Promise<Hello | undefined>((resolve) => {
      greeted = resolve;
      setTimeout(() => resolve(undefined), HELLO_WAIT_MS).unref();
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let message: unknown;
      try {
        message = JSON.parse(String(data));
      } catch {
        return;
      }
      if (isHello(message)) return greeted(message);
      if (session) handle(session, message);
      else if (early.length < 1000) early.push(message);
    });
    ws.on('close', () => {
      closed = true;
      release();
      void session?.close();
    });
    try {
      const { deps, actions, state } = this.ctx;
      const lab = await actions.lab(labId);
      const kubeconfig =
        state.active.info.mode === 'kube'
          ? await deps.terminal!.realClusterKubeconfig!()
          : actions.kubeconfig(lab, learnerId, selfOrigin(req));
      const runner = await kubectlRunner({
        kubectl: deps.terminal!.kubectl!,
        kubeconfig,
        ...(deps.terminal!.limits ? { limits: deps.terminal!.limits } : {}),
      });
      const greeting = await hello;
      if (closed) return void (await runner.close());
      session = new TerminalSession({
        runner,
        io: {
          write: (text) => send({ type: 'output', data: text }),
          remembered: (line) => send({ type: 'history', line }),
        },
        history: cleanHistory(greeting?.history),
        ...(typeof greeting?.cols === 'number' ? { cols: greeting.cols } : {}),
        namespace: lab.namespace,
        banner: `kubectl on your ${state.active.info.mode === 'kube' ? 'cluster' : 'simulated cluster'} for ${lab.title}. Type help for what works here.\n`,
      });
      session.start();
      for (const m of early) handle(session, m);
    } catch (e) {
      send({
        type: 'unavailable',
        message: isKubelabError(e) ? e.message : 'the terminal could not start; reload the page',
      });
      if (!isKubelabError(e)) this.ctx.deps.log?.(`terminal failed to start: ${String(e)}`);
      ws.close(1011);
    }
  }
}

interface Hello {
  type: 'hello';
  history?: unknown;
  cols?: unknown;
}

/** How long a new terminal waits for the page's hello (its history) before starting without it. */
const HELLO_WAIT_MS = 5_000;

function isHello(message: unknown): message is Hello {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'hello';
}

function handle(session: TerminalSession, message: unknown): void {
  if (typeof message !== 'object' || message === null) return;
  const m = message as { type?: unknown; data?: unknown; cols?: unknown };
  if (m.type === 'input' && typeof m.data === 'string') session.input(m.data);
  else if (m.type === 'resize' && typeof m.cols === 'number') session.resize(m.cols);
}

/** History from the page's localStorage: the learner's own, but still checked for shape and size. */
export function cleanHistory(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return (
    value
      .filter((v): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_LINE)
      // Control characters would replay as keys (Enter, Ctrl-C) when the line is recalled.
      .map((v) => [...v].filter((c) => c >= ' ' && c !== '\x7f').join(''))
      .filter((v) => v.trim() !== '')
      .slice(-MAX_HISTORY)
  );
}

/**
 * xterm.js writes its cell geometry and colours into <style> elements it creates, which a CSP
 * without 'unsafe-inline' for styles blocks (the terminal then draws nothing readable). So the lab
 * page, and only while it shows a live terminal, allows inline styles; scripts stay 'self' only.
 */
export function terminalPageStyles(ctx: AppContext): import('express').RequestHandler {
  return (req, res, next) => {
    if (req.method === 'GET' && /^\/labs\/[^/]+\/?$/.test(req.path) && terminalView(ctx).state === 'on') {
      const csp = res.getHeader('Content-Security-Policy');
      if (typeof csp === 'string')
        res.setHeader(
          'Content-Security-Policy',
          csp.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'"),
        );
    }
    next();
  };
}
