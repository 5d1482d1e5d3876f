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
  it('keeps a plane from the second time its content is asked for, not the first', async () => {
    const planes = new SharedPlanes();
    const base = await scenarioBase(planes);
    const [once, twice] = [base.fork(), base.fork()];
    await once.apply([referencePolicy()]);
    await twice.apply([referencePolicy()]);
    expect(await outcome(once, 'db1', 1111)).toBe('allowed');
    expect(planes.size).toBe(0);
    expect(await outcome(twice, 'db1', 1111)).toBe('allowed');
    expect(planes.size).toBe(1);
  });

  it('gives learners who applied the same answer one plane, and a different answer its own', async () => {
    const planes = new SharedPlanes();
    const base = await scenarioBase(planes);
    const [first, a, b, c, d] = [base.fork(), base.fork(), base.fork(), base.fork(), base.fork()];
    for (const x of [first, a, b]) await x.apply([referencePolicy()]);
    for (const x of [c, d]) await x.apply([denyAllEgress()]);
    await outcome(first, 'db1', 1111);
    expect(await outcome(a, 'db1', 1111)).toBe('allowed');
    expect(planes.size).toBe(1);
    expect(await outcome(b, 'db1', 1111)).toBe('allowed');
    expect(planes.size).toBe(1);
    // The wrong answer (DNS blocked with the rest) is judged on a plane of its own, not the solution's.
    expect(await outcome(c, 'db1', 1111)).toBe('dns-failure');
    expect(await outcome(d, 'db1', 1111)).toBe('dns-failure');
    expect(planes.size).toBe(2);
  });

  it('does not care in which order the policies were applied', async () => {
    const planes = new SharedPlanes();
    const base = await scenarioBase(planes);
    const [first, a, b] = [base.fork(), base.fork(), base.fork()];
    await first.apply([referencePolicy(), denyAllEgress()]);
    await a.apply([referencePolicy(), denyAllEgress()]);
    await b.apply([denyAllEgress(), referencePolicy()]);
    await outcome(first, 'db1', 1111);
    await outcome(a, 'db1', 1111);
    expect(planes.size).toBe(1);
    await outcome(b, 'db1', 1111);
    expect(planes.size).toBe(1);
  });

  it('keeps a plane describing the content it was made for when its first cluster changes on', async () => {
    const planes = new SharedPlanes();
    const base = await scenarioBase(planes);
    const [first, a, b] = [base.fork(), base.fork(), base.fork()];
    for (const x of [first, a, b]) await x.apply([referencePolicy()]);
    await outcome(first, 'db1', 1111);
    // The plane kept now is made for a's state.
    expect(await outcome(a, 'db1', 1111)).toBe('allowed');
    expect(planes.size).toBe(1);
    // a's db2 Service now selects nothing: a's own answer changes ...
    const db2 = (await a.list('Service', 'np-lab')).find((s) => s.metadata.name === 'db2')!;
    await a.apply([{ ...db2, spec: { ...(db2.spec as object), selector: { app: 'nobody' } } }]);
    expect(await outcome(a, 'db2', 2222)).toBe('refused');
    // ... while b, whose content is what a's was, still gets that content's answer, from the kept
    // plane, which has not judged this connection before (so it reads the Service's endpoints now).
    expect(await outcome(b, 'db2', 2222)).toBe('allowed');
  });

  it('tells apart policies that differ only in a label the plane reads', async () => {
    const planes = new SharedPlanes();
    const base = await scenarioBase(planes);
    const labelled = () => {
      const p = referencePolicy();
      p.metadata.labels = { team: 'db' };
      return p;
    };
    const clusters = await Promise.all(
      [referencePolicy, referencePolicy, labelled, labelled].map(async (policy) => {
        const c = base.fork();
        await c.apply([policy()]);
        return c;
      }),
    );
    for (const c of clusters) await outcome(c, 'db1', 1111);
    expect(planes.size).toBe(2);
  });

  it('keeps at most its capacity of planes', async () => {
    const planes = new SharedPlanes(2);
    const base = await scenarioBase(planes);
    for (const port of [1111, 2222, 3333]) {
      for (let twice = 0; twice < 2; twice++) {
        const c = base.fork();
        const policy = referencePolicy();
        (policy.spec as { egress: Array<{ ports: unknown }> }).egress[0]!.ports = [{ protocol: 'TCP', port }];
        await c.apply([policy]);
        await outcome(c, 'db1', port);
      }
    }
    expect(planes.size).toBe(2);
  });
});
