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

export type AppliedRef = { kind: string; name: string; namespace?: string };

/** A learner's cluster as kept between server runs. */
export interface SavedSession {
  cluster: Cluster;
  /** The objects the editor applied last (the next editor attempt replaces them). */
  applied: AppliedRef[];
  /** What the editor applied last, as stable JSON (the same text is not applied again). */
  appliedKey?: string;
}

export interface SimulatedCheckerParts {
  /** A new simulated cluster with the lab's scenario deployed. */
  freshCluster(lab: Lab): Promise<Cluster>;
  grade(lab: Lab, cluster: Cluster): Promise<GradeReport>;
  /** The engine's prediction for the lab's connectivity checks on this cluster. */
  predict(lab: Lab, cluster: Cluster): Promise<Prediction>;
  /** Most sessions kept in memory; the least recently used is dropped (and rebuilt on demand). */
  maxSessions?: number;
  /** Throws (BAD_INPUT) when the manifests would replace an object of the lab's scenario. */
  guard?(lab: Lab, manifests: KubeObject[]): Promise<void>;
  /**
   * Where learners' clusters are kept across restarts (and across eviction from memory). Absent:
   * a session lives as long as it stays in memory.
   */
  saved?: {
    load(lab: Lab, learnerId: string): Promise<SavedSession | undefined>;
    save(lab: Lab, learnerId: string, session: SavedSession): void;
    drop(lab: Lab, learnerId: string): void;
  };
  /** How long after a change the session is saved (changes in between are saved together). */
  saveDelayMs?: number;
}

interface Session {
  lab: Lab;
  learnerId: string;
  cluster: Promise<Cluster>;
  /** The objects the editor applied, so the next editor attempt replaces them. */
  applied: AppliedRef[];
  appliedKey?: string;
  /** Changed through the Kubernetes API (kubectl) since the scenario was deployed. */
  changedByApi: boolean;
  /** Serialises this learner's actions on this lab: a check must not interleave with a reset. */
  queue: Promise<unknown>;
}

const LIVE_BASIS = 'predicted by the policy engine from the NetworkPolicies in your cluster now';

export class SimulatedChecker implements Checker {
  private readonly sessions = new Map<string, Session>();
  private readonly maxSessions: number;
  private readonly dirty = new Set<Session>();
  private saveTimer: NodeJS.Timeout | undefined;

