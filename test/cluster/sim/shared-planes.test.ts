/** Learners' clusters of equal content share a data plane, and never see each other's changes through it. */
import { describe, it, expect } from 'vitest';
import { SharedPlanes, SimulatedCluster } from '../../../server/cluster/sim/index.js';
import type { KubeObject } from '../../../server/cluster/types.js';
import { npBackendScenario, podRef, probe, referencePolicy, svcTcp } from './fixtures.js';

async function scenarioBase(planes: SharedPlanes): Promise<SimulatedCluster> {
  const base = new SimulatedCluster({ sharedPlanes: planes });
  await base.apply(npBackendScenario());
  return base;
}

/** What backend's first pod gets from a Service's port, classified as the grader reads it. */
async function outcome(cluster: SimulatedCluster, svc: string, port: number): Promise<string> {
  const from = await podRef(cluster, 'np-lab', 'backend');
  return (await probe(cluster, from, svcTcp(svc, 'np-lab', port))).classification.outcome;
}

function denyAllEgress(): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'deny-egress', namespace: 'np-lab' },
    spec: { podSelector: {}, policyTypes: ['Egress'] },
  };
}

describe('SharedPlanes', () => {
  it('gives two learners who applied the same answer one plane, and a different answer its own', async () => {
    const planes = new SharedPlanes();
    const base = await scenarioBase(planes);
    const [a, b, c] = [base.fork(), base.fork(), base.fork()];
    await a.apply([referencePolicy()]);
    await b.apply([referencePolicy()]);
    await c.apply([denyAllEgress()]);

    expect(await outcome(a, 'db1', 1111)).toBe('allowed');
    const afterA = planes.size;
    expect(await outcome(b, 'db1', 1111)).toBe('allowed');
    expect(planes.size).toBe(afterA);
    // The wrong answer (DNS blocked with the rest) is judged on a plane of its own, not the solution's.
    expect(await outcome(c, 'db1', 1111)).toBe('dns-failure');
    expect(planes.size).toBe(afterA + 1);
  });

  it('does not care in which order the policies were applied', async () => {
    const planes = new SharedPlanes();
    const base = await scenarioBase(planes);
    const [a, b] = [base.fork(), base.fork()];
    await a.apply([referencePolicy(), denyAllEgress()]);
    await b.apply([denyAllEgress(), referencePolicy()]);
    await outcome(a, 'db1', 1111);
    const afterA = planes.size;
    await outcome(b, 'db1', 1111);
    expect(planes.size).toBe(afterA);
  });

  it('keeps a plane describing the content it was made for when its first cluster changes on', async () => {
    const planes = new SharedPlanes();
    const base = await scenarioBase(planes);
    const [a, b] = [base.fork(), base.fork()];
    await a.apply([referencePolicy()]);
    await b.apply([referencePolicy()]);
    expect(await outcome(a, 'db1', 1111)).toBe('allowed');
    // a's db2 Service now selects nothing: a's own answer changes ...
    const db2 = (await a.list('Service', 'np-lab')).find((s) => s.metadata.name === 'db2')!;
    await a.apply([{ ...db2, spec: { ...(db2.spec as object), selector: { app: 'nobody' } } }]);
    expect(await outcome(a, 'db2', 2222)).toBe('refused');
    // ... while b, whose content is what a's was, still gets that content's answer, from a plane
    // that has not judged this connection before (so it reads the Service's endpoints now).
    expect(await outcome(b, 'db2', 2222)).toBe('allowed');
  });

  it('tells apart policies that differ only in a label the plane reads', async () => {
    const planes = new SharedPlanes();
    const base = await scenarioBase(planes);
    const [a, b] = [base.fork(), base.fork()];
    const labelled = referencePolicy();
    labelled.metadata.labels = { team: 'db' };
    await a.apply([referencePolicy()]);
    await b.apply([labelled]);
    await outcome(a, 'db1', 1111);
    const afterA = planes.size;
    await outcome(b, 'db1', 1111);
    expect(planes.size).toBe(afterA + 1);
  });

  it('keeps at most its capacity of planes', async () => {
    const planes = new SharedPlanes(2);
    const base = await scenarioBase(planes);
    for (const port of [1111, 2222, 3333]) {
      const c = base.fork();
      const policy = referencePolicy();
      (policy.spec as { egress: Array<{ ports: unknown }> }).egress[0]!.ports = [{ protocol: 'TCP', port }];
      await c.apply([policy]);
      await outcome(c, 'db1', port);
    }
    expect(planes.size).toBe(2);
  });
});
