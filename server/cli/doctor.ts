/**
 * `kubelab doctor`: is the real-cluster path usable here, and if not, what to do. One line per
 * prerequisite (ok / problem / skip), each problem with its fix. Exit 0 when all is ok, 3 otherwise.
 */
import type { Command } from 'commander';
import { DEFAULT_CLUSTER_NAME } from '../cluster/defaults.js';
import type { ProvisionDeps, ProvisionedCluster } from '../cluster/provision.js';
import { isKubelabError } from '../errors.js';
import { progressPrinter, provisionDeps } from './cluster.js';
import { interruptible } from './interrupt.js';
import type { ProgressFn } from '../cluster/types.js';
import type { CliIO } from './io.js';

export type DoctorStatus = 'ok' | 'problem' | 'skip';

export interface DoctorLine {
  status: DoctorStatus;
  check: string;
  detail: string;
  fix?: string;
}

export interface DoctorOptions {
  name?: string;
  context?: string;
  kubeconfig?: string;
  canary?: boolean;
  /** The Node.js version to judge (default: this process's). */
  nodeVersion?: string;
  /** Ctrl-C: the enforcement canary deletes its namespace and doctor stops. */
  signal?: AbortSignal;
}

const MIN_NODE = [20, 19] as const;

export function nodeVersionOk(version: string): boolean {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  return major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
}

function errorText(e: unknown): { detail: string; fix?: string } {
  if (isKubelabError(e)) return { detail: e.message, ...(e.hint ? { fix: e.hint } : {}) };
  return { detail: e instanceof Error ? e.message : String(e) };
}

