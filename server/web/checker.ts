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
  /**
   * Most simulated clusters kept alive (each is a copy of its scenario, a few hundred kB). A
   * session whose cluster was dropped keeps what the learner applied: their next check starts from
   * a fresh copy of the scenario (as every first check does), and their matrix is computed on a
   * fresh copy with their objects applied again.
   */
  maxClusters?: number;
  /** Throws (BAD_INPUT) when the manifests would replace an object of the lab's scenario. */
  guard?(lab: Lab, manifests: KubeObject[]): Promise<void>;
}

export const DEFAULT_MAX_SESSIONS = 1000;
export const DEFAULT_MAX_CLUSTERS = 200;

type ObjectRef = { kind: string; name: string; namespace?: string };

interface Session {
  /** This learner's cluster while it is among the most recently used ones; else built on demand. */
  cluster: Promise<Cluster> | undefined;
  /** What this learner applied to `cluster`, so the next attempt replaces it. */
  applied: ObjectRef[];
  /** The objects of their last check, to build their cluster again after it was dropped. */
  manifests: KubeObject[];
  /** Serialises this learner's actions on this lab: a check must not interleave with a reset. */
  queue: Promise<unknown>;
}

const LIVE_BASIS = 'predicted by the policy engine from the NetworkPolicies in your cluster now';

export class SimulatedChecker implements Checker {
  private readonly sessions = new Map<string, Session>();
  private readonly maxSessions: number;
  /** Sessions holding a cluster, least recently used first. */
  private readonly live = new Set<Session>();
  private readonly maxClusters: number;
  /**
   * Each lab's matrix on its untouched scenario. Whoever has no session (a first visit, a visitor
   * without a cookie, a learner after Reset) sees this one: building a cluster per such request
   * would let anyone fill the sessions, evicting learners' work, at the cost of a cluster each.
   */
  private readonly pristine = new Map<string, Promise<ConnectivityMatrix>>();

  constructor(private readonly parts: SimulatedCheckerParts) {
    this.maxSessions = parts.maxSessions ?? DEFAULT_MAX_SESSIONS;
    this.maxClusters = Math.max(1, parts.maxClusters ?? DEFAULT_MAX_CLUSTERS);
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Simulated clusters alive now (the scenario's untouched copies not counted). */
  get clusterCount(): number {
    return this.live.size;
  }

  check(req: { lab: Lab; learnerId: string; manifests: KubeObject[] }): Promise<GradeReport> {
    // A session without a cluster starts from a fresh copy: its old objects would be deleted anyway.
    return this.withSession(
      req.lab,
      req.learnerId,
      'fresh',
      async (session, cluster) => {
        for (const old of session.applied) await cluster.delete(old.kind, old.name, old.namespace);
        session.applied = [];
        session.manifests = [];
        if (req.manifests.length > 0) {
          // Remember what is about to be applied first: if apply fails half way, the next attempt
          // still removes whatever made it into the cluster (and a rebuild fails the same way).
          session.applied = req.manifests.map(refOf);
          session.manifests = structuredClone(req.manifests);
          await cluster.apply(req.manifests);
        }
        return this.parts.grade(req.lab, cluster);
      },
      // Before the cluster is touched (or built): a refused submission leaves the learner's
      // cluster, and what a rebuild would apply, as they were.
      () => this.parts.guard?.(req.lab, req.manifests),
    );
  }

  matrix(req: { lab: Lab; learnerId: string }): Promise<ConnectivityMatrix> {
    const existing = this.sessions.get(sessionKey(req.lab.id, req.learnerId));
    if (!existing || (!existing.cluster && existing.manifests.length === 0))
      return this.pristineMatrix(req.lab);
    return this.withSession(req.lab, req.learnerId, 'rebuild', async (session, cluster) => {
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
    if (this.sessions.get(key) === session) this.drop(key, session);
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
    missing: 'fresh' | 'rebuild',
    action: (s: Session, c: Cluster) => Promise<T>,
    before?: () => Promise<void> | undefined,
  ): Promise<T> {
    const key = sessionKey(lab.id, learnerId);
    let session = this.sessions.get(key);
    if (session) {
      // Map order is insertion order: re-inserting marks the session as most recently used.
      this.sessions.delete(key);
    } else {
      session = { cluster: undefined, applied: [], manifests: [], queue: Promise.resolve() };
    }
    this.sessions.set(key, session);
    this.evictSessions();
    const s = session;
    const run = s.queue
      .catch(() => undefined)
      .then(async () => {
        await before?.();
        return action(s, await this.clusterOf(lab, s, missing));
      });
    s.queue = run;
    return run;
  }

  /**
   * The session's cluster, built when it has none: `fresh` is the scenario as deployed (the caller
   * is about to replace the learner's objects), `rebuild` has the learner's objects applied again.
   */
  private clusterOf(lab: Lab, s: Session, missing: 'fresh' | 'rebuild'): Promise<Cluster> {
    this.live.delete(s);
    this.live.add(s);
    if (!s.cluster) {
      const manifests = missing === 'rebuild' ? s.manifests : [];
      s.applied = manifests.map(refOf);
      const cluster = (async () => {
        const c = await this.parts.freshCluster(lab);
        if (manifests.length > 0) {
          // It failed the same way when the learner checked; what it applied is what they had.
          await c.apply(structuredClone(manifests)).catch(() => undefined);
        }
        return c;
      })();
      s.cluster = cluster;
      // A scenario that failed to deploy must not stick: the next action builds it again.
      cluster.catch(() => {
        if (s.cluster === cluster) {
          s.cluster = undefined;
          this.live.delete(s);
        }
      });
    }
    this.evictClusters();
    return s.cluster;
  }

  private drop(key: string, session: Session): void {
    this.sessions.delete(key);
    this.live.delete(session);
    session.cluster = undefined;
  }

  private evictSessions(): void {
    while (this.sessions.size > this.maxSessions) {
      const oldest = this.sessions.entries().next();
      if (oldest.done) return;
      this.drop(oldest.value[0], oldest.value[1]);
    }
  }

  private evictClusters(): void {
    while (this.live.size > this.maxClusters) {
      const oldest = this.live.values().next();
      if (oldest.done) return;
      // An action running on it keeps its reference and finishes; the next one builds anew.
      oldest.value.cluster = undefined;
      this.live.delete(oldest.value);
    }
  }
}

function refOf(o: KubeObject): ObjectRef {
  return {
    kind: o.kind,
    name: o.metadata.name,
    ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
  };
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
