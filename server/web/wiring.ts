/**
 * The real WebDeps: labs from labs/ and scenarios/, the grader, one simulated cluster per learner
 * and lab (or a real cluster when kind + Docker are there), progress in SQLite.
 */
import { readFile } from 'node:fs/promises';
import type { Cluster, ProgressFn } from '../cluster/types.js';
import { checkDocker, describeDocker } from '../cluster/docker.js';
import { DEFAULT_CLUSTER_NAME, KindCli, kindContextName } from '../cluster/kind.js';
import { connectKube } from '../cluster/kube.js';
import { execaRunner, type Runner } from '../cluster/runner.js';
import { isKubelabError, notFound } from '../errors.js';
import { gradeLab } from '../grader/index.js';
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
import { ClusterChecker } from './checker.js';
import type { ActiveCluster, Checker, LabCatalogue, ModeInfo, WebDeps } from './deps.js';
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
  /** kubeconfig context for `kube` mode (default: the current context). */
  context?: string;
  kubeconfig?: string;
  /** Where labs/ and scenarios/ are (default: the repository's). */
  labsRoot?: RootArg;
  allowedHostnames?: string[];
  log?: (message: string) => void;
  env?: NodeJS.ProcessEnv;
  runner?: Runner;
  /** Most simulated learner sessions kept in memory. */
  maxSessions?: number;
  /**
   * Worker threads that grade on the simulated cluster (default: one per core, at most 4); 0
   * grades on the HTTP thread (simple, but every check then stalls every other request).
   */
  simulatedWorkers?: number;
  /**
   * Creates kind + Calico and returns the cluster (from server/cluster; wired by the lead). Without
   * it, the page explains how to get a real cluster from the command line instead.
   */
  provisionRealCluster?: (onProgress: ProgressFn) => Promise<Cluster>;
}

export interface DefaultWebDeps extends WebDeps {
  close(): Promise<void>;
}

export function defaultWorkerCount(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

export async function createDefaultWebDeps(opts: DefaultWebDepsOptions = {}): Promise<DefaultWebDeps> {
  const env = opts.env ?? process.env;
  const store = ProgressStore.open(opts.dbPath ?? DEFAULT_DB_PATH);
  const labs = labCatalogue(opts.labsRoot);
  const scenarios = new ScenarioCache(catalogRoots(opts.labsRoot).scenarios);
  const workers = opts.simulatedWorkers ?? defaultWorkerCount();
  let pool: SimulatedWorkerPool | undefined;
  let simulatedGrader: Checker;
  if (workers > 0) {
    pool = new SimulatedWorkerPool({
      size: workers,
      ...(opts.labsRoot !== undefined ? { labsRoot: opts.labsRoot } : {}),
      ...(opts.maxSessions !== undefined ? { maxSessions: opts.maxSessions } : {}),
      ...(opts.log ? { log: opts.log } : {}),
    });
    simulatedGrader = pool;
  } else {
    simulatedGrader = simulatedChecker(scenarios, opts.maxSessions);
  }
  const simulated: ActiveCluster = {
    info: { mode: 'simulated', description: 'simulated cluster (in-process)' },
    checker: simulatedGrader,
  };

  const deps: DefaultWebDeps = {
    labs,
    cluster: simulated,
    store,
    clock: () => new Date(),
    ...(opts.allowedHostnames ? { allowedHostnames: opts.allowedHostnames } : {}),
    ...(opts.log ? { log: opts.log } : {}),
    close: async () => {
      await pool?.close();
      store.close();
    },
  };

  const mode = opts.mode ?? 'auto';
  if (mode === 'simulated') {
    simulated.info.reason = 'You chose the simulated cluster.';
    deps.provisionUnavailable = 'restart kubelab without --simulated.';
    return deps;
  }
  if (mode === 'kube') {
    const cluster = await connectKube({
      ...(opts.context ? { context: opts.context } : {}),
      ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}),
      env,
    });
    deps.cluster = realCluster(cluster, scenarios);
    return deps;
  }

  // auto: use the kubelab kind cluster when it already runs; offer to create it when it could be.
  const runner = opts.runner ?? execaRunner(env);
  const docker = await checkDocker(runner, 5_000);
  if (docker.status !== 'ok') {
    const d = describeDocker(docker);
    simulated.info.reason = `No real cluster: ${d.summary}.`;
    deps.provisionUnavailable = d.fix ?? 'install and start Docker, then restart kubelab.';
    return deps;
  }
  const kind = new KindCli(runner);
  if ((await kind.version()) === undefined) {
    simulated.info.reason = 'No real cluster: kind is not installed.';
    deps.provisionUnavailable = 'install kind (https://kind.sigs.k8s.io), then restart kubelab.';
    return deps;
  }
  if ((await kind.clusters()).includes(DEFAULT_CLUSTER_NAME)) {
    try {
      const kubeconfigYaml = await kind.kubeconfig(DEFAULT_CLUSTER_NAME);
      const cluster = await connectKube({
        kubeconfigYaml,
        context: kindContextName(DEFAULT_CLUSTER_NAME),
        env,
      });
      deps.cluster = realCluster(cluster, scenarios);
      return deps;
    } catch (e) {
      if (!isKubelabError(e)) throw e;
      simulated.info.reason = `The kind cluster ${DEFAULT_CLUSTER_NAME} exists but does not answer (${e.message}).`;
    }
  } else {
    simulated.info.reason = 'Docker and kind are ready, but the kubelab cluster does not exist yet.';
  }
  const provision = opts.provisionRealCluster;
  if (provision) {
    deps.provision = async (onProgress) => realCluster(await provision(onProgress), scenarios);
  } else {
    deps.provisionUnavailable = 'create it with `kubelab cluster up`, then restart kubelab.';
  }
  return deps;
}

/**
 * Loading a lab validates it against its scenario (tens of milliseconds), so lab definitions and
 * scenario objects are loaded once per server; Markdown pages and solutions are read per request,
 * so edits to them show on reload. Failures are not cached.
 */
export function labCatalogue(root?: RootArg): LabCatalogue {
  const once = new Map<string, Promise<unknown>>();
  const cached = <T>(key: string, load: () => Promise<T>): Promise<T> => {
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
        return { labs, problems };
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

function realCluster(cluster: Cluster, scenarios: ScenarioCache): ActiveCluster {
  const info: ModeInfo = { mode: 'kube', description: cluster.description };
  return {
    info,
    checker: new ClusterChecker({
      cluster,
      grade: async (lab, c) => gradeLab({ lab, scenario: await scenarios.get(lab.scenario), cluster: c }),
      predict: predictConnectivity,
      resetScenario: async (lab, c) => {
        const scenario = await scenarios.get(lab.scenario);
        for (const ns of scenario.namespaces) await c.deleteNamespace(ns, { timeoutMs: 120_000 });
        await c.apply(await readScenarioObjects(scenario));
        await c.waitReady(scenario.namespaces, { timeoutMs: 300_000 });
      },
    }),
  };
}
