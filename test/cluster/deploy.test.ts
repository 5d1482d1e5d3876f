import { describe, expect, it } from 'vitest';
import { deployScenario, teardownScenario } from '../../server/cluster/deploy.js';
import type { KubeObject, ReadyReport } from '../../server/cluster/types.js';
import { ScriptedCluster } from './helpers/fake-cluster.js';

const objects: KubeObject[] = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'np-lab' } },
  { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'backend', namespace: 'np-lab' } },
];

class RecordingCluster extends ScriptedCluster {
  readonly order: string[] = [];
  readyNamespaces: string[][] = [];
  override async apply(objs: KubeObject[]) {
    this.order.push('apply');
    return super.apply(objs);
  }
  override async waitReady(namespaces: string[]): Promise<ReadyReport> {
    this.order.push('waitReady');
    this.readyNamespaces.push(namespaces);
    return this.ready;
  }
  override async deleteNamespace(name: string) {
    this.order.push(`delete ${name}`);
    return super.deleteNamespace(name);
  }
}

describe('deployScenario', () => {
  it('applies, then waits for the scenario namespaces', async () => {
    const cluster = new RecordingCluster();
    const result = await deployScenario(cluster, {
      name: 'np-backend',
      namespaces: ['np-lab', 'np-outside'],
      objects,
    });
    expect(cluster.order).toEqual(['apply', 'waitReady']);
    expect(cluster.readyNamespaces).toEqual([['np-lab', 'np-outside']]);
    expect(result.applied).toHaveLength(2);
  });

  it('reset deletes the namespaces first', async () => {
    const cluster = new RecordingCluster();
    await deployScenario(cluster, { namespaces: ['np-lab', 'np-outside'], objects }, { reset: true });
    expect(cluster.order).toEqual(['delete np-lab', 'delete np-outside', 'apply', 'waitReady']);
  });

  it('pods that do not start are an ENVIRONMENT error with the reason and advice', async () => {
    const cluster = new RecordingCluster();
    cluster.ready = {
      ready: false,
      notReady: ['np-lab/backend-1: ImagePullBackOff: Back-off pulling image "agnhost"'],
    };
    await expect(
      deployScenario(
        cluster,
        { name: 'np-backend', namespaces: ['np-lab'], objects },
        { readyTimeoutMs: 1000 },
      ),
    ).rejects.toMatchObject({
      code: 'ENVIRONMENT',
      message: expect.stringContaining(
        'scenario np-backend did not become ready within 1s: np-lab/backend-1: ImagePullBackOff',
      ),
      hint: expect.stringContaining('cannot pull the image'),
    });
  });

  it('teardown deletes every namespace', async () => {
    const cluster = new RecordingCluster();
    await teardownScenario(cluster, ['a', 'b']);
    expect(cluster.deletedNamespaces.sort()).toEqual(['a', 'b']);
  });
});
