/** Probe plans remembered by content: shared when the content is equal, made afresh when anything they read differs. */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadLabForCheck, readManifestFile } from '../../server/labs/index.js';
import { createScenarioCluster } from '../../server/grader/simulated.js';
import { gradeLab } from '../../server/grader/index.js';
import { takeSnapshot, type Snapshot } from '../../server/grader/snapshot.js';
import { PolicyOracle } from '../../server/grader/oracle.js';
import { planCheckFor, planContentKey, type CheckPlan } from '../../server/grader/plan.js';
import type { Lab, Scenario } from '../../server/labs/model.js';
import type { KubeObject } from '../../server/cluster/types.js';
import type { SimulatedCluster } from '../../server/cluster/sim/index.js';

let lab: Lab;
let scenario: Scenario;
let base: SimulatedCluster;
let solution: KubeObject[];
let wrong: KubeObject[];

type PlannedCheck = Parameters<typeof planCheckFor>[1];
const plannedChecks = () =>
  lab.checks.filter((c): c is PlannedCheck => c.kind === 'connectivity' || c.kind === 'dns');

async function plansOf(
  cluster: SimulatedCluster,
  snapshotOf: (c: SimulatedCluster) => Promise<Snapshot> = takeSnapshot,
): Promise<CheckPlan[]> {
  const snapshot: Snapshot = await snapshotOf(cluster);
  const oracle = new PolicyOracle(snapshot);
  const content = planContentKey(snapshot, oracle);
  return plannedChecks().map((c) => planCheckFor(lab, c, snapshot, oracle, content));
}

async function withAnswer(objects: KubeObject[]): Promise<SimulatedCluster> {
  const c = base.fork();
  await c.apply(objects);
  return c;
}

const predictions = (plans: CheckPlan[]) => plans.flatMap((p) => p.probes.map((x) => x.predicted));

beforeAll(async () => {
  ({ lab, scenario } = await loadLabForCheck('np-backend'));
  base = await createScenarioCluster(scenario);
  solution = await readManifestFile(lab.files.solution);
  wrong = await readManifestFile(
    new URL('../../labs/np-backend/wrong/01-forgot-dns.yaml', import.meta.url).pathname,
  );
});

describe('planCheckFor', () => {
  it('keeps plans from the second time their content comes, then gives every learner with it the same, frozen', async () => {
    const once = await plansOf(await withAnswer(solution));
    expect(Object.isFrozen(once[0])).toBe(false);
    const a = await plansOf(await withAnswer(solution));
    const b = await plansOf(await withAnswer(solution));
    expect(a.length).toBeGreaterThan(0);
    a.forEach((plan, i) => expect(b[i]).toBe(plan));
    expect(a).toEqual(once);
    expect(Object.isFrozen(a[0]!.probes[0])).toBe(true);
    expect(() => (a[0]!.probes as unknown[]).push({})).toThrow(TypeError);
  });

  it('plans a different answer afresh, with its own predictions', async () => {
    const right = await plansOf(await withAnswer(solution));
    const forgotDns = await plansOf(await withAnswer(wrong));
    expect(forgotDns[0]).not.toBe(right[0]);
    expect(predictions(forgotDns)).not.toEqual(predictions(right));
    expect(predictions(forgotDns)).toContain('dns-failure');
  });

  it('plans afresh when something besides the policies changed (a source pod is gone)', async () => {
    const cluster = await withAnswer(solution);
    const before = await plansOf(cluster);
    const backend = (await cluster.list('Pod', lab.namespace)).filter((p) =>
      p.metadata.name.startsWith('backend-'),
    );
    expect(backend.length).toBeGreaterThan(1);
    await cluster.delete('Pod', backend[0]!.metadata.name, lab.namespace);
    const after = await plansOf(cluster);
    const sources = (plans: CheckPlan[]) => new Set(plans.flatMap((p) => p.probes.map((x) => x.from)));
    expect(sources(after).has(`${lab.namespace}/${backend[0]!.metadata.name}`)).toBe(false);
    expect(sources(before).has(`${lab.namespace}/${backend[0]!.metadata.name}`)).toBe(true);
  });

  it("shares a state's workloads between grades, and follows the pods when they change", async () => {
    const cluster = await withAnswer(solution);
    const first = await gradeLab({ lab, scenario, cluster });
    const again = await gradeLab({ lab, scenario, cluster: await withAnswer(solution) });
    expect(again.workloads).toBe(first.workloads);
    const backend = Object.keys(first.workloads ?? {}).find((p) =>
      p.startsWith(`${lab.namespace}/backend-`),
    )!;
    await cluster.delete('Pod', backend.split('/')[1]!, lab.namespace);
    const after = await gradeLab({ lab, scenario, cluster });
    expect(Object.keys(after.workloads ?? {})).not.toContain(backend);
    // The Deployment made a replacement, which the new map knows.
    const backends = (w: Record<string, string> | undefined) =>
      Object.entries(w ?? {}).filter(([, workload]) => workload === `${lab.namespace}/backend`);
    expect(backends(after.workloads)).toHaveLength(backends(first.workloads).length);
  });

  it('remembers nothing when the content is not known (a real cluster has no versionBesidesPolicies)', async () => {
    const cluster = await withAnswer(solution);
    const unversioned = async (c: SimulatedCluster) => {
      const { versionBesidesPolicies: _dropped, ...rest } = await takeSnapshot(c);
      return rest as Snapshot;
    };
    const a = await plansOf(cluster, unversioned);
    const b = await plansOf(cluster, unversioned);
    expect(b[0]).not.toBe(a[0]);
    expect(b[0]).toEqual(a[0]);
    expect(Object.isFrozen(a[0])).toBe(false);
  });
});
