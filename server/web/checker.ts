/**
 * The two Checker implementations, written against small injected functions so they can be tested
 * with fakes: one simulated cluster per learner and lab, or one shared real cluster.
 */
import type { Cluster, KubeObject } from '../cluster/types.js';
import type { GradeReport } from '../grader/report.js';
import type { Lab } from '../labs/model.js';
import type { Checker } from './deps.js';
import { buildMatrix, type ConnectivityMatrix, type MatrixProbe } from './matrix.js';

export interface Prediction {
  probes: MatrixProbe[];
}

export interface SimulatedCheckerParts {
  /** A new simulated cluster with the lab's scenario deployed. */
  freshCluster(lab: Lab): Promise<Cluster>;
  grade(lab: Lab, cluster: Cluster): Promise<GradeReport>;
  /** The engine's prediction for the lab's connectivity checks on this cluster. */
  predict(lab: Lab, cluster: Cluster): Promise<Prediction>;
  /** Most sessions kept in memory; the least recently used is dropped (and rebuilt on demand). */
  maxSessions?: number;
}

interface Session {
  cluster: Promise<Cluster>;
  /** The NetworkPolicies this learner applied, so the next attempt replaces them. */
  applied: Array<{ kind: string; name: string; namespace?: string }>;
  /** Serialises this learner's actions on this lab: a check must not interleave with a reset. */
  queue: Promise<unknown>;
}

const LIVE_BASIS = 'predicted by the policy engine from the NetworkPolicies in your cluster now';

export class SimulatedChecker implements Checker {
  private readonly sessions = new Map<string, Session>();
  private readonly maxSessions: number;
  /**
   * Each lab's matrix on its untouched scenario. Whoever has no session (a first visit, a visitor
   * without a cookie, a learner after Reset) sees this one: building a cluster per such request
   * would let anyone fill the sessions, evicting learners' work, at the cost of a cluster each.
   */
  private readonly pristine = new Map<string, Promise<ConnectivityMatrix>>();

  constructor(private readonly parts: SimulatedCheckerParts) {
    this.maxSessions = parts.maxSessions ?? 1000;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  check(req: { lab: Lab; learnerId: string; manifests: KubeObject[] }): Promise<GradeReport> {
    return this.withSession(req.lab, req.learnerId, async (session, cluster) => {
      for (const old of session.applied) await cluster.delete(old.kind, old.name, old.namespace);
      session.applied = [];
      if (req.manifests.length > 0) {
        // Remember what is about to be applied first: if apply fails half way, the next attempt
        // still removes whatever made it into the cluster.
        session.applied = req.manifests.map((o) => ({
          kind: o.kind,
          name: o.metadata.name,
          ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
        }));
        await cluster.apply(req.manifests);
      }
      return this.parts.grade(req.lab, cluster);
    });
  }

  matrix(req: { lab: Lab; learnerId: string }): Promise<ConnectivityMatrix> {
    if (!this.sessions.has(sessionKey(req.lab.id, req.learnerId))) return this.pristineMatrix(req.lab);
    return this.withSession(req.lab, req.learnerId, async (session, cluster) => {
      const { probes } = await this.parts.predict(req.lab, cluster);
      return buildMatrix(probes, { basis: LIVE_BASIS, before: session.applied.length === 0 });
    });
  }

  async reset(req: { lab: Lab; learnerId: string }): Promise<void> {
    const key = sessionKey(req.lab.id, req.learnerId);
    const session = this.sessions.get(key);
    if (!session) return;
    // Wait for anything in flight, then forget the cluster: the next action builds a fresh one.
    await session.queue.catch(() => undefined);
    if (this.sessions.get(key) === session) this.sessions.delete(key);
  }

  private pristineMatrix(lab: Lab): Promise<ConnectivityMatrix> {
    let m = this.pristine.get(lab.id);
    if (!m) {
      m = (async () => {
        const { probes } = await this.parts.predict(lab, await this.parts.freshCluster(lab));
        return buildMatrix(probes, { basis: LIVE_BASIS, before: true });
      })();
      this.pristine.set(lab.id, m);
      m.catch(() => this.pristine.delete(lab.id));
    }
    return m;
  }

  private withSession<T>(
    lab: Lab,
    learnerId: string,
    action: (s: Session, c: Cluster) => Promise<T>,
  ): Promise<T> {
    const key = sessionKey(lab.id, learnerId);
    let session = this.sessions.get(key);
    if (session) {
      // Map order is insertion order: re-inserting marks the session as most recently used.
      this.sessions.delete(key);
    } else {
      const cluster = this.parts.freshCluster(lab);
      session = { cluster, applied: [], queue: Promise.resolve() };
      // A scenario that failed to deploy must not stick: drop the session so the next try rebuilds it.
      cluster.catch(() => {
        if (this.sessions.get(key) === session) this.sessions.delete(key);
      });
    }
    this.sessions.set(key, session);
    this.evict();
    const s = session;
    const run = s.queue.catch(() => undefined).then(async () => action(s, await s.cluster));
    s.queue = run;
    return run;
  }

  private evict(): void {
    while (this.sessions.size > this.maxSessions) {
      const oldest = this.sessions.keys().next();
      if (oldest.done) return;
      this.sessions.delete(oldest.value);
    }
  }
}

function sessionKey(labId: string, learnerId: string): string {
  return `${learnerId}\u0000${labId}`;
}

export interface ClusterCheckerParts {
  cluster: Cluster;
  grade(lab: Lab, cluster: Cluster): Promise<GradeReport>;
  predict(lab: Lab, cluster: Cluster): Promise<Prediction>;
  /** Deletes the scenario's namespaces and deploys the scenario again. */
  resetScenario(lab: Lab, cluster: Cluster): Promise<void>;
}

/**
 * A real cluster, shared by whoever uses this server (a local learner). The learner changes it with
 * kubectl, so the manifests sent with a check are ignored; checks run one at a time because probes
 * on a real cluster are slow and a reset in the middle would make them meaningless.
 */
export class ClusterChecker implements Checker {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly parts: ClusterCheckerParts) {}

  check(req: { lab: Lab; learnerId: string; manifests: KubeObject[] }): Promise<GradeReport> {
    return this.serial(() => this.parts.grade(req.lab, this.parts.cluster));
  }

  async matrix(req: { lab: Lab; learnerId: string }): Promise<ConnectivityMatrix> {
    const cluster = this.parts.cluster;
    const policies = await cluster.list('NetworkPolicy', req.lab.namespace);
    const { probes } = await this.parts.predict(req.lab, cluster);
    return buildMatrix(probes, { basis: LIVE_BASIS, before: policies.length === 0 });
  }

  reset(req: { lab: Lab; learnerId: string }): Promise<void> {
    return this.serial(() => this.parts.resetScenario(req.lab, this.parts.cluster));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.catch(() => undefined).then(fn);
    this.queue = run;
    return run;
  }
}
