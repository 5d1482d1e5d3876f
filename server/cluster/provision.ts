/**
 * The real-cluster lifecycle: `cluster up` (Docker and kind checks, kind cluster, Calico, readiness,
 * image preload, enforcement canary), `cluster down`, `cluster status`, and `openCluster`, which
 * picks the cluster the lab commands talk to. Every outside effect goes through injected deps, so
 * the whole sequence is tested with a fake runner and a fake cluster.
 */
import { environmentError, KubelabError } from '../errors.js';
import { PROBE_IMAGE } from '../probe/index.js';
import {
  CALICO_VERSION,
  calicoObjects,
  calicoState,
  obtainCalicoManifest,
  waitForCalico,
  type CalicoState,
  type ClusterInspector,
  type Download,
  type ManifestSource,
} from './calico.js';
import { NOT_ENFORCING_HINT, runCanary, type CanaryOptions, type CanaryResult } from './canary.js';
import { checkDocker, dockerProblem, type DockerState } from './docker.js';
import {
  CGROUP_V1_HINT,
  DEFAULT_CLUSTER_NAME,
  KIND_NODE_IMAGE,
  KindCli,
  kindContextName,
  nodeImageFor,
  refusesCgroupV1,
  validateClusterSpec,
} from './kind.js';
import { prePullImage } from './node-images.js';
import { connectKube, type KubeConnectOptions } from './kube.js';
import { formatDuration, systemClock, type Clock } from './poll.js';
import { nodeProblems } from './readiness.js';
import { execaRunner, type Runner } from './runner.js';
import type { Cluster, KubeObject, ProgressFn } from './types.js';

/** What provisioning needs from a connected cluster (KubeCluster has it all). */
export type ProvisionedCluster = Cluster & ClusterInspector & { ping(): Promise<string> };

export interface ProvisionDeps {
  runner: Runner;
  env: NodeJS.ProcessEnv;
  openKube?: (opts: KubeConnectOptions) => Promise<ProvisionedCluster>;
  download?: Download;
  /** Where the Calico manifest comes from (default: the pinned, cached, sha256-checked download). */
  calicoManifest?: (onProgress: (detail: string) => void) => Promise<ManifestSource>;
  canary?: (cluster: Cluster, opts: CanaryOptions) => Promise<CanaryResult>;
  clock?: Clock;
}

const openKubeDefault = (opts: KubeConnectOptions): Promise<ProvisionedCluster> => connectKube(opts);

export interface ClusterUpOptions {
  name?: string;
  workers?: number;
  nodeImage?: string;
  /** Pull the scenario image and load it into the nodes (default true). */
  preload?: boolean;
  /** Prove NetworkPolicy enforcement at the end (default true). */
  canary?: boolean;
  calicoTimeoutMs?: number;
  onProgress?: ProgressFn;
  /** Aborted on Ctrl-C: the canary removes its namespace, the image pre-pull stops. */
  signal?: AbortSignal;
}

export interface StepTiming {
  step: string;
  ms: number;
}

export interface ClusterUpResult {
  name: string;
  context: string;
  created: boolean;
  calico: 'installed' | 'already installed';
  calicoVersion?: string;
  preloaded: boolean;
  canary?: CanaryResult;
  warnings: string[];
  steps: StepTiming[];
  elapsedMs: number;
}

/** Runs steps in order, reporting each start and end with elapsed time. */
class Steps {
  readonly timings: StepTiming[] = [];
  readonly warnings: string[] = [];
  private readonly start: number;

  constructor(
    private readonly clock: Clock,
    private readonly onProgress?: ProgressFn,
  ) {
    this.start = clock.now();
  }

  elapsed(): number {
    return this.clock.now() - this.start;
  }

  say(step: string, detail: string, level: 'info' | 'warn' = 'info'): void {
    if (level === 'warn') this.warnings.push(detail);
    this.onProgress?.({ step, detail, elapsedMs: this.elapsed(), ...(level === 'warn' ? { level } : {}) });
  }

  async run<T>(step: string, fn: () => Promise<T>, done: (value: T) => string): Promise<T> {
    const begin = this.clock.now();
    const value = await fn();
    const ms = this.clock.now() - begin;
    this.timings.push({ step, ms });
    this.say(step, `${done(value)} (${formatDuration(ms)})`);
    return value;
  }
}

