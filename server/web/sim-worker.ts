/**
 * A grading worker: owns the simulated clusters of the learners routed to it and answers check,
 * matrix and reset requests from the pool (server/web/sim-pool.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isKubelabError } from '../errors.js';
import { catalogRoots, loadLab, type RootArg } from '../labs/index.js';
import type { Lab } from '../labs/model.js';
import type { PoolReply, PoolRequest, WorkerOptions } from './sim-pool.js';
import { parseLearnerManifests } from './manifests.js';
import { ScenarioCache, simulatedChecker } from './simulated.js';

const port = parentPort;
if (!port) throw new Error('sim-worker must run in a worker thread');
const options = workerData as WorkerOptions;
const root: RootArg | undefined = options.labsRoot;
const checker = simulatedChecker(new ScenarioCache(catalogRoots(root).scenarios), {
  ...(options.maxSessions !== undefined ? { maxSessions: options.maxSessions } : {}),
  ...(options.maxClusters !== undefined ? { maxClusters: options.maxClusters } : {}),
});
const labs = new Map<string, Promise<Lab>>();

function lab(id: string): Promise<Lab> {
  let p = labs.get(id);
  if (!p) {
    p = loadLab(id, root);
    labs.set(id, p);
    p.catch(() => labs.delete(id));
  }
  return p;
}

async function answer(req: PoolRequest): Promise<unknown> {
  const l = await lab(req.labId);
  switch (req.op) {
    case 'check':
      return checker.check({ lab: l, learnerId: req.learnerId, manifests: req.manifests });
    case 'parse':
      return parseLearnerManifests(req.text, l, req.limits);
    case 'matrix':
      return checker.matrix({ lab: l, learnerId: req.learnerId });
    case 'reset':
      return checker.reset({ lab: l, learnerId: req.learnerId });
  }
}

port.on('message', (req: PoolRequest) => {
  answer(req).then(
    (value) => port.postMessage({ id: req.id, ok: true, value } satisfies PoolReply),
    (e: unknown) => {
      const error = isKubelabError(e)
        ? { kubelab: e.toJSON() }
        : { internal: e instanceof Error ? (e.stack ?? e.message) : String(e) };
      port.postMessage({ id: req.id, ok: false, error } satisfies PoolReply);
    },
  );
});
