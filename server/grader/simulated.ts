/** Grading on a fresh simulated cluster: the scenario, then the learner's objects, then the grade. */
import type { KubeObject } from '../cluster/types.js';
import { SharedPlanes, SimulatedCluster } from '../cluster/sim/index.js';
import type { Lab, Scenario } from '../labs/model.js';
import { loadScenario, readScenarioObjects } from '../labs/index.js';
import { gradeLab, PreflightCache, type GradeReport } from './index.js';
import { guardScenarioObjects, scenarioObjects } from './scenario-objects.js';

/** A simulated cluster with the scenario deployed (its external hosts included). */
export async function createScenarioCluster(
  scenario: Scenario,
  sharedPlanes?: SharedPlanes,
): Promise<SimulatedCluster> {
  const cluster = new SimulatedCluster({
    externalHosts: scenario.externalHosts,
    ...(sharedPlanes ? { sharedPlanes } : {}),
  });
  await cluster.apply(await readScenarioObjects(scenario));
  return cluster;
}

/**
 * Caches each scenario's deployed cluster and hands out forks, so grading many attempts does not
 * re-read and re-apply the scenario every time.
 */
export class ScenarioClusters {
  private readonly cache = new Map<string, Promise<SimulatedCluster>>();
  /** Pre-flight outcomes of these scenarios, shared by every grade that uses them. */
  readonly preflightCache = new PreflightCache();
  /** Forks with equal content (the same answer to the same scenario) share one data plane. */
  readonly planes = new SharedPlanes();

  async fresh(scenario: Scenario): Promise<SimulatedCluster> {
    let base = this.cache.get(scenario.name);
    if (!base) {
      base = createScenarioCluster(scenario, this.planes);
      this.cache.set(scenario.name, base);
      base.catch(() => this.cache.delete(scenario.name));
    }
    return (await base).fork();
  }
}

const shared = new ScenarioClusters();

export async function gradeOnSimulated(
  lab: Lab,
  objects: KubeObject[],
  opts: { scenario?: Scenario; clusters?: ScenarioClusters } = {},
): Promise<GradeReport> {
  const scenario = opts.scenario ?? (await loadScenario(lab.scenario, lab.scenariosRoot));
  guardScenarioObjects(objects, await scenarioObjects(scenario), lab);
  const cluster = await (opts.clusters ?? shared).fresh(scenario);
  if (objects.length > 0) await cluster.apply(objects);
  return gradeLab({ lab, scenario, cluster, preflightCache: (opts.clusters ?? shared).preflightCache });
}