export async function clusterUp(opts: ClusterUpOptions, deps: ProvisionDeps): Promise<ClusterUpResult> {
  const clock = deps.clock ?? systemClock;
  const steps = new Steps(clock, opts.onProgress);
  // The image is known only after `kind version`; validate the rest now, before any work.
  const requested = validateClusterSpec({
    name: opts.name ?? DEFAULT_CLUSTER_NAME,
    workers: opts.workers ?? 1,
    nodeImage: opts.nodeImage ?? KIND_NODE_IMAGE,
  });
  const kind = new KindCli(deps.runner);

  const docker = await steps.run(
    'Docker',
    async () => {
      const state = await checkDocker(deps.runner);
      if (state.status !== 'ok') throw dockerProblem(state, 'Creating the kind cluster');
      return state;
    },
    (d) =>
      `daemon reachable (server ${d.serverVersion}${d.cgroupVersion ? `, cgroup v${d.cgroupVersion}` : ''})`,
  );

  const kindVersion = await steps.run(
    'kind',
    () => kind.requireInstalled('kubelab cluster up'),
    (v) => `kind ${v}`,
  );
  let nodeImage = requested.nodeImage;
  if (!opts.nodeImage) {
    const choice = nodeImageFor(kindVersion);
    nodeImage = choice.image;
    if (choice.warning) steps.say('kind', choice.warning, 'warn');
  }
  const spec = { ...requested, nodeImage };

  const created = await steps.run(
    'kind cluster',
    async () => {
      if ((await kind.clusters()).includes(spec.name)) {
        steps.say('kind cluster', `"${spec.name}" already exists: resuming with the remaining steps`);
        return false;
      }
      if (docker.cgroupVersion === '1') {
        if (refusesCgroupV1(spec.nodeImage)) {
          throw environmentError(
            `Docker on this machine runs on cgroup v1, and the kubelet of Kubernetes 1.35 and newer refuses to start there (node image ${spec.nodeImage.split('@')[0]}): the cluster would fail after minutes with "the kubelet is not healthy".`,
            CGROUP_V1_HINT,
          );
        }
        steps.say(
          'kind cluster',
          'Docker runs on cgroup v1, which Kubernetes is dropping; this node image still starts there',
          'warn',
        );
      }
      steps.say(
        'kind cluster',
        `creating "${spec.name}": 1 control-plane + ${spec.workers} worker(s), ${spec.nodeImage.split('@')[0]}, default CNI disabled`,
      );
      const outcome = await kind.create(spec, (line) => {
        if (line.kind === 'step-done') steps.say('kind cluster', `✓ ${line.step}`);
        else if (line.kind === 'step-failed') steps.say('kind cluster', `✗ ${line.step}`, 'warn');
      });
      return outcome === 'created';
    },
    (c) => (c ? 'created' : 'exists'),
  );

  const context = kindContextName(spec.name);
  const cluster = await steps.run(
    'connect',
    () => openKindCluster(kind, spec.name, deps),
    () => `context ${context}`,
  );

  const before = await calicoState(cluster);
  let calicoAction: ClusterUpResult['calico'] = 'already installed';
  const foreignCalico = before.installed && before.version !== undefined && before.version !== CALICO_VERSION;
  if (before.ready || foreignCalico) {
    steps.say('Calico', `already installed (${before.version ?? 'unknown version'})`);
    if (foreignCalico) {
      steps.say(
        'Calico',
        `this cluster runs Calico ${before.version}, not ${CALICO_VERSION}; kubelab keeps it.`,
        'warn',
      );
    }
  } else {
    // Not installed, or ours but not ready (perhaps an interrupted install): applying again is
    // harmless with server-side apply and completes whatever is missing.
    calicoAction = 'installed';
    await steps.run(
      'Calico',
      async () => {
        const say = (d: string) => steps.say('Calico', d);
        const manifest = deps.calicoManifest
          ? await deps.calicoManifest(say)
          : await obtainCalicoManifest({
              env: deps.env,
              ...(deps.download ? { download: deps.download } : {}),
              onProgress: say,
            });
        steps.say(
          'Calico',
          `manifest ${CALICO_VERSION} from ${manifest.origin} (${manifest.path}), sha256 verified`,
        );
        const objects = calicoObjects(manifest.text);
        await cluster.apply(objects);
        return objects.length;
      },
      (n) => `${n} objects applied with server-side apply (CRDs first)`,
    );
  }

  // The scenario image downloads while Calico's images do: both are network-bound.
  const stopPrePull = new AbortController();
  const onInterrupt = () => stopPrePull.abort();
  opts.signal?.addEventListener('abort', onInterrupt, { once: true });
  const preload =
    opts.preload === false
      ? Promise.resolve(false)
      : prePullImage(deps.runner, spec.name, PROBE_IMAGE, { signal: stopPrePull.signal }).then((r) => {
          if (r.ok) steps.say('preload', `${shortImage(PROBE_IMAGE)} pulled on ${r.nodes.join(', ')}`);
          else if (!stopPrePull.signal.aborted)
            steps.say(
              'preload',
              `could not pre-pull ${shortImage(PROBE_IMAGE)} (${r.reason}); the nodes will pull it when a lab starts`,
              'warn',
            );
          return r.ok;
        });
  let calico: CalicoState;
  try {
    calico = await steps.run(
      'wait for Calico',
      () =>
        waitForCalico(cluster, {
          timeoutMs: opts.calicoTimeoutMs ?? 10 * 60_000,
          clock,
          onProgress: (e) => steps.say('wait for Calico', e.detail ?? ''),
        }),
      () => 'calico-node ready on every node, controllers available, nodes Ready, CoreDNS Ready',
    );
  } catch (e) {
    // Report a Calico failure at once: the pre-pull may have minutes to go, and nobody needs it now.
    stopPrePull.abort();
    opts.signal?.removeEventListener('abort', onInterrupt);
    throw e;
  }
  const preloaded = await preload;
  opts.signal?.removeEventListener('abort', onInterrupt);

  let canary: CanaryResult | undefined;
  if (opts.canary !== false) {
    canary = await steps.run(
      'enforcement canary',
      () =>
        (deps.canary ?? runCanary)(cluster, {
          clock,
          onProgress: (e) => steps.say('enforcement canary', e.detail ?? ''),
          ...(opts.signal ? { signal: opts.signal } : {}),
        }),
      (r) => r.detail,
    );
    if (!canary.enforcing)
      throw environmentError(`the new cluster ${context}: ${canary.detail}`, NOT_ENFORCING_HINT);
  }

  return {
    name: spec.name,
    context,
    created,
    calico: calicoAction,
    ...(calico.version ? { calicoVersion: calico.version } : {}),
    preloaded,
    ...(canary ? { canary } : {}),
    warnings: steps.warnings,
    steps: steps.timings,
    elapsedMs: steps.elapsed(),
  };
}

