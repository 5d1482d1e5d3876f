/**
 * The real WebDeps: labs from labs/ and scenarios/, the grader, one simulated cluster per learner
 * and lab (or a real cluster when kind + Docker are there), progress in SQLite.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Cluster, ProgressFn } from '../cluster/types.js';
import { EnforcementGate } from '../cluster/canary.js';
import { deployScenario } from '../cluster/deploy.js';
import type { ClusterTarget, ProvisionDeps } from '../cluster/provision.js';
import { execaRunner, type Runner } from '../cluster/runner.js';
import { isKubelabError, notFound } from '../errors.js';
import { gradeLab, REAL_CLUSTER_CONCURRENCY, REAL_CLUSTER_SETTLE_MS } from '../grader/index.js';
import {
  catalogRoots,
  loadLab,
  loadScenario,
  readLabPage,
  readScenarioObjects,
  type RootArg,
  validateAll,
} from '../labs/index.js';
import { availableParallelism } from 'node:os';
import { DEFAULT_DB_PATH, ProgressStore } from '../store/index.js';
import { randomBytes } from 'node:crypto';
import { ClusterChecker, type SimulatedChecker } from './checker.js';
import type { ActiveCluster, Checker, KubectlEndpoint, LabCatalogue, ModeInfo, WebDeps } from './deps.js';
import { forwardingKubectl, inProcessKubectl } from './kubectl.js';
import { orderLabs, readCoursePath } from '../labs/course.js';
import { SimulatedWorkerPool } from './sim-pool.js';
import { predictConnectivity, ScenarioCache, simulatedChecker } from './simulated.js';

export interface DefaultWebDepsOptions {
  /** SQLite file (default ./.kubelab/kubelab.db); `:memory:` keeps nothing. */
  dbPath?: string;
  /**
   * `auto`: a running kind cluster named kubelab if Docker and kind are there, else simulated
   * (with a provision button when a cluster could be created). `simulated` / `kube` force a mode.
   */
  mode?: 'auto' | 'simulated' | 'kube';
  /**
   * A cluster the learner brought (as `kubelab lab check --context`); it must pass the enforcement
   * canary before it is graded. Default: the kubelab kind cluster. KUBELAB_CONTEXT works too.
   */
  context?: string;
  kubeconfig?: string;
  /** Where labs/ and scenarios/ are (default: the repository's). */
  labsRoot?: RootArg;
  allowedHostnames?: string[];
  log?: (message: string) => void;
  /** Opens the instructor's view (/instructor). */
  instructorToken?: string;
  env?: NodeJS.ProcessEnv;
  runner?: Runner;
  /** Most simulated learner sessions kept in memory. */
  maxSessions?: number;
  /** Most simulated clusters kept alive (the memory bound; sessions beyond it rebuild on demand). */
  maxClusters?: number;
  /**
   * Worker threads that grade on the simulated cluster (default: one per core but one for the HTTP
   * thread, at least 1, at most 4); 0 grades on the HTTP thread (simple, but every check then
   * stalls every other request).
   */
  simulatedWorkers?: number;
  /**
   * Creates the real cluster and returns it (default: `kubelab cluster up`, i.e. kind + Calico,
   * readiness and the enforcement canary, then the kind cluster opened).
   */
  provisionRealCluster?: (onProgress: ProgressFn) => Promise<Cluster>;
  /** Seams of the real-cluster code (tests replace the runner, kube client, canary...). */
  provisionDeps?: Partial<ProvisionDeps>;
}

export interface DefaultWebDeps extends WebDeps {
  close(): Promise<void>;
}

/**
 * The HTTP thread is busy too (request parsing, the learner's YAML, the store, responses), so it
 * keeps a core of its own. On two cores that means one worker: one queue in arrival order, instead
 * of two that learners are hashed into unevenly while the three threads fight over two cores.
 */
export function defaultWorkerCount(cores: number = availableParallelism()): number {
  return Math.max(1, Math.min(4, cores - 1));
}

