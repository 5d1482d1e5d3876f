/**
 * The enforcement canary: does this cluster actually enforce NetworkPolicy? Many do not (Flannel,
 * kind's default CNI before 0.24, some managed defaults). On such a cluster every connection
 * succeeds whatever the policies say, so a correct answer would fail and no verdict could be
 * trusted. Grading therefore refuses unless the canary says the cluster enforces.
 *
 * How: a server and a client pod in a throw-away namespace; the client must reach the server
 * first (else the environment is broken, which is not the same as "not enforcing"); then a
 * deny-all ingress policy goes on the server and the client re-probes until the connection is
 * dropped or a deadline passes (policies take a few seconds to be programmed). The namespace is
 * always deleted at the end; on Ctrl-C (the `signal`) at once. A canary killed outright leaves its
 * namespace behind, so every canary first deletes canary namespaces old enough to be leftovers.
 */
import { randomBytes } from 'node:crypto';
import { environmentError, interruptedError, isKubelabError, type KubelabError } from '../errors.js';
import { isRecord } from '../manifests/load.js';
import { buildProbeArgv, classifyProbe, probeDeadlineMs, PROBE_IMAGE } from '../probe/index.js';
import type { ProbeClassification, ProbeSpec } from '../probe/types.js';
import { pollUntil, systemClock, type Clock } from './poll.js';
import type { Cluster, KubeObject, ProgressFn } from './types.js';

export interface CanaryOptions {
  /** Namespace to create (and delete); default `kubelab-canary-<random>`. */
  namespace?: string;
  image?: string;
  /** How long the two pods may take to start (image pulls on a cold node). */
  readyTimeoutMs?: number;
  /** How long to wait for the baseline connection to succeed. */
  baselineTimeoutMs?: number;
  /** How long to wait for the deny-all policy to take effect. */
  enforceTimeoutMs?: number;
  probeTimeoutSeconds?: number;
  retryIntervalMs?: number;
  clock?: Clock;
  onProgress?: ProgressFn;
  /** Ctrl-C: stop probing, delete the namespace without waiting for it, throw INTERRUPTED. */
  signal?: AbortSignal;
}

export interface CanaryResult {
  enforcing: boolean;
  /** One sentence for a person. */
  detail: string;
  /** Probes run after the policy was applied. */
  attempts: number;
  /** Time from the policy apply until the connection was dropped (when enforcing). */
  enforcedAfterMs?: number;
  elapsedMs: number;
}

const SERVER_PORT = 8080;
export const CANARY_NAMESPACE_PREFIX = 'kubelab-canary-';
export const CANARY_LABELS = { 'app.kubernetes.io/part-of': 'kubelab-canary' } as const;
/**
 * A canary runs for at most about four minutes (pods 3, baseline and policy 20 s each), so a
 * canary namespace older than this is a leftover, not another canary at work (two may run at
 * once: the web app and the command line). Generous, for clocks that disagree.
 */
export const LEFTOVER_AFTER_MS = 15 * 60_000;

export function canaryObjects(
  namespace: string,
  image = PROBE_IMAGE,
): { setup: KubeObject[]; denyAll: KubeObject } {
  const labels = { ...CANARY_LABELS };
  const pod = (name: string, args: string[], extra: Record<string, unknown>): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { ...labels, app: name } },
    spec: {
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'agnhost', image, imagePullPolicy: 'IfNotPresent', args, ...extra }],
    },
  });
  return {
    setup: [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels } },
      pod('canary-server', ['netexec', `--http-port=${SERVER_PORT}`], {
        ports: [{ containerPort: SERVER_PORT, protocol: 'TCP' }],
        readinessProbe: { tcpSocket: { port: SERVER_PORT }, periodSeconds: 1 },
      }),
      pod('canary-client', ['pause'], {}),
    ],
    denyAll: {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'canary-deny-all-ingress', namespace, labels },
      spec: { podSelector: { matchLabels: { app: 'canary-server' } }, policyTypes: ['Ingress'] },
    },
  };
}

function podIP(pod: KubeObject | undefined): string | undefined {
  const status = pod && isRecord(pod.status) ? pod.status : undefined;
  return typeof status?.podIP === 'string' && status.podIP.length > 0 ? status.podIP : undefined;
}

async function probe(cluster: Cluster, namespace: string, spec: ProbeSpec): Promise<ProbeClassification> {
  try {
    const r = await cluster.exec(
      { namespace, name: 'canary-client' },
      buildProbeArgv(spec),
      probeDeadlineMs(spec),
    );
    return classifyProbe(spec, r);
  } catch (e) {
    if (isKubelabError(e)) return { outcome: 'error', detail: e.message };
    throw e;
  }
}

/**
 * Deletes canary namespaces left by interrupted runs: named `kubelab-canary-*`, labelled as ours,
 * and older than `olderThanMs`. Asks for the deletion and does not wait for it. Never throws: a
 * leftover is untidy, not a reason to refuse the check at hand.
 */