/** `registry/path/name:tag@sha256:...` -> `registry/path/name:tag`, for progress lines. */
const shortImage = (image: string): string => image.split('@')[0] ?? image;

export async function clusterDown(
  opts: { name?: string; onProgress?: ProgressFn },
  deps: ProvisionDeps,
): Promise<{ name: string; deleted: boolean }> {
  const name = validateClusterSpec({
    name: opts.name ?? DEFAULT_CLUSTER_NAME,
    workers: 0,
    nodeImage: KIND_NODE_IMAGE,
  }).name;
  const docker = await checkDocker(deps.runner);
  if (docker.status !== 'ok') throw dockerProblem(docker, 'Deleting the kind cluster');
  const kind = new KindCli(deps.runner);
  await kind.requireInstalled('kubelab cluster down');
  if (!(await kind.clusters()).includes(name)) return { name, deleted: false };
  opts.onProgress?.({ step: 'kind cluster', detail: `deleting "${name}"`, elapsedMs: 0 });
  await kind.delete(name);
  return { name, deleted: true };
}

export interface ClusterTarget {
  /** kind cluster name (used when no context/kubeconfig is given). */
  name?: string;
  /** A kubeconfig context: bring your own cluster. */
  context?: string;
  /** kubeconfig file(s); with no context, their current context. */
  kubeconfig?: string;
}

/**
 * The cluster the lab commands use. An explicit --context/--kubeconfig (or KUBELAB_CONTEXT) means
 * "my own cluster"; otherwise it is the kind cluster (default `kubelab`), reached through kind's
 * own kubeconfig. kubelab never falls back to whatever the current context happens to be: applying
 * lab objects to an unintended cluster is worse than an error.
 */
