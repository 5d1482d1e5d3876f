/**
 * A scripted Cluster for the canary and provisioning logic: pods become ready at once, and the
 * network answers curl probes the way the test says (before and after a NetworkPolicy exists).
 */
import type {
  ApplyOutcome,
  Cluster,
  ExecResult,
  KubeObject,
  ListableKind,
  PodRef,
  ReadyReport,
} from '../../../server/cluster/types.js';

export type NetworkAnswer = 'connect' | 'drop' | 'refuse' | 'exec-error';

export const CURL: Record<Exclude<NetworkAnswer, 'exec-error'>, ExecResult> = {
  connect: { exitCode: 0, stdout: '', stderr: '' },
  drop: { exitCode: 28, stdout: '', stderr: 'curl: (28) Connection timed out after 2002 milliseconds\n' },
  refuse: {
    exitCode: 7,
    stdout: '',
    stderr: "curl: (7) Failed to connect to 192.168.1.5 port 8080 after 0 ms: Couldn't connect to server\n",
  },
};

export class ScriptedCluster implements Cluster {
  readonly mode = 'kube' as const;
  readonly description = 'scripted test cluster';
  readonly applied: KubeObject[] = [];
  readonly deletedNamespaces: string[] = [];
  readonly execs: Array<{ pod: PodRef; argv: string[]; timeoutMs: number }> = [];
  ready: ReadyReport = { ready: true, notReady: [] };
  podIP: string | undefined = '192.168.1.5';
  /** Answers to probes, by phase; the last answer of a phase repeats. */
  beforePolicy: NetworkAnswer[] = ['connect'];
  afterPolicy: NetworkAnswer[] = ['connect', 'drop'];
  failDeleteNamespace = false;
  /** Namespaces that exist before the test (e.g. leftovers of an interrupted canary). */
  existingNamespaces: KubeObject[] = [];
  /** Objects deleted through delete(), as `Kind/name`. */
  readonly deleted: string[] = [];
  /** Called on every exec, before it answers (to interrupt a canary mid-probe). */
  onExec: (() => void) | undefined;
  private probes = { before: 0, after: 0 };

  policyApplied(): boolean {
    return this.applied.some((o) => o.kind === 'NetworkPolicy');
  }

  async apply(objects: KubeObject[]): Promise<ApplyOutcome[]> {
    this.applied.push(...objects);
    return objects.map((o) => ({ kind: o.kind, name: o.metadata.name, action: 'created' as const }));
  }

  async delete(kind: string, name: string): Promise<void> {
    this.deleted.push(`${kind}/${name}`);
  }

  async list(kind: ListableKind, namespace?: string): Promise<KubeObject[]> {
    if (kind === 'Namespace')
      return [...this.existingNamespaces, ...this.applied.filter((o) => o.kind === kind)];
    return this.applied
      .filter((o) => o.kind === kind && (!namespace || o.metadata.namespace === namespace))
      .map((o) =>
        kind === 'Pod' && o.metadata.name === 'canary-server' && this.podIP
          ? { ...o, status: { podIP: this.podIP } }
          : o,
      );
  }

  async waitReady(_namespaces: string[]): Promise<ReadyReport> {
    return this.ready;
  }

  async exec(pod: PodRef, argv: string[], timeoutMs: number): Promise<ExecResult> {
    this.execs.push({ pod, argv, timeoutMs });
    this.onExec?.();
    const phase = this.policyApplied() ? 'after' : 'before';
    const script = phase === 'after' ? this.afterPolicy : this.beforePolicy;
    const answer = script[Math.min(this.probes[phase]++, script.length - 1)]!;
    if (answer === 'exec-error') {
      const { environmentError } = await import('../../../server/errors.js');
      throw environmentError('the exec connection closed without an exit status');
    }
    return CURL[answer];
  }

  async deleteNamespace(name: string): Promise<void> {
    this.deletedNamespaces.push(name);
    if (this.failDeleteNamespace) throw new Error('namespace stuck terminating');
    // Like a real namespace deletion: everything in it (the policy too) goes away.
    for (let i = this.applied.length - 1; i >= 0; i--) {
      const o = this.applied[i]!;
      if (o.metadata.namespace === name || (o.kind === 'Namespace' && o.metadata.name === name))
        this.applied.splice(i, 1);
    }
    this.probes = { before: 0, after: 0 };
  }
}
