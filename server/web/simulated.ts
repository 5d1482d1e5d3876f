/**
 * The simulated-cluster pieces of the web app's wiring, kept apart from the real-cluster ones so a
 * grading worker thread loads only what it needs.
 */
import type { Cluster } from '../cluster/types.js';
import { gradeLab } from '../grader/index.js';
import { PolicyOracle } from '../grader/oracle.js';
import { planCheck } from '../grader/plan.js';
import { ScenarioClusters } from '../grader/simulated.js';
import { takeSnapshot } from '../grader/snapshot.js';
import { guardScenarioObjects, scenarioObjects } from '../grader/scenario-objects.js';
import { loadScenario } from '../labs/index.js';
import type { Lab, Scenario } from '../labs/model.js';
import { deserialize, serialize } from 'node:v8';
import { SimulatedCluster } from '../cluster/sim/index.js';
import { SimulatedChecker, type AppliedRef, type Prediction, type SimulatedCheckerParts } from './checker.js';
import type { MatrixProbe } from './matrix.js';

/** Scenarios parsed once per server: every check needs one, and they do not change while serving. */
export class ScenarioCache {
  private readonly cache = new Map<string, Promise<Scenario>>();

  /** `root`: the scenarios folder (default: the repository's). */
  constructor(private readonly root?: string) {}

  get(name: string): Promise<Scenario> {
    let s = this.cache.get(name);
    if (!s) {
      s = loadScenario(name, this.root);
      this.cache.set(name, s);
      s.catch(() => this.cache.delete(name));
    }
    return s;
  }
}

/** Where learners' simulated clusters are kept between server runs (server/store does it). */
export interface SimClusterStore {
  loadSimCluster(learnerId: string, labId: string): Uint8Array | undefined;
  saveSimCluster(learnerId: string, labId: string, state: Uint8Array, at: Date): void;
  dropSimCluster(learnerId: string, labId: string): void;
}

/** A learner's session as bytes: the cluster's own saved state and what the editor applied. */
export function savedSessions(store: SimClusterStore): NonNullable<SimulatedCheckerParts['saved']> {
  return {
    load: async (lab, learnerId) => {
      const bytes = store.loadSimCluster(learnerId, lab.id);
      if (!bytes) return undefined;
      let saved: { cluster?: unknown; applied?: unknown; appliedKey?: unknown };
      try {
        saved = deserialize(bytes) as typeof saved;
      } catch {
        return undefined;
      }
      // Kept by an older kubelab in a shape this one cannot read: start again from the scenario.
      if (!(saved.cluster instanceof Uint8Array) || !Array.isArray(saved.applied)) return undefined;
      const cluster = SimulatedCluster.restore(saved.cluster);
      if (!cluster) return undefined;
      return {
        cluster,
        applied: saved.applied as AppliedRef[],
        ...(typeof saved.appliedKey === 'string' ? { appliedKey: saved.appliedKey } : {}),
      };
    },
    save: (lab, learnerId, session) => {
      if (!(session.cluster instanceof SimulatedCluster)) return;
      store.saveSimCluster(
        learnerId,
        lab.id,
        serialize({
          cluster: session.cluster.saveState(),
          applied: session.applied,
          appliedKey: session.appliedKey,
        }),
        new Date(),
      );
    },
    drop: (lab, learnerId) => store.dropSimCluster(learnerId, lab.id),
  };
}

/** One simulated cluster per learner and lab, forked from the deployed scenario, graded in-process. */
export function simulatedChecker(
  scenarios: ScenarioCache = new ScenarioCache(),
  limits: { maxSessions?: number; maxClusters?: number } = {},
  store?: SimClusterStore,
): SimulatedChecker {
  const clusters = new ScenarioClusters();
  return new SimulatedChecker({
    ...(store ? { saved: savedSessions(store) } : {}),
    freshCluster: async (lab) => clusters.fresh(await scenarios.get(lab.scenario)),
    grade: async (lab, cluster) => {
      try {
        return await gradeLab({
          lab,
          scenario: await scenarios.get(lab.scenario),
          cluster,
          preflightCache: clusters.preflightCache,
        });
      } finally {
        // A learner's cluster waits, idle, for their next action: keep its state, not its caches.
        if (cluster instanceof SimulatedCluster) cluster.releaseDerived();
      }
    },
    predict: predictConnectivity,
    guard: async (lab, manifests) =>
      guardScenarioObjects(manifests, await scenarioObjects(await scenarios.get(lab.scenario)), lab),
    ...(limits.maxSessions !== undefined ? { maxSessions: limits.maxSessions } : {}),
    ...(limits.maxClusters !== undefined ? { maxClusters: limits.maxClusters } : {}),
  });
}

/** The engine's prediction for every connectivity probe the grader would run now. */
export async function predictConnectivity(lab: Lab, cluster: Cluster): Promise<Prediction> {
  const snapshot = await takeSnapshot(cluster);
  const oracle = new PolicyOracle(snapshot);
  const probes: MatrixProbe[] = [];
  for (const check of lab.checks) {
    if (check.kind !== 'connectivity') continue;
    for (const p of planCheck(lab, check, snapshot, oracle).probes) {
      probes.push({
        from: p.from,
        to: p.to,
        expected: p.expected,
        outcome: p.predicted,
        explanation: p.explanation,
      });
    }
  }
  return { probes };
}
