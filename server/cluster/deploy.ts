/**
 * Putting a scenario into a cluster (lab start / reset) and taking it out again. Works on any
 * Cluster; the caller reads the scenario's objects (server/labs) and passes them in.
 */
import { environmentError } from '../errors.js';
import { formatDuration, systemClock, type Clock } from './poll.js';
import type { ApplyOutcome, Cluster, KubeObject, ProgressFn } from './types.js';

export interface ScenarioContent {
  name?: string;
  /** Namespaces the scenario owns: deleted by a reset, waited for after the apply. */
  namespaces: string[];
  /** Objects in apply order. */
  objects: KubeObject[];
}

export interface DeployOptions {
  /** Delete the scenario's namespaces first, so every learner change is gone (lab reset). */
  reset?: boolean;
  /** How long pods may take to become Ready (first run: image pulls). Default 5 minutes. */
  readyTimeoutMs?: number;
  onProgress?: ProgressFn;
  clock?: Clock;
}

export interface DeployResult {
  applied: ApplyOutcome[];
  elapsedMs: number;
}

/** Hints for the usual reasons pods do not start, matched on the reason text. */
function adviceFor(notReady: string[]): string {
  const text = notReady.join('\n');
  if (/ImagePull|ErrImage/.test(text)) {
    return 'The nodes cannot pull the image: check the internet connection (on kind, `kubelab cluster up` preloads it).';
  }
  if (/Unschedulable|Insufficient/.test(text))
    return 'The cluster has no room for the pods: give Docker more CPU/memory or use fewer workloads.';
  if (/CrashLoopBackOff/.test(text))
    return 'A container keeps crashing: kubectl logs -n <namespace> <pod> shows why.';
  if (/ContainerCreating|no status yet/.test(text))
    return 'Pods are still being created; if this persists the network plugin may be missing (kubelab cluster status).';
  return 'kubectl get pods -A and kubectl describe pod show what is wrong.';
}

export async function deployScenario(
  cluster: Cluster,
  scenario: ScenarioContent,
  opts: DeployOptions = {},
): Promise<DeployResult> {
  const clock = opts.clock ?? systemClock;
  const start = clock.now();
  const say = (step: string, detail: string) =>
    opts.onProgress?.({ step, detail, elapsedMs: clock.now() - start });
  const label = scenario.name ? `scenario ${scenario.name}` : 'the scenario';
  if (opts.reset) await teardownScenario(cluster, scenario.namespaces, opts);
  say('apply', `${scenario.objects.length} objects of ${label}`);
  const applied = await cluster.apply(
    scenario.objects,
    opts.onProgress ? { onProgress: opts.onProgress } : {},
  );
  const changed = applied.filter((a) => a.action !== 'unchanged').length;
  say('apply', `${changed} created or changed, ${applied.length - changed} unchanged`);
  const timeoutMs = opts.readyTimeoutMs ?? 5 * 60_000;
  const ready = await cluster.waitReady(scenario.namespaces, {
    timeoutMs,
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
  if (!ready.ready) {
    throw environmentError(
      `${label} did not become ready within ${formatDuration(timeoutMs)}: ${ready.notReady.join('; ')}.`,
      adviceFor(ready.notReady),
    );
  }
  say('ready', `every pod in ${scenario.namespaces.join(', ')} is Ready`);
  return { applied, elapsedMs: clock.now() - start };
}

/** Deletes the namespaces (in parallel) and waits until each is gone. */
export async function teardownScenario(
  cluster: Cluster,
  namespaces: string[],
  opts: { onProgress?: ProgressFn; timeoutMs?: number } = {},
): Promise<void> {
  await Promise.all(
    namespaces.map((ns) =>
      cluster.deleteNamespace(ns, {
        timeoutMs: opts.timeoutMs ?? 180_000,
        ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      }),
    ),
  );
}
