import { describe, expect, it } from 'vitest';
import type { ApplyOutcome, Cluster, KubeObject, ListableKind } from '../../server/cluster/types.js';
import type { GradeReport } from '../../server/grader/report.js';
import {
  ClusterChecker,
  SimulatedChecker,
  type Prediction,
  type SavedSession,
  type SimulatedCheckerParts,
} from '../../server/web/checker.js';
import { fakeLab } from './fakes.js';
import { freezeDeep } from '../../server/freeze.js';

/** Objects in a map; enough of a Cluster for the checker's bookkeeping. */
class MapCluster implements Cluster {
  readonly mode = 'simulated' as const;
  readonly description = 'map cluster';
  readonly objects = new Map<string, KubeObject>();
  log: string[] = [];
  private static n = 0;
  readonly id = ++MapCluster.n;

  async apply(objects: KubeObject[]): Promise<ApplyOutcome[]> {
    return objects.map((o) => {
      this.log.push(`apply ${o.metadata.name}`);
      this.objects.set(`${o.kind}/${o.metadata.namespace}/${o.metadata.name}`, o);
      return { kind: o.kind, name: o.metadata.name, action: 'created' as const };
    });
  }
  async delete(kind: string, name: string, namespace?: string): Promise<void> {
    this.log.push(`delete ${name}`);
    this.objects.delete(`${kind}/${namespace}/${name}`);
  }
  async list(kind: ListableKind): Promise<KubeObject[]> {
    return [...this.objects.values()].filter((o) => o.kind === kind);
  }
  async waitReady() {
    return { ready: true, notReady: [] };
  }
  async exec() {
    return { exitCode: 0, stdout: '', stderr: '' };
  }
  async deleteNamespace() {}
}

const policy = (name: string): KubeObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name, namespace: 'np-lab' },
  spec: { podSelector: {} },
});

function gradeByPolicies(lab: { id: string }, cluster: Cluster): Promise<GradeReport> {
  return cluster.list('NetworkPolicy').then((ps) => ({
    lab: lab.id,
    passed: ps.some((p) => p.metadata.name === 'np-backend'),
    status: 'failed',
    cluster: {
      mode: 'simulated',
      description: ps
        .map((p) => p.metadata.name)
        .sort()
        .join(','),
    },
    checks: [],
    summary: '',
    startedAt: '',
    durationMs: 0,
  }));
}

function setup(
  opts: {
    maxSessions?: number;
    maxClusters?: number;
    failFirst?: boolean;
    saved?: SimulatedCheckerParts['saved'];
  } = {},
) {
  const clusters: MapCluster[] = [];
  let fail = opts.failFirst ?? false;
  const checker = new SimulatedChecker({
    freshCluster: async () => {
      if (fail) {
        fail = false;
        throw new Error('scenario did not deploy');
      }
      const c = new MapCluster();
      // The scenario ships a policy of its own that the learner must not lose.
      await c.apply([policy('scenario-default')]);
      clusters.push(c);
      return c;
    },
    grade: async (lab, cluster) => gradeByPolicies(lab, cluster),
    predict: async (_lab, cluster): Promise<Prediction> => {
      const ps = await cluster.list('NetworkPolicy');
      return {
        probes: [
          {
            from: 'np-lab/backend-0',
            to: 'db1',
            expected: 'open',
            outcome: ps.length > 1 ? 'blocked' : 'allowed',
            explanation: 'x',
          },
        ],
      };
    },
    ...(opts.maxSessions ? { maxSessions: opts.maxSessions } : {}),
    ...(opts.maxClusters ? { maxClusters: opts.maxClusters } : {}),
    ...(opts.saved ? { saved: opts.saved, saveDelayMs: 1 } : {}),
  });
  return { checker, clusters };
}

const lab = fakeLab();

