/**
 * `kubelab serve` (= `npm start`): the web app on 127.0.0.1 by default. Exposing it on another
 * address takes an explicit --host, because a lab server runs commands against a cluster.
 */
import type { Command } from 'commander';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubelabError, badInput } from '../errors.js';
import type { DefaultWebDepsOptions } from '../web/wiring.js';
import type { CliIO } from './io.js';
import { join, resolve } from 'node:path';
import { leaveRunningNote } from './kubeconfig.js';

export const DEFAULT_PORT = 3000;
export const LOOPBACK_HOSTNAMES = ['127.0.0.1', 'localhost', '[::1]'];

export interface ServeOptions extends Omit<DefaultWebDepsOptions, 'allowedHostnames'> {
  host?: string;
  port?: number;
}

export interface RunningServer {
  url: string;
  /** The token that opens /instructor. */
  instructorToken: string;
  server: Server;
  close(): Promise<void>;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Builds the real dependencies, starts listening and returns the URL (port 0 = any free port). */
export async function startServer(opts: ServeOptions = {}): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? DEFAULT_PORT;
  // The web stack is loaded when a server starts, not by every kubelab command.
  const [{ createApp, upgradeHandler }, { createDefaultWebDeps }] = await Promise.all([
    import('../web/app.js'),
    import('../web/wiring.js'),
  ]);
  const instructorToken =
    opts.instructorToken ??
    (opts.env ?? process.env).KUBELAB_INSTRUCTOR_TOKEN ??
    (await import('../web/instructor-auth.js')).newInstructorToken();
  const deps = await createDefaultWebDeps({
    ...opts,
    instructorToken,
    // On loopback, answer only to loopback names: a web page cannot rebind its own name to us.
    ...(isLoopback(host) ? { allowedHostnames: LOOPBACK_HOSTNAMES } : {}),
  });
  const app = createApp(deps);
  const server = app.listen(port, host);
  // exec's WebSocket to a learner's simulated cluster (kubectl exec).
  server.on('upgrade', upgradeHandler(app));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
  } catch (e) {
    await deps.close();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw badInput(
        `port ${port} on ${host} is already in use`,
        [],
        'Stop the other server or pick another port with --port.',
      );
    if (code === 'EACCES')
      throw badInput(`not allowed to listen on ${host}:${port}`, [], 'Use a port above 1024 with --port.');
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND')
      throw badInput(
        `${host} is not an address of this machine`,
        [],
        'Use --host 127.0.0.1 or an address of this machine.',
      );
    throw e;
  }
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}/`,
    instructorToken,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => void deps.close().then(resolve));
      }),
  };
}

function parsePort(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535) {
    throw new KubelabError('USAGE', `--port must be a number from 0 to 65535 (got ${JSON.stringify(value)})`);
  }
  return Number(value);
}

export function registerServe(program: Command, io: CliIO): void {
  program
    .command('serve')
    .description('Serve the labs in the browser (simulated cluster unless a kind cluster is available).')
    .option(
      '--host <address>',
      'address to listen on (default 127.0.0.1; anything else exposes the labs to your network)',
    )
    .option('--port <number>', `port (default $PORT or ${DEFAULT_PORT}; 0 = any free port)`)
    .option('--db <path>', 'progress database (default ./.kubelab/kubelab.db)')
    .option('--simulated', 'always use the simulated cluster')
    .option(
      '--kube',
      'always use a real cluster (the kubelab kind cluster, or --context): fail instead of simulating',
    )
    .option('--context <name>', 'kubeconfig context of a cluster you brought (it must enforce NetworkPolicy)')
    .option('--kubeconfig <file>', 'kubeconfig file of a cluster you brought')
    .action(
      async (flags: {
        host?: string;
        port?: string;
        db?: string;
        simulated?: boolean;
        kube?: boolean;
        context?: string;
        kubeconfig?: string;
      }) => {
        if (flags.simulated && flags.kube)
          throw new KubelabError('USAGE', 'choose one of --simulated and --kube');
        const port = parsePort(flags.port ?? io.env.PORT ?? String(DEFAULT_PORT));
        const host = flags.host ?? '127.0.0.1';
        const running = await startServer({
          host,
          port,
          ...(flags.db ? { dbPath: flags.db } : {}),
          mode: flags.simulated ? 'simulated' : flags.kube ? 'kube' : 'auto',
          ...(flags.context ? { context: flags.context } : {}),
          ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}),
          env: io.env,
          log: (m) => io.stderr(`${m}\n`),
        });
        io.stdout(`kubelab is serving the labs on ${running.url}\n`);
        io.stdout(
          io.env.KUBELAB_INSTRUCTOR_TOKEN
            ? `Instructor view: ${running.url}instructor (token from KUBELAB_INSTRUCTOR_TOKEN)\n`
            : `Instructor view: ${running.url}instructor  token: ${running.instructorToken}\n`,
        );
        // `kubelab kubeconfig` finds the server (and its learners' tokens) through this note.
        const { DEFAULT_DB_PATH } = await import('../store/index.js');
        const dbPath = flags.db ?? DEFAULT_DB_PATH;
        const removeNote = leaveRunningNote(join(io.cwd, '.kubelab'), 'serve', {
          pid: process.pid,
          url: running.url,
          ...(dbPath !== ':memory:' ? { dbPath: resolve(io.cwd, dbPath) } : {}),
        });
        running.server.once('close', removeNote);
        if (!isLoopback(host))
          io.stdout(`Note: listening on ${host}, so other machines on your network can open it.\n`);
        io.stdout('Press Ctrl+C to stop.\n');
        await new Promise<void>((resolve) => {
          const stop = () => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            void running.close().then(resolve);
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
          running.server.once('close', resolve);
        });
      },
    );
}
