/**
 * `kubectl exec` over a WebSocket (KEP-4006; kubectl >= 1.31 uses it by default): subprotocol
 * v5.channel.k8s.io (v4 also accepted, as client-node offers it). Every binary message starts with
 * its channel: 1 stdout, 2 stderr, 3 the final Status (exit code in details.causes[ExitCode]);
 * v5 adds 255 to close a stream. SPDY, the protocol older kubectl versions use, is refused with a
 * Status that says which kubectl is needed.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { isKubelabError } from '../../../errors.js';
import type { SimulatedCluster } from '../cluster.js';

export const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];

export interface ExecRequest {
  cluster: SimulatedCluster;
  namespace: string;
  pod: string;
  container?: string;
  command: string[];
  tty: boolean;
  stdin: boolean;
}

/** How long an exec waits before answering a Go client such as kubectl (see upgrade). */
const GO_CLIENT_ANSWER_DELAY_MS = 100;
const GO_CLIENT = /^kubectl\/|Go-http-client|client-go/;

export class ExecStreams {
  private readonly wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => EXEC_PROTOCOLS.find((p) => offered.has(p)) ?? false,
  });

  /** Whether this request offers a protocol we speak. */
  static speaks(req: IncomingMessage): boolean {
    const offered = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((s) => s.trim());
    return (
      String(req.headers.upgrade ?? '').toLowerCase() === 'websocket' &&
      EXEC_PROTOCOLS.some((p) => offered.includes(p))
    );
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, exec: ExecRequest): void {
    // kubectl (client-go) starts reading the socket before it has set up its stdout/stderr
    // streams, and drops what arrives in between ("Unknown stream id 1, discarding message"). A
    // real kubelet never answers that fast; for Go clients a pause of the same order keeps the
    // answer from outrunning them. Other clients get the answer at once.
    const delay = GO_CLIENT.test(String(req.headers['user-agent'] ?? '')) ? GO_CLIENT_ANSWER_DELAY_MS : 0;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (delay === 0) return this.run(ws, exec);
      const timer = setTimeout(() => this.run(ws, exec), delay);
      ws.once('close', () => clearTimeout(timer));
    });
  }

  private run(ws: WebSocket, exec: ExecRequest): void {
    const send = (channel: number, text: string) => {
      if (text.length > 0) ws.send(Buffer.concat([Buffer.from([channel]), Buffer.from(text, 'utf8')]));
    };
    const finish = (status: object) => {
      send(3, JSON.stringify(status));
      ws.close(1000);
    };
    const argv = exec.command.join(' ');
    if (exec.tty || exec.stdin) {
      finish(
        failureStatus(
          `the simulated cluster (kubelab) does not run interactive sessions (-i/-t): run one command at a time, e.g. kubectl exec ${exec.pod} -- curl -sS --max-time 2 http://SERVICE:PORT`,
        ),
      );
      return;
    }
    try {
      const run = exec.cluster.execTyped(
        {
          namespace: exec.namespace,
          name: exec.pod,
          ...(exec.container ? { container: exec.container } : {}),
        },
        exec.command,
      );
      if ('notSimulated' in run) {
        finish(
          failureStatus(`the simulated cluster (kubelab) does not run \`${argv}\`: ${run.notSimulated}`),
        );
        return;
      }
      send(1, run.result.stdout);
      send(2, run.result.stderr);
      const code = run.result.exitCode;
      finish(
        code === 0
          ? { metadata: {}, status: 'Success' }
          : {
              metadata: {},
              status: 'Failure',
              message: `command terminated with non-zero exit code: error executing command [${argv}], exit code ${code}`,
              reason: 'NonZeroExitCode',
              details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
            },
      );
    } catch (e) {
      finish(failureStatus(isKubelabError(e) ? e.message : String(e)));
    }
  }

  close(): void {
    for (const c of this.wss.clients) c.terminate();
    this.wss.close();
  }
}

function failureStatus(message: string): object {
  return { metadata: {}, status: 'Failure', message, reason: 'InternalError', code: 500 };
}
