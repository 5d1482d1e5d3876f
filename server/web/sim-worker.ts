/**
 * A grading worker: owns the simulated clusters of the learners routed to it, answers check,
 * matrix and reset requests from the pool (server/web/sim-pool.ts), and serves those same clusters
 * to kubectl on a loopback port of its own (the HTTP thread forwards learners' requests here, see
 * ./kubectl.ts), so what kubectl changes is what Check grades.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { listenSimApi } from '../cluster/sim/api/server.js';
import pLimit from 'p-limit';
import { isKubelabError } from '../errors.js';
import { freezeDeep } from '../freeze.js';
import { catalogRoots, loadLabForCheck, type RootArg } from '../labs/index.js';
import type { Lab } from '../labs/model.js';
import { ProgressStore, reportRecord } from '../store/index.js';
import { checkerBackedApi, forwardedOwner } from './kubectl.js';
import type { PoolReply, PoolRequest, WorkerOptions } from './sim-pool.js';
import { parseLearnerManifests } from './manifests.js';
import { ParseMemo } from './parse-memo.js';
import { ScenarioCache, simulatedChecker } from './simulated.js';

const port = parentPort;
if (!port) throw new Error('sim-worker must run in a worker thread');
const options = workerData as WorkerOptions;
const root: RootArg | undefined = options.labsRoot;
// Learners' clusters are kept in the same SQLite file as their progress (a second connection).
const store = options.dbPath !== undefined ? ProgressStore.open(options.dbPath) : undefined;
const checker = simulatedChecker(
  new ScenarioCache(catalogRoots(root).scenarios),
  {
    ...(options.maxSessions !== undefined ? { maxSessions: options.maxSessions } : {}),
    ...(options.maxClusters !== undefined ? { maxClusters: options.maxClusters } : {}),
  },
  store,
);
const labs = new Map<string, Promise<Lab>>();
// A lab is loaded once per worker (above), so its id stands for it in the key. The objects are
// frozen: every learner who sent the same text shares them, and the simulated cluster, which copies
// what it stores, recognises frozen input and remembers what it works out from it.
const parsed = new ParseMemo<ReturnType<typeof parseLearnerManifests>>();
const parse = (
  req: { labId: string; limits: { maxBytes: number; maxAliasCount: number }; text: string },
  l: Lab,
) =>
  parsed.get([req.labId, req.limits.maxBytes, req.limits.maxAliasCount], req.text, () =>
    freezeDeep(parseLearnerManifests(req.text, l, req.limits)),
  );

function lab(id: string): Promise<Lab> {
  let p = labs.get(id);
  if (!p) {
    // As `kubelab lab check` loads it: grading needs the lab and its scenario, not the dozens of
    // known attempts, which are read and checked only for a lab folder not already found valid.
    p = loadLabForCheck(id, root).then(({ lab }) => lab);
    labs.set(id, p);
    p.catch(() => labs.delete(id));
  }
  return p;
}

/**
 * Grades run one at a time. Grading is CPU work with await points in it: started together, queued
 * checks would all be in flight at once, each holding its cluster's data plane and half a report,
 * and all finishing late (the web bench's burst p95 halved when this limit came in). One at a
 * time, each finishes as soon as its own work is done, in arrival order.
 */
const grading = pLimit(1);

async function answer(req: PoolRequest): Promise<unknown> {
  if (req.op === 'flush') {
    await checker.flush();
    return true;
  }
  const l = await lab(req.labId);
  switch (req.op) {
    case 'check':
      return grading(() =>
        checker.check({
          lab: l,
          learnerId: req.learnerId,
          ...(req.manifests !== undefined ? { manifests: req.manifests } : {}),
        }),
      );
    case 'parse':
      return parse(req, l);
    case 'check-text':
      return grading(async () => {
        const objects = parse(req, l);
        const report = await checker.check({
          lab: l,
          learnerId: req.learnerId,
          ...(req.apply ? { manifests: objects } : {}),
        });
        return reportRecord(report);
      });
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

const secret = options.apiSecret;
if (secret !== undefined) {
  const api = await listenSimApi(
    checkerBackedApi(checker, lab, (_token, req) => forwardedOwner(secret, req)),
  );
  port.postMessage({ apiPort: api.port } satisfies PoolReply);
}