export async function openCluster(target: ClusterTarget, deps: ProvisionDeps): Promise<ProvisionedCluster> {
  const open = deps.openKube ?? openKubeDefault;
  const context = target.context ?? (deps.env.KUBELAB_CONTEXT || undefined);
  if (context !== undefined || target.kubeconfig !== undefined) {
    return open({
      ...(context ? { context } : {}),
      ...(target.kubeconfig ? { kubeconfig: target.kubeconfig } : {}),
      env: deps.env,
    });
  }
  const name = target.name ?? (deps.env.KUBELAB_CLUSTER || DEFAULT_CLUSTER_NAME);
  const kind = new KindCli(deps.runner);
  if ((await kind.version()) === undefined) {
    throw environmentError(
      `there is no cluster to use: kind is not installed, and no --context was given.`,
      'Create the kind cluster (`kubelab cluster up`, which needs Docker and kind), or pass --context to use a cluster you already have.',
    );
  }
  const docker = await checkDocker(deps.runner);
  if (docker.status !== 'ok') throw dockerProblem(docker, `Using the kind cluster "${name}"`);
  if (!(await kind.clusters()).includes(name)) {
    throw environmentError(
      `there is no kind cluster named "${name}".`,
      `Create it with \`kubelab cluster up --name ${name}\`, or pass --context to use another cluster.`,
    );
  }
  return openKindCluster(kind, name, deps);
}

/** Connects through kind's kubeconfig; a kind cluster whose API server is silent usually has stopped containers. */
async function openKindCluster(
  kind: KindCli,
  name: string,
  deps: ProvisionDeps,
): Promise<ProvisionedCluster> {
  const kubeconfigYaml = await kind.kubeconfig(name);
  try {
    return await (deps.openKube ?? openKubeDefault)({
      kubeconfigYaml,
      context: kindContextName(name),
      env: deps.env,
    });
  } catch (e) {
    if (e instanceof KubelabError && e.code === 'ENVIRONMENT') {
      throw environmentError(
        `the kind cluster "${name}" exists but its API server does not answer: ${e.message}`,
        `Its node containers may be stopped (after a reboot or a Docker restart): \`docker start $(kind get nodes --name ${name})\`, or recreate it with \`kubelab cluster down --name ${name}\` then \`kubelab cluster up --name ${name}\`.`,
        e,
      );
    }
    throw e;
  }
}

export interface NodeSummary {
  name: string;
  ready: boolean;
  roles: string[];
  version?: string;
}

export interface ClusterStatusReport {
  description: string;
  serverVersion: string;
  nodes: NodeSummary[];
  calico: CalicoState;
  /** Network plugins recognised by their DaemonSets. */
  cni: string[];
  canary?: CanaryResult;
  /** Lines that need attention; empty when all is well. */
  problems: string[];
}

const KNOWN_CNIS: Array<{ daemonSet: RegExp; name: string; enforces: boolean | 'kind >= 0.24' }> = [
  { daemonSet: /^calico-node$/, name: 'Calico', enforces: true },
  { daemonSet: /^cilium$/, name: 'Cilium', enforces: true },
  { daemonSet: /^kindnet$/, name: 'kindnet (kind default)', enforces: 'kind >= 0.24' },
  { daemonSet: /flannel/, name: 'Flannel (does not enforce NetworkPolicy)', enforces: false },
  { daemonSet: /^weave-net$/, name: 'Weave Net', enforces: true },
  { daemonSet: /^(antrea-agent)$/, name: 'Antrea', enforces: true },
  { daemonSet: /^kube-router$/, name: 'kube-router', enforces: true },
];

export function recognizeCnis(daemonSets: KubeObject[]): string[] {
  const found = new Set<string>();
  for (const ds of daemonSets)
    for (const cni of KNOWN_CNIS) if (cni.daemonSet.test(ds.metadata.name)) found.add(cni.name);
  return [...found];
}

export function summarizeNodes(nodes: KubeObject[]): NodeSummary[] {
  const bad = new Set(nodeProblems(nodes).map((p) => /^node (\S+)/.exec(p)?.[1]));
  return nodes.map((n) => {
    const roles = Object.keys(n.metadata.labels ?? {})
      .filter((l) => l.startsWith('node-role.kubernetes.io/'))
      .map((l) => l.slice('node-role.kubernetes.io/'.length));
    const info = (n.status as { nodeInfo?: { kubeletVersion?: string } } | undefined)?.nodeInfo;
    return {
      name: n.metadata.name,
      ready: !bad.has(n.metadata.name),
      roles: roles.length > 0 ? roles : ['worker'],
      ...(info?.kubeletVersion ? { version: info.kubeletVersion } : {}),
    };
  });
}