export async function createDefaultWebDeps(opts: DefaultWebDepsOptions = {}): Promise<DefaultWebDeps> {
  const env = opts.env ?? process.env;
  const store = ProgressStore.open(opts.dbPath ?? DEFAULT_DB_PATH);

  const labs = labCatalogue(opts.labsRoot);
  const scenarios = new ScenarioCache(catalogRoots(opts.labsRoot).scenarios);
  const workers = opts.simulatedWorkers ?? defaultWorkerCount();
  const dbPath = opts.dbPath ?? DEFAULT_DB_PATH;
  const owner = (token: string) => store.apiTokenOwner(token);
  let pool: SimulatedWorkerPool | undefined;
  let inProcess: SimulatedChecker | undefined;
  let simulatedGrader: Checker;
  let kubectl: KubectlEndpoint;
  if (workers > 0) {
    const secret = randomBytes(24).toString('base64url');
    pool = new SimulatedWorkerPool({
      size: workers,
      ...(opts.labsRoot !== undefined ? { labsRoot: opts.labsRoot } : {}),
      ...(opts.maxSessions !== undefined ? { maxSessions: opts.maxSessions } : {}),
      ...(opts.maxClusters !== undefined ? { maxClusters: opts.maxClusters } : {}),
      // An in-memory database is private to its connection: the workers cannot share it.
      ...(dbPath !== ':memory:' ? { dbPath } : {}),
      apiSecret: secret,
      ...(opts.log ? { log: opts.log } : {}),
    });
    const workerPool = pool;
    simulatedGrader = pool;
    kubectl = forwardingKubectl({ owner, workerPort: (l) => workerPool.workerPort(l), secret });
  } else {
    inProcess = simulatedChecker(
      scenarios,
      {
        ...(opts.maxSessions !== undefined ? { maxSessions: opts.maxSessions } : {}),
        ...(opts.maxClusters !== undefined ? { maxClusters: opts.maxClusters } : {}),
      },
      store,
    );
    simulatedGrader = inProcess;
    kubectl = inProcessKubectl({ owner, lab: (id) => labs.get(id), checker: inProcess });
  }
  const simulated: ActiveCluster = {
    info: { mode: 'simulated', description: 'simulated cluster (in-process)' },
    checker: simulatedGrader,
    kubectl,
  };

  const deps: DefaultWebDeps = {
    labs,
    cluster: simulated,
    store,
    clock: () => new Date(),
    ...(opts.allowedHostnames ? { allowedHostnames: opts.allowedHostnames } : {}),
    ...(opts.log ? { log: opts.log } : {}),
    ...(opts.instructorToken ? { instructorToken: opts.instructorToken } : {}),
    close: async () => {
      await pool?.close();
      await inProcess?.flush();
      await kubectl.close?.();
      store.close();
    },
  };

  const mode = opts.mode ?? 'auto';
  if (mode === 'simulated') {
    simulated.info.reason = 'You chose the simulated cluster.';
    deps.provisionUnavailable = 'Restart kubelab without --simulated.';
    pool?.warm();
    return deps;
  }
  // Real clusters bring the Kubernetes client (tens of MB of heap): a simulated server never loads it.
  const { clusterUp, detectRealClusterAvailability, openCluster } = await import('../cluster/provision.js');
  const provisionDeps: ProvisionDeps = {
    runner: opts.runner ?? execaRunner(env),
    env,
    ...opts.provisionDeps,
  };
  const target: ClusterTarget = {
    ...(opts.context ? { context: opts.context } : {}),
    ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}),
  };
  const brought =
    target.context !== undefined || target.kubeconfig !== undefined || Boolean(env.KUBELAB_CONTEXT);
  if (mode === 'kube') {
    // Asked for explicitly: a cluster that cannot be opened is an error, not a quiet fallback.
    deps.cluster = realCluster(await openCluster(target, provisionDeps), scenarios, brought);
    return deps;
  }

  // auto: a cluster named with --context / KUBELAB_CONTEXT, else the kubelab kind cluster when it
  // runs; otherwise the simulated cluster, with a button to create the kind cluster when it could be.
  const availability = await detectRealClusterAvailability(target, provisionDeps);
  if (!availability.available) {
    pool?.warm();
    simulated.info.reason = `No real cluster: ${sentence(availability.reason)}`;
    if (availability.detail) simulated.info.detail = availability.detail;
    deps.provisionUnavailable = brought
      ? 'Check the context you named (kubectl --context ... get nodes), then restart kubelab.'
      : 'Install and start Docker and kind (kubelab doctor says what is missing), then restart kubelab.';
    return deps;
  }
  try {
    deps.cluster = realCluster(await openCluster(target, provisionDeps), scenarios, brought);
    return deps;
  } catch (e) {
    if (!isKubelabError(e)) throw e;
    simulated.info.reason = brought
      ? `The cluster you named does not answer (${e.message}).`
      : `Docker and kind are ready, but the kubelab kind cluster is not running (${e.message}).`;
  }
  pool?.warm();
  if (brought) return deps;
  const provision =
    opts.provisionRealCluster ??
    (async (onProgress: ProgressFn) => {
      await clusterUp({ onProgress }, provisionDeps);
      return openCluster({}, provisionDeps);
    });
  deps.provision = async (onProgress) => realCluster(await provision(onProgress), scenarios, false);
  return deps;
}