export async function removeLeftoverCanaries(
  cluster: Cluster,
  opts: { clock?: Clock; olderThanMs?: number; onWarning?: (detail: string) => void } = {},
): Promise<string[]> {
  const now = (opts.clock ?? systemClock).now();
  const olderThan = opts.olderThanMs ?? LEFTOVER_AFTER_MS;
  let namespaces: KubeObject[];
  try {
    namespaces = await cluster.list('Namespace');
  } catch (e) {
    opts.onWarning?.(`could not look for leftover canary namespaces: ${(e as Error).message}`);
    return [];
  }
  const leftovers = namespaces
    .filter((ns) => {
      const created = Date.parse(String(ns.metadata.creationTimestamp ?? ''));
      return (
        ns.metadata.name.startsWith(CANARY_NAMESPACE_PREFIX) &&
        Object.entries(CANARY_LABELS).every(([k, v]) => ns.metadata.labels?.[k] === v) &&
        Number.isFinite(created) &&
        now - created > olderThan &&
        // Already being deleted: nothing to do.
        ns.metadata.deletionTimestamp === undefined
      );
    })
    .map((ns) => ns.metadata.name);
  const removed: string[] = [];
  for (const name of leftovers) {
    try {
      await cluster.delete('Namespace', name);
      removed.push(name);
    } catch (e) {
      opts.onWarning?.(`could not delete leftover canary namespace ${name}: ${(e as Error).message}`);
    }
  }
  return removed;
}

export async function runCanary(cluster: Cluster, opts: CanaryOptions = {}): Promise<CanaryResult> {
  const clock = opts.clock ?? systemClock;
  const start = clock.now();
  const namespace = opts.namespace ?? `${CANARY_NAMESPACE_PREFIX}${randomBytes(3).toString('hex')}`;
  const signal = opts.signal;
  const progress = (step: string, detail?: string) =>
    opts.onProgress?.({ step, ...(detail ? { detail } : {}), elapsedMs: clock.now() - start });
  const { setup, denyAll } = canaryObjects(namespace, opts.image);
  const interval = opts.retryIntervalMs ?? 1000;
  const cleanup = async (afterFailure: boolean) => {
    progress('canary', `deleting ${namespace}`);
    try {
      await cluster.deleteNamespace(namespace, { timeoutMs: 120_000 });
    } catch (e) {
      // Never hide the canary's own failure behind a cleanup failure.
      if (!afterFailure) throw e;
      opts.onProgress?.({
        step: 'canary',
        detail: `could not delete ${namespace}: ${(e as Error).message}`,
        elapsedMs: clock.now() - start,
        level: 'warn',
      });
    }
  };
  const stopIfInterrupted = () => {
    if (signal?.aborted) throw interrupted();
  };
  const body = async (): Promise<CanaryResult> => {
    const removed = await removeLeftoverCanaries(cluster, {
      clock,
      onWarning: (detail) =>
        opts.onProgress?.({ step: 'canary', detail, elapsedMs: clock.now() - start, level: 'warn' }),
    });
    if (removed.length > 0)
      progress(
        'canary',
        `deleting ${removed.length} canary namespace(s) left by interrupted runs: ${removed.join(', ')}`,
      );
    stopIfInterrupted();
    progress('canary', `starting a server and a client pod in ${namespace}`);
    await cluster.apply(setup);
    stopIfInterrupted();
    const ready = await cluster.waitReady([namespace], { timeoutMs: opts.readyTimeoutMs ?? 180_000 });
    stopIfInterrupted();
    if (!ready.ready) {
      throw environmentError(
        `the enforcement canary's pods did not start: ${ready.notReady.join('; ')}.`,
        'Pods cannot start on this cluster (image pull? CNI?): kubectl get pods -A shows what is stuck.',
      );
    }
    const server = (await cluster.list('Pod', namespace)).find((p) => p.metadata.name === 'canary-server');
    const ip = podIP(server);
    if (!ip)
      throw environmentError(
        "the enforcement canary's server pod has no IP address.",
        'The network plugin may not be working: kubectl -n kube-system get pods.',
      );
    const spec: ProbeSpec = {
      kind: 'tcp',
      host: ip,
      port: SERVER_PORT,
      timeoutSeconds: opts.probeTimeoutSeconds ?? 2,
    };

    progress('canary', `checking that the client reaches the server (${ip}:${SERVER_PORT}) with no policy`);
    const baseline = await pollUntil(
      async () => {
        const c = await probe(cluster, namespace, spec);
        return { done: c.outcome === 'allowed', value: c };
      },
      {
        timeoutMs: opts.baselineTimeoutMs ?? 20_000,
        intervalMs: interval,
        clock,
        ...(signal ? { signal } : {}),
      },
    );
    stopIfInterrupted();
    if (!baseline.done) {
      throw environmentError(
        `the enforcement canary could not connect even without any NetworkPolicy (${baseline.value.outcome}: ${baseline.value.detail}).`,
        'Pod-to-pod networking is broken, so nothing can be graded here. Check the network plugin: kubectl -n kube-system get pods.',
      );
    }

    progress('canary', 'applying a deny-all ingress policy to the server');
    await cluster.apply([denyAll]);
    const appliedAt = clock.now();
    const after = await pollUntil(
      async () => {
        const c = await probe(cluster, namespace, spec);
        return { done: c.outcome === 'blocked', value: c };
      },
      {
        timeoutMs: opts.enforceTimeoutMs ?? 20_000,
        intervalMs: interval,
        clock,
        onAttempt: (s) => progress('canary', `after the policy: ${s.value.outcome}`),
        ...(signal ? { signal } : {}),
      },
    );
    stopIfInterrupted();
    const elapsedMs = clock.now() - start;
    const waited = Math.round((clock.now() - appliedAt) / 1000);
    if (after.done) {
      const enforcedAfterMs = clock.now() - appliedAt;
      return {
        enforcing: true,
        detail: `NetworkPolicy is enforced: a deny-all policy dropped the canary's connection after ${Math.round(enforcedAfterMs / 100) / 10}s.`,
        attempts: after.attempts,
        enforcedAfterMs,
        elapsedMs,
      };
    }
    if (after.value.outcome === 'allowed') {
      return {
        enforcing: false,
        detail: `this cluster does not enforce NetworkPolicy: the canary still connected ${waited}s after a deny-all ingress policy was applied.`,
        attempts: after.attempts,
        elapsedMs,
      };
    }
    if (after.value.outcome === 'refused') {
      return {
        enforcing: false,
        detail:
          'this cluster answers blocked connections with a refusal or an "unreachable" instead of dropping them, so a blocked connection looks like "nothing listening" and kubelab cannot grade reliably here.',
        attempts: after.attempts,
        elapsedMs,
      };
    }
    throw environmentError(
      `the enforcement canary's probe failed after the policy was applied (${after.value.detail}).`,
      'Try again; if it persists, check the cluster (kubelab doctor).',
    );
  };
  const running = body();
  let result: CanaryResult;
  try {
    result = signal ? await Promise.race([running, whenAborted(signal, interrupted)]) : await running;
  } catch (e) {
    if (isKubelabError(e) && e.code === 'INTERRUPTED') {
      // The person wants out now: ask for the deletion, do not wait minutes for it to finish.
      running.catch(() => {});
      try {
        await cluster.delete('Namespace', namespace);
        progress('canary', `deleted ${namespace}`);
      } catch (err) {
        opts.onProgress?.({
          step: 'canary',
          detail: `could not delete ${namespace}: ${(err as Error).message} (the next canary deletes it)`,
          elapsedMs: clock.now() - start,
          level: 'warn',
        });
      }
      throw e;
    }
    await cleanup(true);
    throw e;
  }
  await cleanup(false);
  return result;

  function interrupted(): KubelabError {
    return interruptedError(
      `interrupted: the enforcement canary stopped and its namespace ${namespace} is being deleted.`,
    );
  }
}

