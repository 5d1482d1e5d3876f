/**
 * A fake kind cluster as provisioning sees it after connecting: Calico becomes ready a few polls
 * after its manifest is applied, and nodes and CoreDNS become Ready with it (as they do on kind).
 */
import type { ProvisionedCluster } from '../../../server/cluster/provision.js';
import type { ApplyOutcome, ExecResult, KubeObject, ReadyReport } from '../../../server/cluster/types.js';

const cond = (type: string, ok: boolean) => ({ type, status: ok ? 'True' : 'False' });

export class FakeProvisionedCluster implements ProvisionedCluster {
  readonly mode = 'kube' as const;
  readonly description = 'context kind-kubelab (https://127.0.0.1:41235)';
  readonly applied: KubeObject[] = [];
  calicoPreinstalled = false;
  calicoVersion = 'v3.32.1';
  /** Polls of calico-node before everything is ready (Infinity: never). */
  pollsUntilReady = 3;
  extraDaemonSets: string[] = ['kube-proxy'];
  private polls = 0;

  private calicoInstalled(): boolean {
    return (
      this.calicoPreinstalled ||
      this.applied.some((o) => o.kind === 'DaemonSet' && o.metadata.name === 'calico-node')
    );
  }

  private calicoReady(): boolean {
    return this.calicoInstalled() && this.polls >= this.pollsUntilReady;
  }

  async ping(): Promise<string> {
    return 'v1.35.0';
  }

  async apply(objects: KubeObject[]): Promise<ApplyOutcome[]> {
    this.applied.push(...objects);
    return objects.map((o) => ({ kind: o.kind, name: o.metadata.name, action: 'created' as const }));
  }

  private calicoNode(): KubeObject {
    const ready = this.calicoReady() ? 2 : 0;
    return {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'calico-node', namespace: 'kube-system', generation: 1 },
      spec: {
        template: {
          spec: { containers: [{ name: 'calico-node', image: `quay.io/calico/node:${this.calicoVersion}` }] },
        },
      },
      status: {
        observedGeneration: 1,
        desiredNumberScheduled: 2,
        numberReady: ready,
        updatedNumberScheduled: 2,
      },
    };
  }

  async getObject(_apiVersion: string, kind: string, name: string): Promise<KubeObject | undefined> {
    if (!this.calicoInstalled()) return undefined;
    if (kind === 'DaemonSet' && name === 'calico-node') {
      this.polls++;
      return this.calicoNode();
    }
    if (kind === 'Deployment' && name === 'calico-kube-controllers') {
      const ok = this.calicoReady();
      return {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, namespace: 'kube-system', generation: 1 },
        spec: { replicas: 1 },
        status: {
          observedGeneration: 1,
          availableReplicas: ok ? 1 : 0,
          updatedReplicas: 1,
          conditions: [cond('Available', ok)],
        },
      };
    }
    return undefined;
  }

  async listObjects(
    _apiVersion: string,
    kind: string,
    _namespace?: string,
    labelSelector?: string,
  ): Promise<KubeObject[]> {
    const ok = this.calicoReady();
    if (kind === 'Node') {
      return ['kubelab-control-plane', 'kubelab-worker'].map((name, i) => ({
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          name,
          labels: (i === 0 ? { 'node-role.kubernetes.io/control-plane': '' } : {}) as Record<string, string>,
        },
        status: { conditions: [cond('Ready', ok)], nodeInfo: { kubeletVersion: 'v1.35.0' } },
      }));
    }
    if (kind === 'Pod' && labelSelector === 'k8s-app=kube-dns') {
      return ['coredns-a', 'coredns-b'].map((name) => ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
        status: { phase: ok ? 'Running' : 'Pending', conditions: [cond('Ready', ok)] },
      }));
    }
    if (kind === 'DaemonSet') {
      const names = [...this.extraDaemonSets, ...(this.calicoInstalled() ? ['calico-node'] : [])];
      return names.map((name) => ({
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        metadata: { name, namespace: 'kube-system' },
      }));
    }
    return [];
  }

  async list(): Promise<KubeObject[]> {
    return [];
  }
  async delete(): Promise<void> {}
  async waitReady(): Promise<ReadyReport> {
    return { ready: true, notReady: [] };
  }
  async exec(): Promise<ExecResult> {
    throw new Error('not used');
  }
  async deleteNamespace(): Promise<void> {}
}
