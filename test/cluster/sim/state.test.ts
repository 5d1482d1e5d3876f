import { describe, expect, it } from 'vitest';
import {
  emptyState,
  forkState,
  getObject,
  putObject,
  removeObject,
} from '../../../server/cluster/sim/state.js';
import { SimulatedCluster } from '../../../server/cluster/sim/index.js';
import type { KubeObject } from '../../../server/cluster/types.js';

const configMap = (name: string, data: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'default' },
  data,
});

describe('the simulated cluster state', () => {
  it('freezes what it stores, deeply, so a shared object cannot change under a fork', () => {
    const state = emptyState(1);
    putObject(state, configMap('a', { k: 'v' }));
    const stored = getObject(state, 'ConfigMap', 'default', 'a')!;
    expect(Object.isFrozen(stored)).toBe(true);
    expect(Object.isFrozen(stored.metadata)).toBe(true);
    expect(() => {
      (stored.data as Record<string, string>).k = 'changed';
    }).toThrow(TypeError);
  });

  it('forks by sharing objects, and each side changes only itself', () => {
    const state = emptyState(1);
    putObject(state, configMap('a', { k: 'v' }));
    putObject(state, configMap('b', { k: 'v' }));
    const fork = forkState(state);
    expect(getObject(fork, 'ConfigMap', 'default', 'a')).toBe(getObject(state, 'ConfigMap', 'default', 'a'));
    putObject(fork, configMap('a', { k: 'fork' }));
    removeObject(fork, 'ConfigMap', 'default', 'b');
    putObject(state, configMap('c', { k: 'v' }));
    expect(getObject(state, 'ConfigMap', 'default', 'a')?.data).toEqual({ k: 'v' });
    expect(getObject(state, 'ConfigMap', 'default', 'b')).toBeDefined();
    expect(getObject(fork, 'ConfigMap', 'default', 'a')?.data).toEqual({ k: 'fork' });
    expect(getObject(fork, 'ConfigMap', 'default', 'b')).toBeUndefined();
    expect(getObject(fork, 'ConfigMap', 'default', 'c')).toBeUndefined();
    // Versions are never reused: the two sides differ now, though each made as many changes.
    expect(fork.version).not.toBe(state.version);
  });

  it('hands readers copies they may change, and the grader frozen objects it only reads', async () => {
    const cluster = new SimulatedCluster();
    const [listed] = await cluster.list('Namespace');
    listed!.metadata.labels = { changed: 'yes' };
    expect(Object.isFrozen(cluster.listFrozen('Namespace')[0])).toBe(true);
    expect(cluster.listFrozen('Namespace')[0]!.metadata.labels).not.toEqual({ changed: 'yes' });
  });

  it('keeps a restored cluster frozen and gives it a version of its own', () => {
    const cluster = new SimulatedCluster();
    const restored = SimulatedCluster.restore(cluster.saveState())!;
    expect(restored.versionBesidesPolicies()).toBeDefined();
    expect(restored.versionBesidesPolicies()).not.toBe(cluster.versionBesidesPolicies());
    expect(Object.isFrozen(restored.listFrozen('Namespace')[0])).toBe(true);
  });
});
