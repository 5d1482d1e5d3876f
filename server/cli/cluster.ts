/**
 * `kubelab cluster up | down | status`: the real-cluster lifecycle (server/cluster/provision.ts).
 * Progress goes to stderr as `[elapsed] step: detail`, results to stdout.
 */
import { Command, Option } from 'commander';
import { formatDuration } from '../cluster/poll.js';
import type { ClusterStatusReport, ClusterUpResult, ProvisionDeps } from '../cluster/provision.js';
import { DEFAULT_CLUSTER_NAME } from '../cluster/defaults.js';
import type { Runner } from '../cluster/runner.js';
import type { ProgressEvent, ProgressFn } from '../cluster/types.js';
import { interruptible } from './interrupt.js';
import type { CliIO } from './io.js';

// The provisioning code (and through it the Kubernetes client, most of a second to load) is loaded
// by the command that runs, not by every start of kubelab.
const provision = () => import('../cluster/provision.js');

export function provisionDeps(io: CliIO, overrides: Partial<ProvisionDeps> = {}): ProvisionDeps {
  return { runner: lazyExecaRunner(io.env), env: io.env, ...overrides };
}

/** The execa runner, with execa loaded on the first program run rather than at start. */
function lazyExecaRunner(env: NodeJS.ProcessEnv): Runner {
  let runner: Promise<Runner> | undefined;
  return {
    run: async (argv, opts) => {
      runner ??= import('../cluster/runner.js').then((m) => m.execaRunner(env));
      return (await runner).run(argv, opts);
    },
  };
}

/**
 * Prints progress events, dropping repeats: a wait that polls every two seconds would otherwise
 * print the same line a hundred times. A repeated line is printed again after `repeatAfterMs`.
 */
export function progressPrinter(write: (s: string) => void, repeatAfterMs = 15_000): ProgressFn {
  let last: { key: string; at: number } | undefined;
  return (e: ProgressEvent) => {
    const key = `${e.step}\u0000${e.detail ?? ''}`;
    if (last && last.key === key && e.elapsedMs - last.at < repeatAfterMs) return;
    last = { key, at: e.elapsedMs };
    const time = formatDuration(e.elapsedMs).padStart(7);
    write(`[${time}] ${e.level === 'warn' ? 'warning: ' : ''}${e.step}${e.detail ? `: ${e.detail}` : ''}\n`);
  };
}

export function formatUpResult(r: ClusterUpResult): string {
  const lines = [
    `Cluster "${r.name}" is ready (context ${r.context}) after ${formatDuration(r.elapsedMs)}${r.created ? '' : ' (it already existed)'}.`,
    `  Calico ${[r.calicoVersion, r.calico].filter(Boolean).join(' ')}.`,
    r.canary ? `  ${r.canary.detail}` : '  Enforcement not checked (--no-canary).',
    `  Time per step: ${r.steps.map((s) => `${s.step} ${formatDuration(s.ms)}`).join(', ')}.`,
    ...r.warnings.map((w) => `  Warning: ${w}`),
    'Next: kubelab lab start np-backend',
  ];
  return `${lines.join('\n')}\n`;
}

export function formatStatus(r: ClusterStatusReport): string {
  const lines = [`${r.description}, Kubernetes ${r.serverVersion}`];
  lines.push(
    `  nodes: ${r.nodes.map((n) => `${n.name} (${n.roles.join(',')}${n.ready ? ', Ready' : ', NOT Ready'})`).join('; ') || 'none'}`,
  );
  lines.push(`  network plugin: ${r.cni.join(', ') || 'none recognised'}`);
  if (r.calico.installed)
    lines.push(
      `  Calico: ${r.calico.version ?? 'unknown version'}, ${r.calico.ready ? 'ready' : 'not ready'}`,
    );
  lines.push(`  enforcement: ${r.canary ? r.canary.detail : 'not checked (--no-canary)'}`);
  if (r.problems.length > 0) {
    lines.push('Problems:');
    lines.push(...r.problems.map((p) => `  - ${p}`));
  } else {
    lines.push('All good: labs can be graded on this cluster.');
  }
  return `${lines.join('\n')}\n`;
}

const nameOption = () => new Option('--name <name>', 'kind cluster name').default(DEFAULT_CLUSTER_NAME);

export function registerCluster(program: Command, io: CliIO, overrides: Partial<ProvisionDeps> = {}): void {
  const cluster = program
    .command('cluster')
    .description('Create, inspect and delete the local kind + Calico cluster.');

  cluster
    .command('up')
    .description('Create (or resume) a kind cluster with Calico, ready for the labs. Needs Docker and kind.')
    .addOption(nameOption())
    .addOption(new Option('--workers <n>', 'worker nodes (0-5)').default(1).argParser((v) => Number(v)))
    .option('--image <ref>', 'kindest/node image (tag@sha256:digest) instead of the pinned one')
    .option('--no-preload', 'do not pull and load the scenario image into the nodes')
    .option('--no-canary', 'skip the NetworkPolicy enforcement check at the end')
    .addOption(
      new Option('--calico-timeout <minutes>', 'how long to wait for Calico')
        .default(10)
        .argParser((v) => Number(v)),
    )
    .action(
      async (opts: {
        name: string;
        workers: number;
        image?: string;
        preload: boolean;
        canary: boolean;
        calicoTimeout: number;
      }) => {
        const { clusterUp } = await provision();
        const result = await interruptible(io, (signal) =>
          clusterUp(
            {
              signal,
              name: opts.name,
              workers: opts.workers,
              ...(opts.image ? { nodeImage: opts.image } : {}),
              preload: opts.preload,
              canary: opts.canary,
              calicoTimeoutMs:
                (Number.isFinite(opts.calicoTimeout) && opts.calicoTimeout > 0 ? opts.calicoTimeout : 10) *
                60_000,
              onProgress: progressPrinter((s) => io.stderr(s)),
            },
            provisionDeps(io, overrides),
          ),
        );
        io.stdout(formatUpResult(result));
      },
    );

  cluster
    .command('down')
    .description('Delete the kind cluster.')
    .addOption(nameOption())
    .action(async (opts: { name: string }) => {
      const { clusterDown } = await provision();
      const result = await clusterDown({ name: opts.name }, provisionDeps(io, overrides));
      io.stdout(
        result.deleted
          ? `Deleted kind cluster "${result.name}".\n`
          : `There is no kind cluster named "${result.name}": nothing to delete.\n`,
      );
    });

  cluster
    .command('status')
    .description('Nodes, network plugin and NetworkPolicy enforcement of the kind cluster (or of --context).')
    .addOption(nameOption())
    .option('--context <name>', 'use this kubeconfig context instead of the kind cluster')
    .option('--kubeconfig <path>', 'kubeconfig file(s) to read (default: $KUBECONFIG or ~/.kube/config)')
    .option('--no-canary', 'skip the enforcement canary (it takes about 15 seconds)')
    .option('--json', 'print the report as JSON')
    .action(
      async (opts: {
        name: string;
        context?: string;
        kubeconfig?: string;
        canary: boolean;
        json?: boolean;
      }) => {
        const { clusterStatus } = await provision();
        const report = await interruptible(io, (signal) =>
          clusterStatus(
            {
              signal,
              name: opts.name,
              ...(opts.context ? { context: opts.context } : {}),
              ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}),
              canary: opts.canary,
              onProgress: progressPrinter((s) => io.stderr(s)),
            },
            provisionDeps(io, overrides),
          ),
        );
        io.stdout(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report));
        if (report.problems.length > 0) io.exitCode = 3;
      },
    );
}