export async function clusterStatus(
  target: ClusterTarget & { canary?: boolean; onProgress?: ProgressFn; signal?: AbortSignal },
  deps: ProvisionDeps,
): Promise<ClusterStatusReport> {
  const cluster = await openCluster(target, deps);
  const serverVersion = await cluster.ping();
  const [nodes, daemonSets, calico] = await Promise.all([
    cluster.listObjects('v1', 'Node'),
    cluster.listObjects('apps/v1', 'DaemonSet'),
    calicoState(cluster),
  ]);
  const report: ClusterStatusReport = {
    description: cluster.description,
    serverVersion,
    nodes: summarizeNodes(nodes),
    calico,
    cni: recognizeCnis(daemonSets),
    problems: [],
  };
  report.problems.push(...nodeProblems(nodes));
  if (report.cni.length === 0)
    report.problems.push('no known network plugin found (no calico-node, cilium, kindnet... DaemonSet)');
  if (calico.installed && !calico.ready)
    report.problems.push(...calico.waitingFor.map((w) => `Calico: ${w}`));
  if (target.canary !== false) {
    try {
      report.canary = await (deps.canary ?? runCanary)(cluster, {
        ...(deps.clock ? { clock: deps.clock } : {}),
        ...(target.onProgress ? { onProgress: target.onProgress } : {}),
        ...(target.signal ? { signal: target.signal } : {}),
      });
      if (!report.canary.enforcing) report.problems.push(report.canary.detail);
    } catch (e) {
      if (e instanceof KubelabError && e.code === 'INTERRUPTED') throw e;
      report.problems.push(`enforcement canary: ${(e as Error).message}`);
    }
  }
  return report;
}

/**
 * Whether the real-cluster path can be offered (the app picks real vs simulated with this):
 * an explicitly requested context that answers, or Docker reachable and kind installed.
 */
export async function detectRealClusterAvailability(
  opts: { context?: string; kubeconfig?: string } = {},
  deps: Partial<ProvisionDeps> = {},
): Promise<{ available: boolean; reason: string; detail?: string }> {
  const env = deps.env ?? process.env;
  const context = opts.context ?? (env.KUBELAB_CONTEXT || undefined);
  if (context !== undefined || opts.kubeconfig !== undefined) {
    try {
      const open = deps.openKube ?? openKubeDefault;
      const cluster = await open({
        ...(context ? { context } : {}),
        ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}),
        env,
      });
      return { available: true, reason: `${cluster.description} answers` };
    } catch (e) {
      return { available: false, reason: (e as Error).message };
    }
  }
  const runner = deps.runner ?? execaRunner(env);
  const docker = await checkDocker(runner, 10_000);
  if (docker.status !== 'ok') return { available: false, ...describeDockerShort(docker) };
  const kind = new KindCli(runner);
  const version = await kind.version();
  if (version === undefined) return { available: false, reason: 'kind is not installed' };
  const name = env.KUBELAB_CLUSTER || DEFAULT_CLUSTER_NAME;
  const exists = await kind.clusters().then(
    (names) => names.includes(name),
    () => false,
  );
  return {
    available: true,
    reason: `Docker ${docker.serverVersion} and kind ${version} are installed; ${exists ? `kind cluster "${name}" exists` : `\`kubelab cluster up\` creates kind cluster "${name}"`}`,
  };
}

/** In words for every page; docker's own message (a socket path...) only as the detail. */
function describeDockerShort(state: Exclude<DockerState, { status: 'ok' }>): {
  reason: string;
  detail?: string;
} {
  switch (state.status) {
    case 'not-installed':
      return { reason: 'Docker is not installed' };
    case 'daemon-down':
      return { reason: 'Docker is not running', detail: state.detail };
    case 'permission-denied':
      return { reason: 'this user may not use Docker', detail: state.detail };
    case 'error':
      return { reason: 'Docker does not answer as expected', detail: state.detail };
  }
}