describe('SimulatedChecker', () => {
  it('grades the live cluster: kubectl changes count, the same editor text is not applied again', async () => {
    const { checker } = setup();
    const live = (await checker.live(lab, 'a')) as MapCluster;
    // kubectl creates the policy; Check without editor manifests grades it as it is.
    await live.apply([policy('np-backend')]);
    checker.changed(lab, 'a');
    expect((await checker.check({ lab, learnerId: 'a' })).passed).toBe(true);
    // The editor applies its text once; kubectl then deletes that policy; the same text again
    // leaves the cluster as kubectl left it.
    await checker.check({ lab, learnerId: 'a', manifests: [policy('mine')] });
    await live.delete('NetworkPolicy', 'mine', 'np-lab');
    const again = await checker.check({ lab, learnerId: 'a', manifests: [policy('mine')] });
    expect(again.cluster.description).toBe('np-backend,scenario-default');
    // Different text replaces what the editor applied (and only that).
    const other = await checker.check({ lab, learnerId: 'a', manifests: [policy('theirs')] });
    expect(other.cluster.description).toBe('np-backend,scenario-default,theirs');
    expect(await checker.live(lab, 'a')).toBe(live);
  });

  it('takes frozen manifests (a worker shares parsed answers between learners) as text like any others', async () => {
    const { checker, clusters } = setup();
    const shared = freezeDeep([policy('mine')]);
    await checker.check({ lab, learnerId: 'a', manifests: shared });
    await checker.check({ lab, learnerId: 'b', manifests: shared });
    // The same frozen list again: nothing to apply. An equal list that is not frozen: the same text.
    await checker.check({ lab, learnerId: 'a', manifests: shared });
    await checker.check({ lab, learnerId: 'a', manifests: [policy('mine')] });
    expect(clusters.map((c) => c.log.filter((l) => l === 'apply mine').length)).toEqual([1, 1]);
    const other = await checker.check({ lab, learnerId: 'a', manifests: freezeDeep([policy('theirs')]) });
    expect(other.cluster.description).toBe('scenario-default,theirs');
  });

  it('keeps changed sessions where it is told to, brings them back, and forgets them on reset', async () => {
    const kept = new Map<string, SavedSession>();
    const saved: NonNullable<SimulatedCheckerParts['saved']> = {
      load: async (l, who) => kept.get(`${who}/${l.id}`),
      save: (l, who, session) => void kept.set(`${who}/${l.id}`, session),
      drop: (l, who) => void kept.delete(`${who}/${l.id}`),
    };
    const first = setup({ saved });
    await first.checker.check({ lab, learnerId: 'a', manifests: [policy('np-backend')] });
    await first.checker.flush();
    expect(kept.get(`a/${lab.id}`)?.applied).toEqual([
      { kind: 'NetworkPolicy', name: 'np-backend', namespace: 'np-lab' },
    ]);
    // A new checker (a restarted server) finds the learner's cluster as it was.
    const second = setup({ saved });
    expect((await second.checker.check({ lab, learnerId: 'a' })).passed).toBe(true);
    expect(second.clusters).toHaveLength(0);
    await second.checker.reset({ lab, learnerId: 'a' });
    expect(kept.size).toBe(0);
    expect((await second.checker.check({ lab, learnerId: 'a' })).passed).toBe(false);
    expect(second.clusters).toHaveLength(1);
  });

  it('gives each learner their own cluster and replaces their earlier policies on each check', async () => {
    const { checker, clusters } = setup();
    const first = await checker.check({ lab, learnerId: 'a', manifests: [policy('one'), policy('two')] });
    expect(first.cluster.description).toBe('one,scenario-default,two');
    const second = await checker.check({ lab, learnerId: 'a', manifests: [policy('np-backend')] });
    expect(second.cluster.description).toBe('np-backend,scenario-default');
    expect(second.passed).toBe(true);
    const other = await checker.check({ lab, learnerId: 'b', manifests: [] });
    expect(other.cluster.description).toBe('scenario-default');
    expect(clusters).toHaveLength(2);
    expect(checker.sessionCount).toBe(2);
  });

  it('the matrix says "before" until the learner applies something, and follows their cluster', async () => {
    const { checker } = setup();
    const before = await checker.matrix({ lab, learnerId: 'a' });
    expect(before.before).toBe(true);
    expect(before.cells[0]![0]!.outcome).toBe('allowed');
    await checker.check({ lab, learnerId: 'a', manifests: [policy('deny')] });
    const after = await checker.matrix({ lab, learnerId: 'a' });
    expect(after.before).toBe(false);
    expect(after.cells[0]![0]).toMatchObject({ outcome: 'blocked', ok: false });
  });

  it('reset gives the learner a fresh scenario on the next action', async () => {
    const { checker, clusters } = setup();
    await checker.check({ lab, learnerId: 'a', manifests: [policy('x')] });
    await checker.reset({ lab, learnerId: 'a' });
    expect(checker.sessionCount).toBe(0);
    const r = await checker.check({ lab, learnerId: 'a', manifests: [] });
    expect(r.cluster.description).toBe('scenario-default');
    expect(clusters).toHaveLength(2);
    await checker.reset({ lab, learnerId: 'nobody' });
  });

  it("runs one learner's actions in order, so concurrent checks never interleave", async () => {
    const { checker, clusters } = setup();
    const results = await Promise.all(
      ['p1', 'p2', 'p3', 'p4'].map((name) =>
        checker.check({ lab, learnerId: 'a', manifests: [policy(name)] }),
      ),
    );
    expect(results.map((r) => r.cluster.description)).toEqual([
      'p1,scenario-default',
      'p2,scenario-default',
      'p3,scenario-default',
      'p4,scenario-default',
    ]);
    expect(clusters).toHaveLength(1);
    expect(clusters[0]!.log.slice(1)).toEqual([
      'apply p1',
      'delete p1',
      'apply p2',
      'delete p2',
      'apply p3',
      'delete p3',
      'apply p4',
    ]);
  });

  it('keeps at most maxSessions clusters, dropping the least recently used', async () => {
    const { checker, clusters } = setup({ maxSessions: 2 });
    await checker.check({ lab, learnerId: 'a', manifests: [policy('a')] });
    await checker.check({ lab, learnerId: 'b', manifests: [] });
    await checker.matrix({ lab, learnerId: 'a' }); // a is now the most recent
    await checker.check({ lab, learnerId: 'c', manifests: [] });
    expect(checker.sessionCount).toBe(2);
    expect(clusters).toHaveLength(3);
    // a survived; b was dropped and gets a fresh cluster on its next check.
    expect((await checker.matrix({ lab, learnerId: 'a' })).before).toBe(false);
    expect(clusters).toHaveLength(3);
    await checker.check({ lab, learnerId: 'b', manifests: [] });
    expect(clusters).toHaveLength(4);
  });

  it('a matrix for someone without a session is the untouched scenario, built once and creating no session', async () => {
    const { checker, clusters } = setup({ maxSessions: 2 });
    await checker.check({ lab, learnerId: 'a', manifests: [policy('deny')] });
    const visitors = await Promise.all(
      Array.from({ length: 20 }, (_, i) => checker.matrix({ lab, learnerId: `visitor-${i}` })),
    );
    for (const m of visitors) {
      expect(m.before).toBe(true);
      expect(m.cells[0]![0]!.outcome).toBe('allowed');
    }
    // One cluster for the learner, one for the untouched scenario; no visitor took a session.
    expect(clusters).toHaveLength(2);
    expect(checker.sessionCount).toBe(1);
    // So the learner's work was not evicted by the visitors.
    expect((await checker.matrix({ lab, learnerId: 'a' })).cells[0]![0]!.outcome).toBe('blocked');
    await checker.reset({ lab, learnerId: 'a' });
    expect((await checker.matrix({ lab, learnerId: 'a' })).before).toBe(true);
    expect(clusters).toHaveLength(2);
  });

  it('keeps at most maxClusters clusters; a learner whose cluster was dropped keeps their work', async () => {
    const { checker, clusters } = setup({ maxClusters: 2 });
    await checker.check({ lab, learnerId: 'a', manifests: [policy('a1'), policy('a2')] });
    await checker.check({ lab, learnerId: 'b', manifests: [policy('b1')] });
    await checker.check({ lab, learnerId: 'c', manifests: [] });
    expect(checker.clusterCount).toBe(2);
    expect(checker.sessionCount).toBe(3);
    expect(clusters).toHaveLength(3);

    // a's cluster was dropped: the matrix is computed on a fresh copy with a's policies again.
    const m = await checker.matrix({ lab, learnerId: 'a' });
    expect(m.before).toBe(false);
    expect(m.cells[0]![0]!.outcome).toBe('blocked');
    expect(clusters).toHaveLength(4);
    expect(clusters[3]!.log).toEqual(['apply scenario-default', 'apply a1', 'apply a2']);
    expect(checker.clusterCount).toBe(2);

    // b's was dropped now; b's next check starts from a fresh copy, with only the new policy.
    const r = await checker.check({ lab, learnerId: 'b', manifests: [policy('np-backend')] });
    expect(r.cluster.description).toBe('np-backend,scenario-default');
    expect(clusters[4]!.log).toEqual(['apply scenario-default', 'apply np-backend']);
    // a kept its cluster (most recently used before b) and replaces its policies in place.
    const again = await checker.check({ lab, learnerId: 'a', manifests: [policy('a3')] });
    expect(again.cluster.description).toBe('a3,scenario-default');
    expect(clusters).toHaveLength(5);
    expect(clusters[3]!.log.slice(-3)).toEqual(['delete a1', 'delete a2', 'apply a3']);
  });

  it('a failure building the untouched scenario is not remembered', async () => {
    const { checker } = setup({ failFirst: true });
    await expect(checker.matrix({ lab, learnerId: 'v' })).rejects.toThrow('scenario did not deploy');
    expect((await checker.matrix({ lab, learnerId: 'v' })).before).toBe(true);
  });

  it('a scenario that fails to deploy is reported and retried on the next action', async () => {
    const { checker } = setup({ failFirst: true });
    await expect(checker.check({ lab, learnerId: 'a', manifests: [] })).rejects.toThrow(
      'scenario did not deploy',
    );
    const r = await checker.check({ lab, learnerId: 'a', manifests: [] });
    expect(r.cluster.description).toBe('scenario-default');
  });

  it('a failed apply still removes the half-applied policies on the next attempt', async () => {
    const { checker, clusters } = setup();
    await checker.check({ lab, learnerId: 'a', manifests: [policy('keep')] });
    const cluster = clusters[0]!;
    const realApply = cluster.apply.bind(cluster);
    cluster.apply = async (objs) => {
      await realApply(objs.slice(0, 1));
      throw new Error('invalid second object');
    };
    await expect(
      checker.check({ lab, learnerId: 'a', manifests: [policy('half'), policy('bad')] }),
    ).rejects.toThrow('invalid');
    cluster.apply = realApply;
    const r = await checker.check({ lab, learnerId: 'a', manifests: [] });
    expect(r.cluster.description).toBe('scenario-default');
  });
});

describe('ClusterChecker', () => {
  it('grades the one shared cluster, ignores manifests, and runs checks and resets one at a time', async () => {
    const cluster = new MapCluster();
    const order: string[] = [];
    const checker = new ClusterChecker({
      cluster,
      grade: async (l, c) => {
        order.push('grade start');
        await new Promise((r) => setTimeout(r, 20));
        order.push('grade end');
        return gradeByPolicies(l, c);
      },
      predict: async () => ({ probes: [] }),
      resetScenario: async () => {
        order.push('reset');
      },
    });
    const [r] = await Promise.all([
      checker.check({ lab, learnerId: 'a', manifests: [policy('ignored')] }),
      checker.reset({ lab, learnerId: 'a' }),
    ]);
    expect(r.cluster.description).toBe('');
    expect(order).toEqual(['grade start', 'grade end', 'reset']);
    const m = await checker.matrix({ lab, learnerId: 'a' });
    expect(m.before).toBe(true);
    await cluster.apply([policy('np-backend')]);
    expect((await checker.matrix({ lab, learnerId: 'a' })).before).toBe(false);
  });
});