export async function runDoctor(
  opts: DoctorOptions,
  deps: ProvisionDeps,
  onLine: (line: DoctorLine) => void = () => {},
  onProgress?: ProgressFn,
): Promise<DoctorLine[]> {
  // Loaded here, not at the top: declaring the doctor command must not load the Kubernetes client.
  const [
    { calicoState },
    { runCanary },
    { checkDocker, describeDocker },
    kind,
    { loadKubeConfig },
    provision,
  ] = await Promise.all([
    import('../cluster/calico.js'),
    import('../cluster/canary.js'),
    import('../cluster/docker.js'),
    import('../cluster/kind.js'),
    import('../cluster/kube.js'),
    import('../cluster/provision.js'),
  ]);
  const { CGROUP_V1_HINT, KIND_INSTALL_HINT, KindCli, nodeImageFor } = kind;
  const { openCluster, recognizeCnis } = provision;
  const lines: DoctorLine[] = [];
  const add = (line: DoctorLine) => {
    lines.push(line);
    onLine(line);
  };

  const node = opts.nodeVersion ?? process.versions.node;
  add(
    nodeVersionOk(node)
      ? { status: 'ok', check: 'Node.js', detail: `${node} (needs >= ${MIN_NODE.join('.')})` }
      : {
          status: 'problem',
          check: 'Node.js',
          detail: `${node} is too old (needs >= ${MIN_NODE.join('.')})`,
          fix: 'Install Node.js 20.19 or newer (https://nodejs.org).',
        },
  );

  const docker = await checkDocker(deps.runner);
  const d = describeDocker(docker);
  add({
    status: d.ok ? 'ok' : 'problem',
    check: 'Docker',
    detail: d.summary,
    ...(d.fix ? { fix: d.fix } : {}),
  });

  if (docker.status === 'ok' && docker.cgroupVersion === '1') {
    add({
      status: 'problem',
      check: 'cgroup',
      detail:
        'Docker runs on cgroup v1; the kubelet of Kubernetes 1.35 and newer (the node images kubelab pins) refuses to start there',
      fix: CGROUP_V1_HINT,
    });
  }

  const kindVersion = await new KindCli(deps.runner).version();
  const nodeImage = kindVersion ? nodeImageFor(kindVersion) : undefined;
  add(
    kindVersion
      ? nodeImage?.warning
        ? { status: 'ok', check: 'kind', detail: `${kindVersion} (warning: ${nodeImage.warning})` }
        : {
            status: 'ok',
            check: 'kind',
            detail: `${kindVersion} (node image ${nodeImage?.image.split('@')[0] ?? '?'})`,
          }
      : {
          status: 'problem',
          check: 'kind',
          detail: 'not installed (no `kind` command on PATH)',
          fix: KIND_INSTALL_HINT,
        },
  );

  const kubectl = await deps.runner.run(['kubectl', 'version', '--client', '-o', 'json'], {
    timeoutMs: 15_000,
  });
  const kubectlVersion =
    kubectl.exitCode === 0 ? /"gitVersion":\s*"([^"]+)"/.exec(kubectl.stdout)?.[1] : undefined;
  add(
    kubectlVersion
      ? { status: 'ok', check: 'kubectl', detail: kubectlVersion }
      : {
          status: 'problem',
          check: 'kubectl',
          detail: kubectl.notFound ? 'not installed' : `\`kubectl version --client\` failed`,
          fix: 'Install kubectl (https://kubernetes.io/docs/tasks/tools/): the labs are done with it.',
        },
  );

  const explicit =
    opts.context !== undefined || opts.kubeconfig !== undefined || Boolean(deps.env.KUBELAB_CONTEXT);
  try {
    const { context, kc } = loadKubeConfig({
      env: deps.env,
      ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}),
      ...(opts.context ? { context: opts.context } : {}),
    });
    add({
      status: 'ok',
      check: 'kubeconfig',
      detail: `${opts.context ? 'context' : 'current context'} ${context} (${kc.getCurrentCluster()?.server ?? '?'})`,
    });
  } catch (e) {
    // The kind cluster does not need a kubeconfig file (kubelab asks kind for it), so this only
    // matters when the person asked for their own cluster.
    const { detail, fix } = errorText(e);
    add({
      status: explicit ? 'problem' : 'skip',
      check: 'kubeconfig',
      detail: explicit ? detail : `${detail.replace(/\.$/, '')} (not needed for the kind cluster)`,
      ...(explicit && fix ? { fix } : {}),
    });
  }

  const name = opts.name ?? (deps.env.KUBELAB_CLUSTER || DEFAULT_CLUSTER_NAME);
  let cluster: ProvisionedCluster | undefined;
  if (!explicit && (docker.status !== 'ok' || !kindVersion)) {
    add({
      status: 'skip',
      check: 'cluster',
      detail: 'needs Docker and kind (or --context for a cluster of your own)',
    });
  } else {
    try {
      cluster = await openCluster(
        {
          name,
          ...(opts.context ? { context: opts.context } : {}),
          ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}),
        },
        deps,
      );
      add({
        status: 'ok',
        check: 'cluster',
        detail: `${cluster.description}, Kubernetes ${await cluster.ping()}`,
      });
    } catch (e) {
      cluster = undefined;
      add({ status: 'problem', check: 'cluster', ...errorText(e) });
    }
  }

  if (!cluster) {
    add({ status: 'skip', check: 'network plugin', detail: 'no cluster to inspect' });
    add({ status: 'skip', check: 'enforcement', detail: 'no cluster to test' });
    return lines;
  }

  try {
    const [calico, daemonSets] = await Promise.all([
      calicoState(cluster),
      cluster.listObjects('apps/v1', 'DaemonSet'),
    ]);
    const cnis = recognizeCnis(daemonSets);
    if (calico.installed && calico.ready)
      add({
        status: 'ok',
        check: 'network plugin',
        detail: `Calico ${calico.version ?? '(unknown version)'} ready`,
      });
    else if (calico.installed)
      add({
        status: 'problem',
        check: 'network plugin',
        detail: `Calico is not ready: ${calico.waitingFor.join('; ')}`,
        fix: 'Wait a minute, or run `kubelab cluster up` again to finish the install.',
      });
    else {
      add({
        status: 'problem',
        check: 'network plugin',
        detail:
          cnis.length > 0
            ? `no calico-node; found ${cnis.join(', ')}`
            : 'no calico-node and no other known network plugin',
        fix: 'kubelab is tested with Calico: `kubelab cluster up` installs it on the kind cluster. The enforcement check below says whether this plugin will do.',
      });
    }
  } catch (e) {
    add({ status: 'problem', check: 'network plugin', ...errorText(e) });
  }

  if (opts.canary === false) {
    add({ status: 'skip', check: 'enforcement', detail: 'not checked (--no-canary)' });
  } else {
    try {
      const canary = await (deps.canary ?? runCanary)(cluster, {
        ...(deps.clock ? { clock: deps.clock } : {}),
        ...(onProgress ? { onProgress } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      add(
        canary.enforcing
          ? { status: 'ok', check: 'enforcement', detail: canary.detail }
          : {
              status: 'problem',
              check: 'enforcement',
              detail: canary.detail,
              fix: 'Use the kind cluster (`kubelab cluster up`) or a network plugin that enforces NetworkPolicy (Calico, Cilium).',
            },
      );
    } catch (e) {
      if (isKubelabError(e) && e.code === 'INTERRUPTED') throw e;
      add({ status: 'problem', check: 'enforcement', ...errorText(e) });
    }
  }
  return lines;
}

export function formatDoctorLine(l: DoctorLine): string {
  const head = `  ${l.status.padEnd(8)} ${l.check}: ${l.detail}`;
  return l.fix ? `${head}\n           -> ${l.fix}\n` : `${head}\n`;
}

export function registerDoctor(program: Command, io: CliIO, overrides: Partial<ProvisionDeps> = {}): void {
  program
    .command('doctor')
    .description(
      'Check what the real-cluster path needs (Node.js, Docker, kind, kubectl, cluster, Calico, enforcement).',
    )
    .option('--name <name>', 'kind cluster name', DEFAULT_CLUSTER_NAME)
    .option('--context <name>', 'check this kubeconfig context instead of the kind cluster')
    .option('--kubeconfig <path>', 'kubeconfig file(s) to read')
    .option('--no-canary', 'skip the enforcement canary (about 15 seconds)')
    .action(async (opts: { name: string; context?: string; kubeconfig?: string; canary: boolean }) => {
      io.stdout('kubelab doctor: the real-cluster path\n');
      const lines = await interruptible(io, (signal) =>
        runDoctor(
          {
            name: opts.name,
            ...(opts.context ? { context: opts.context } : {}),
            ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}),
            canary: opts.canary,
            signal,
          },
          provisionDeps(io, overrides),
          (line) => io.stdout(formatDoctorLine(line)),
          progressPrinter((s) => io.stderr(s)),
        ),
      );
      const problems = lines.filter((l) => l.status === 'problem').length;
      if (problems === 0) {
        io.stdout('Everything the real-cluster path needs is in place.\n');
      } else {
        io.stdout(
          `The real-cluster path is not usable yet (${problems} problem${problems === 1 ? '' : 's'}). The simulated cluster needs none of this: kubelab serve.\n`,
        );
        io.exitCode = 3;
      }
    });
}
