/**
 * `kubelab sim up`: one simulated cluster with a lab's scenario deployed, served as a Kubernetes
 * API on loopback so the real kubectl works against it. Prints `export KUBECONFIG=PATH` and
 * serves until stopped (Ctrl-C).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { badInput } from '../errors.js';
import type { RunningSimApi } from '../cluster/sim/api/server.js';
import type { SimulatedCluster } from '../cluster/sim/index.js';
import type { CliIO } from './io.js';
import { leaveRunningNote } from './kubeconfig.js';

export interface SimUp {
  api: RunningSimApi;
  cluster: SimulatedCluster;
  kubeconfigPath: string;
  token: string;
}

/** Deploys the lab's scenario on a new simulated cluster and serves it; the caller closes it. */
export async function simUp(opts: { lab: string; port?: number; dir: string }): Promise<SimUp> {
  // Loaded here rather than at the top, so that declaring `kubelab sim` costs every other command nothing.
  const [
    { loadLab, loadScenario },
    { createScenarioCluster },
    { listenSimApi, simServerUrl },
    { simKubeconfig },
  ] = await Promise.all([
    import('../labs/index.js'),
    import('../grader/simulated.js'),
    import('../cluster/sim/api/server.js'),
    import('../cluster/sim/api/kubeconfig.js'),
  ]);
  const lab = await loadLab(opts.lab);
  const cluster = await createScenarioCluster(await loadScenario(lab.scenario));
  const token = randomBytes(24).toString('base64url');
  let api: RunningSimApi;
  try {
    api = await listenSimApi({
      clusterFor: (t) => (t === token ? cluster : undefined),
      ...(opts.port !== undefined ? { port: opts.port } : {}),
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw badInput(
        `port ${opts.port} on 127.0.0.1 is already in use`,
        [],
        'Pick another port with --port (or leave it out for any free port).',
      );
    throw e;
  }
  mkdirSync(opts.dir, { recursive: true });
  const kubeconfigPath = resolve(join(opts.dir, `sim-${api.port}.kubeconfig`));
  writeFileSync(
    kubeconfigPath,
    simKubeconfig({
      server: simServerUrl(api.url, token),
      token,
      name: `kubelab-sim-${lab.id}`,
      namespace: lab.namespace,
    }),
    { mode: 0o600 },
  );
  return { api, cluster, kubeconfigPath, token };
}

export function registerSim(
  program: Command,
  io: CliIO,
  waitForStop: () => Promise<void> = untilSignal,
): void {
  const sim = program.command('sim').description('The simulated cluster, served to kubectl');
  sim
    .command('up')
    .description("Serve a simulated cluster with a lab's scenario to kubectl (until Ctrl-C)")
    .option('--lab <id>', 'lab whose scenario to deploy', 'np-backend')
    .option('--port <port>', 'port on 127.0.0.1 (default: any free port)')
    .action(async (opts: { lab: string; port?: string }) => {
      let port: number | undefined;
      if (opts.port !== undefined) {
        port = Number(opts.port);
        if (!Number.isInteger(port) || port < 1 || port > 65535)
          throw badInput(`--port: "${opts.port}" is not a port number (1-65535)`);
      }
      const up = await simUp({
        lab: opts.lab,
        ...(port !== undefined ? { port } : {}),
        dir: join(io.cwd, '.kubelab'),
      });
      io.stderr(`Simulated cluster for lab ${opts.lab} serving the Kubernetes API on ${up.api.url}\n`);
      io.stdout(`export KUBECONFIG=${up.kubeconfigPath}\n`);
      io.stderr('Then: kubectl get pods  (Ctrl-C stops the cluster; its state is not kept)\n');
      const removeNote = leaveRunningNote(join(io.cwd, '.kubelab'), `sim-${opts.lab}`, {
        pid: process.pid,
        url: up.api.url,
        kubeconfigPath: up.kubeconfigPath,
      });
      try {
        await waitForStop();
      } finally {
        removeNote();
        await up.api.close();
      }
    });
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