  constructor(private readonly parts: SimulatedCheckerParts) {
    this.maxSessions = parts.maxSessions ?? 1000;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /**
   * Grades the learner's live cluster. `manifests` (the editor's objects), when given and not what
   * the editor applied last, first replace what the editor applied before. Otherwise the cluster
   * is graded as it is, so changes made with kubectl since then count.
   */
  check(req: { lab: Lab; learnerId: string; manifests?: KubeObject[] }): Promise<GradeReport> {
    return this.withSession(req.lab, req.learnerId, async (session, cluster) => {
      const manifests = req.manifests;
      const key = manifests === undefined ? undefined : JSON.stringify(manifests);
      if (manifests !== undefined && key !== session.appliedKey) {
        // Before anything is deleted: a refused submission leaves the learner's cluster as it was.
        await this.parts.guard?.(req.lab, manifests);
        for (const old of session.applied) await cluster.delete(old.kind, old.name, old.namespace);
        session.applied = [];
        session.appliedKey = key;
        if (manifests.length > 0) {
          // Remember what is about to be applied first: if apply fails half way, the next attempt
          // still removes whatever made it into the cluster.
          session.applied = manifests.map((o) => ({
            kind: o.kind,
            name: o.metadata.name,
            ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
          }));
          try {
            await cluster.apply(manifests);
          } finally {
            this.markChanged(session);
          }
        } else this.markChanged(session);
      }
      return this.parts.grade(req.lab, cluster);
    });
  }

  matrix(req: { lab: Lab; learnerId: string }): Promise<ConnectivityMatrix> {
    return this.withSession(req.lab, req.learnerId, async (session, cluster) => {
      const { probes } = await this.parts.predict(req.lab, cluster);
      return buildMatrix(probes, {
        basis: LIVE_BASIS,
        before: session.applied.length === 0 && !session.changedByApi,
      });
    });
  }

  async reset(req: { lab: Lab; learnerId: string }): Promise<void> {
    const key = sessionKey(req.lab.id, req.learnerId);
    const session = this.sessions.get(key);
    if (session) {
      // Wait for anything in flight, then forget the cluster: the next action builds a fresh one.
      await session.queue.catch(() => undefined);
      if (this.sessions.get(key) === session) this.sessions.delete(key);
      this.dirty.delete(session);
    }
    this.parts.saved?.drop(req.lab, req.learnerId);
  }

  /**
   * The learner's live cluster, as the Kubernetes API serves it to kubectl (restored or deployed on
   * first use). Call `changed` after every write so it is kept.
   */
  live(lab: Lab, learnerId: string): Promise<Cluster> {
    return this.session(lab, learnerId).cluster;
  }

  /** A write through the API changed the learner's cluster: keep it. */
  changed(lab: Lab, learnerId: string): void {
    const session = this.sessions.get(sessionKey(lab.id, learnerId));
    if (!session) return;
    session.changedByApi = true;
    this.markChanged(session);
  }

  /** Saves every changed session now (also before the server stops). */
  async flush(): Promise<void> {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    const sessions = [...this.dirty];
    this.dirty.clear();
    await Promise.all(sessions.map((s) => this.save(s)));
  }

  private markChanged(session: Session): void {
    if (!this.parts.saved) return;
    this.dirty.add(session);
    this.saveTimer ??= setTimeout(() => void this.flush(), this.parts.saveDelayMs ?? 200);
  }

  private async save(session: Session): Promise<void> {
    // A session reset in the meantime must not come back from the disk.
    if (this.sessions.get(sessionKey(session.lab.id, session.learnerId)) !== session) return;
    const cluster = await session.cluster.catch(() => undefined);
    if (cluster)
      this.parts.saved?.save(session.lab, session.learnerId, {
        cluster,
        applied: session.applied,
        ...(session.appliedKey !== undefined ? { appliedKey: session.appliedKey } : {}),
      });
  }

  private session(lab: Lab, learnerId: string): Session {
    const key = sessionKey(lab.id, learnerId);
    let session = this.sessions.get(key);
    if (session) {
      // Map order is insertion order: re-inserting marks the session as most recently used.
      this.sessions.delete(key);
    } else {
      const s: Session = {
        lab,
        learnerId,
        cluster: Promise.resolve() as unknown as Promise<Cluster>,
        applied: [],
        changedByApi: false,
        queue: Promise.resolve(),
      };
      s.cluster = (async () => {
        const saved = await this.parts.saved?.load(lab, learnerId);
        if (saved) {
          s.applied = saved.applied;
          if (saved.appliedKey !== undefined) s.appliedKey = saved.appliedKey;
          s.changedByApi = true;
          return saved.cluster;
        }
        return this.parts.freshCluster(lab);
      })();
      // A scenario that failed to deploy must not stick: drop the session so the next try rebuilds it.
      s.cluster.catch(() => {
        if (this.sessions.get(key) === s) this.sessions.delete(key);
      });
      session = s;
    }
    this.sessions.set(key, session);
    this.evict();
    return session;
  }

  private withSession<T>(
    lab: Lab,
    learnerId: string,
    action: (s: Session, c: Cluster) => Promise<T>,
  ): Promise<T> {
    const s = this.session(lab, learnerId);
    const run = s.queue.catch(() => undefined).then(async () => action(s, await s.cluster));
    s.queue = run;
    return run;
  }

  private evict(): void {
    while (this.sessions.size > this.maxSessions) {
      const oldest = this.sessions.values().next();
      if (oldest.done) return;
      // An evicted session that changed is saved first, so it comes back as the learner left it.
      if (this.dirty.delete(oldest.value)) void this.save(oldest.value);
      this.sessions.delete(sessionKey(oldest.value.lab.id, oldest.value.learnerId));
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
