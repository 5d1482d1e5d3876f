/**
 * Changes to NetworkPolicies skip the controllers (nothing but the data plane reads them). These
 * tests hold that to what a full reconcile would have done.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedCluster } from '../../../server/cluster/sim/index.js';
import type { KubeObject } from '../../../server/cluster/types.js';
import { namespace, npBackendScenario, referencePolicy } from './fixtures.js';

const KINDS = [
  'Namespace',
  'Node',
  'Pod',
  'Service',
  'Endpoints',
  'ConfigMap',
  'Deployment',
  'ReplicaSet',
  'NetworkPolicy',
];

function everything(cluster: SimulatedCluster): string {
  return JSON.stringify(KINDS.map((k) => cluster.listNow(k)));
}

/** Re-applying an unchanged Namespace runs every controller and changes nothing else. */
async function fullReconcile(cluster: SimulatedCluster): Promise<void> {
  const [outcome] = await cluster.apply([namespace('np-lab')]);
  expect(outcome?.action).toBe('unchanged');
}

async function scenarioCluster(): Promise<SimulatedCluster> {
  const cluster = new SimulatedCluster({ now: () => new Date('2025-01-01T00:00:00Z') });
  await cluster.apply(npBackendScenario());
  return cluster;
}

function owned(obj: KubeObject, owner: { kind: string; name: string; uid: string }): KubeObject {
  return {
    ...obj,
    metadata: {
      ...obj.metadata,
      ownerReferences: [{ apiVersion: 'v1', ...owner, controller: true }],
    },
  } as KubeObject;
}

describe('NetworkPolicy changes and the controllers', () => {
  it('leave the cluster exactly as a full reconcile would (create, update, delete)', async () => {
    const cluster = await scenarioCluster();
    const steps: Array<() => Promise<unknown>> = [
      () => cluster.apply([referencePolicy()]),
      () => {
        const changed = referencePolicy();
        (changed.spec as { podSelector: unknown }).podSelector = { matchLabels: { app: 'db1' } };
        return cluster.apply([changed]);
      },
      () => cluster.delete('NetworkPolicy', referencePolicy().metadata.name, 'np-lab'),
    ];
    for (const step of steps) {
      await step();
      const after = everything(cluster);
      await fullReconcile(cluster);
      expect(everything(cluster)).toBe(after);
    }
  });

  it('still let the garbage collector remove a policy whose controlling owner does not exist', async () => {
    const cluster = await scenarioCluster();
    const orphan = owned(referencePolicy(), { kind: 'ConfigMap', name: 'gone', uid: 'no-such-uid' });
    await cluster.apply([orphan]);
    expect(cluster.listNow('NetworkPolicy', 'np-lab')).toEqual([]);
  });

  it('still collect what a deleted policy controlled', async () => {
    const cluster = await scenarioCluster();
    await cluster.apply([referencePolicy()]);
    const policy = cluster.get('NetworkPolicy', referencePolicy().metadata.name, 'np-lab')!;
    const configMap: KubeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'follows-the-policy', namespace: 'np-lab' },
      data: { a: 'b' },
    } as KubeObject;
    const uid = String(policy.metadata.uid);
    await cluster.apply([owned(configMap, { kind: 'NetworkPolicy', name: policy.metadata.name, uid })]);
    expect(cluster.get('ConfigMap', 'follows-the-policy', 'np-lab')).toBeDefined();
    await cluster.delete('NetworkPolicy', policy.metadata.name, 'np-lab');
    expect(cluster.get('ConfigMap', 'follows-the-policy', 'np-lab')).toBeUndefined();
  });
});