/**
 * Loading a lab validates it against its scenario (tens of milliseconds), so lab definitions and
 * scenario objects are loaded once per server; Markdown pages and solutions are read per request,
 * so edits to them show on reload. Failures are not cached.
 */
export function labCatalogue(root?: RootArg, opts: { recheckMs?: number } = {}): LabCatalogue {
  const recheckMs = opts.recheckMs ?? 1000;
  const once = new Map<string, Promise<unknown>>();
  const roots = catalogRoots(root);
  let seen: Promise<string> | undefined;
  let seenAt = 0;
  /**
   * Instructors add and edit labs while the server runs: when a lab or scenario folder appears or
   * goes, or its lab.yaml / scenario.yaml changes, everything read from them is read again.
   * Looking costs a stat per folder, at most once per `recheckMs`.
   */
  const fresh = async (): Promise<void> => {
    const now = Date.now();
    if (seen && now - seenAt < recheckMs) return;
    const before = seen;
    seen = Promise.all([
      catalogueFingerprint(roots.labs, 'lab.yaml'),
      catalogueFingerprint(roots.scenarios, 'scenario.yaml'),
    ]).then((f) => f.join('\n'));
    seenAt = now;
    if (before && (await before) !== (await seen)) once.clear();
  };
  const cached = async <T>(key: string, load: () => Promise<T>): Promise<T> => {
    await fresh();
    let p = once.get(key) as Promise<T> | undefined;
    if (!p) {
      p = load();
      once.set(key, p);
      p.catch(() => once.delete(key));
    }
    return p;
  };
  return {
    list: () =>
      cached('list', async () => {
        const { labs, problems } = await validateAll(root);
        return { labs: orderLabs(labs, await readCoursePath(roots.labs)), problems };
      }),
    get: (id) =>
      cached(`lab:${id}`, () =>
        loadLab(id, root).catch((e: unknown) => {
          // The loader names the file it looked for; a web page should not show server paths.
          if (isKubelabError(e) && e.code === 'NOT_FOUND') {
            throw notFound(`there is no lab called "${id}"`, 'Pick a lab from the catalogue.');
          }
          throw e;
        }),
      ),
    page: (lab, kind) => readLabPage(lab, kind),
    solution: (lab) => readFile(lab.files.solution, 'utf8'),
    scenarioObjects: (lab) =>
      cached(`scenario:${lab.scenario}`, async () =>
        readScenarioObjects(await loadScenario(lab.scenario, catalogRoots(root).scenarios)),
      ),
  };
}

/** Ends a sentence once: "Is the daemon running?" keeps its question mark. */
function sentence(text: string): string {
  const t = text.trim();
  return /[.?!]$/.test(t) ? t : `${t}.`;
}

/**
 * The folders under `dir` and their definition file's size and time: enough to see a lab or
 * scenario added, removed or redefined, at one readdir and a stat per folder.
 */
async function catalogueFingerprint(dir: string, definition: string): Promise<string> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch {
    return '';
  }
  const parts = await Promise.all(
    names.map(async (name) => {
      try {
        const s = await stat(join(dir, name, definition));
        return `${name} ${s.size} ${s.mtimeMs}`;
      } catch {
        return name;
      }
    }),
  );
  return parts.join('\n');
}

/**
 * A real cluster for the web app. A cluster the learner brought must prove it enforces
 * NetworkPolicy (the canary, remembered for a while) before it is graded: otherwise a wrong policy
 * would pass on a cluster that ignores policies. The kind cluster was checked when it was made.
 */
function realCluster(cluster: Cluster, scenarios: ScenarioCache, brought: boolean): ActiveCluster {
  const info: ModeInfo = { mode: 'kube', description: cluster.description };
  const gate = brought ? new EnforcementGate() : undefined;
  return {
    info,
    cluster,
    checker: new ClusterChecker({
      cluster,
      grade: async (lab, c) => {
        await gate?.ensure(c);
        return gradeLab({
          lab,
          scenario: await scenarios.get(lab.scenario),
          cluster: c,
          settleMs: REAL_CLUSTER_SETTLE_MS,
          concurrency: REAL_CLUSTER_CONCURRENCY,
        });
      },
      predict: predictConnectivity,
      resetScenario: async (lab, c) => {
        const scenario = await scenarios.get(lab.scenario);
        await deployScenario(
          c,
          {
            name: scenario.name,
            namespaces: scenario.namespaces,
            objects: await readScenarioObjects(scenario),
          },
          { reset: true },
        );
      },
    }),
  };
}
