/**
 * One task's view of the exam cluster. Every task's scenario runs on the same cluster, but a task
 * is graded as if its scenario were alone: the grader sees only the task's namespaces (and
 * kube-system, where cluster DNS lives). That is exact for what the task's checks judge: traffic
 * between pods of those namespaces is decided by the policies in those namespaces (a
 * NetworkPolicy selects pods of its own namespace only) and by DNS in kube-system, so another
 * task's policies can neither help nor break it, and another task's pods and policies cannot be
 * mistaken for changes by "nothing else changes" statements. Exec, apply and delete go to the
 * real cluster; probes run there, through every policy the cluster holds.
 */
import type {
  ApplyOutcome,
  Cluster,
  ExecResult,
  KubeObject,
  ListableKind,
  PodRef,
  ProgressFn,
  ReadyReport,
} from '../cluster/types.js';

const SHARED_NAMESPACES = ['kube-system'];

export class TaskView implements Cluster {
  private readonly visible: Set<string>;

  constructor(
    private readonly inner: Cluster,
    namespaces: string[],
  ) {
    this.visible = new Set([...namespaces, ...SHARED_NAMESPACES]);
  }

  get mode(): Cluster['mode'] {
    return this.inner.mode;
  }

  get description(): string {
    return this.inner.description;
  }

  /** Present only when the cluster underneath can be copied (the simulated one): pre-flight uses it. */
  get fork(): (() => Cluster) | undefined {
    const inner = this.inner as Cluster & { fork?: () => Cluster };
    if (typeof inner.fork !== 'function') return undefined;
    return () => new TaskView(inner.fork!(), [...this.visible]);
  }

  apply(objects: KubeObject[], opts?: { onProgress?: ProgressFn }): Promise<ApplyOutcome[]> {
    return this.inner.apply(objects, opts);
  }

  delete(kind: string, name: string, namespace?: string): Promise<void> {
    return this.inner.delete(kind, name, namespace);
  }

  async list(kind: ListableKind, namespace?: string): Promise<KubeObject[]> {
    if (namespace !== undefined && !this.visible.has(namespace) && kind !== 'Namespace' && kind !== 'Node')
      return [];
    const all = await this.inner.list(kind, namespace);
    if (kind === 'Node') return all;
    if (kind === 'Namespace') return all.filter((o) => this.visible.has(o.metadata.name));
    // Cluster-scoped objects (ClusterRoles and their bindings) belong to no task: every task sees them.
    return all.filter((o) => !o.metadata.namespace || this.visible.has(o.metadata.namespace));
  }

  waitReady(
    namespaces: string[],
    opts: { timeoutMs: number; onProgress?: ProgressFn },
  ): Promise<ReadyReport> {
    return this.inner.waitReady(namespaces, opts);
  }

  exec(pod: PodRef, argv: string[], timeoutMs: number): Promise<ExecResult> {
    return this.inner.exec(pod, argv, timeoutMs);
  }

  /** Authorization is the API server's answer for the whole cluster; present when the cluster underneath has it. */
  get reviewAccess(): Cluster['reviewAccess'] {
    const inner = this.inner;
    return inner.reviewAccess ? (queries) => inner.reviewAccess!(queries) : undefined;
  }

  get servedResources(): Cluster['servedResources'] {
    const inner = this.inner;
    return inner.servedResources ? () => inner.servedResources!() : undefined;
  }

  /** Admission is the API server's answer for the whole cluster; present when the cluster underneath has it. */
  get dryRunCreate(): Cluster['dryRunCreate'] {
    const inner = this.inner;
    return inner.dryRunCreate ? (object) => inner.dryRunCreate!(object) : undefined;
  }

  deleteNamespace(name: string, opts?: { timeoutMs?: number; onProgress?: ProgressFn }): Promise<void> {
    return this.inner.deleteNamespace(name, opts);
  }
}