/** Rejects when the signal is aborted (and never otherwise). */
function whenAborted(signal: AbortSignal, error: () => Error): Promise<never> {
  const p = new Promise<never>((_, reject) => {
    if (signal.aborted) reject(error());
    else signal.addEventListener('abort', () => reject(error()), { once: true });
  });
  p.catch(() => {});
  return p;
}

export const NOT_ENFORCING_HINT =
  'Grading here would give wrong answers. Use the kind cluster (`kubelab cluster up`: kind + Calico), install a network plugin that enforces NetworkPolicy (Calico, Cilium), or use the simulated cluster.';

/** Runs the canary and throws ENVIRONMENT unless the cluster enforces NetworkPolicy. */
export async function assertEnforcing(cluster: Cluster, opts: CanaryOptions = {}): Promise<CanaryResult> {
  const result = await runCanary(cluster, opts);
  if (!result.enforcing)
    throw environmentError(`${cluster.description}: ${result.detail}`, NOT_ENFORCING_HINT);
  return result;
}

/**
 * Remembers a positive canary per cluster for a while, so checks in a row do not each pay the
 * canary's ~15 s. A negative result is never cached: fixing the cluster must take effect at once.
 */
export class EnforcementGate {
  private readonly passed = new Map<string, number>();

  constructor(private readonly opts: CanaryOptions & { ttlMs?: number } = {}) {}

  async ensure(cluster: Cluster): Promise<CanaryResult | 'cached'> {
    const clock = this.opts.clock ?? systemClock;
    const at = this.passed.get(cluster.description);
    if (at !== undefined && clock.now() - at < (this.opts.ttlMs ?? 15 * 60_000)) return 'cached';
    const result = await assertEnforcing(cluster, this.opts);
    this.passed.set(cluster.description, clock.now());
    return result;
  }

  forget(cluster: Cluster): void {
    this.passed.delete(cluster.description);
  }
}
