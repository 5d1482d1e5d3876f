/**
 * The two Checker implementations, written against small injected functions so they can be tested
 * with fakes: one simulated cluster per learner and lab, or one shared real cluster.
 */
import { FrozenMemo } from '../freeze.js';
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
  /**
   * Most simulated clusters kept alive (each is a copy of its scenario, a few hundred kB). A
   * session whose cluster was dropped keeps what the learner applied: it is saved first (when
   * `saved` is given) and restored from there, else the next check starts from a fresh copy of the
   * scenario (as every first check does), and the matrix is computed on a fresh copy with the
   * learner's objects applied again.
   */
  maxClusters?: number;
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

export const DEFAULT_MAX_SESSIONS = 1000;
export const DEFAULT_MAX_CLUSTERS = 200;

type ObjectRef = AppliedRef;

interface Session {
  lab: Lab;
  learnerId: string;
  /** This learner's cluster while it is among the most recently used ones; else built on demand. */
  cluster: Promise<Cluster> | undefined;
  /** The objects the editor applied to `cluster`, so the next editor attempt replaces them. */
  applied: ObjectRef[];
  appliedKey?: string;
  /** The objects of their last editor check, to build their cluster again after it was dropped. */
  manifests: KubeObject[];
  /** Changed through the Kubernetes API (kubectl) since the scenario was deployed. */
  changedByApi: boolean;
  /** A save in flight (a cluster being dropped from memory): a rebuild loads after it. */
  saving?: Promise<void>;
  /** Serialises this learner's actions on this lab: a check must not interleave with a reset. */
  queue: Promise<unknown>;
}

const LIVE_BASIS = 'predicted by the policy engine from the NetworkPolicies in your cluster now';

export class SimulatedChecker implements Checker {
  private readonly sessions = new Map<string, Session>();
  private readonly maxSessions: number;
  private readonly dirty = new Set<Session>();
  private saveTimer: NodeJS.Timeout | undefined;
  /** Sessions holding a cluster, least recently used first. */
  private readonly liveSessions = new Set<Session>();
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
    return this.liveSessions.size;
  }

  /**
   * Grades the learner's live cluster. `manifests` (the editor's objects), when given and not what
   * the editor applied last, first replace what the editor applied before. Otherwise the cluster
   * is graded as it is, so changes made with kubectl since then count.
   */
  check(req: { lab: Lab; learnerId: string; manifests?: KubeObject[] }): Promise<GradeReport> {
    const manifests = req.manifests;
    const key = manifests === undefined ? undefined : manifestsKey(manifests);
    const existing = this.sessions.get(sessionKey(req.lab.id, req.learnerId));
    const replacing = manifests !== undefined && key !== existing?.appliedKey;
    // A session without a cluster that is about to be replaced starts from a fresh copy (unless it
    // was saved): its old objects would be deleted anyway.
    return this.withSession(
      req.lab,
      req.learnerId,
      replacing ? 'fresh' : 'rebuild',
      async (session, cluster) => {
        if (manifests !== undefined && key !== session.appliedKey) {
          // A scenario object the lab lets the learner change (a namespace's labels, a Deployment
          // to fix) is not the editor's to delete: deleting it would delete the scenario. It stays
          // as last applied until a new submission changes it again.
          const changeable = new Set(
            (req.lab.changeable ?? []).map((c) => `${c.kind}/${c.namespace ?? ''}/${c.name}`),
          );
          for (const old of session.applied)
            if (old.kind !== 'Namespace' && !changeable.has(`${old.kind}/${old.namespace ?? ''}/${old.name}`))
              await cluster.delete(old.kind, old.name, old.namespace);
          session.applied = [];
          session.manifests = [];
          session.appliedKey = key;
          if (manifests.length > 0) {
            // Remember what is about to be applied first: if apply fails half way, the next attempt
            // still removes whatever made it into the cluster (and a rebuild fails the same way).
            session.applied = manifests.map(refOf);
            // Frozen objects (a grading worker's parsed answers) cannot change under the session.
            session.manifests = Object.isFrozen(manifests) ? manifests : structuredClone(manifests);
            try {
              await cluster.apply(manifests);
            } finally {
              this.markChanged(session);
            }
          } else this.markChanged(session);
        }
        return this.parts.grade(req.lab, cluster);
      },
      // Before the cluster is touched (or built): a refused submission leaves the learner's
      // cluster, and what a rebuild would apply, as they were.
      () => (replacing && manifests !== undefined ? this.parts.guard?.(req.lab, manifests) : undefined),
    );
  }

  async matrix(req: { lab: Lab; learnerId: string }): Promise<ConnectivityMatrix> {
    const existing = this.sessions.get(sessionKey(req.lab.id, req.learnerId));
    if (!existing) {
      // Only a learner with a saved cluster gets one built; anyone else sees the scenario's matrix.
      const saved = this.parts.saved ? await this.parts.saved.load(req.lab, req.learnerId) : undefined;
      if (!saved && !this.sessions.has(sessionKey(req.lab.id, req.learnerId)))
        return this.pristineMatrix(req.lab);
    } else if (
      !existing.cluster &&
      existing.manifests.length === 0 &&
      !existing.changedByApi &&
      !this.parts.saved
    ) {
      return this.pristineMatrix(req.lab);
    }
    return this.withSession(req.lab, req.learnerId, 'rebuild', async (session, cluster) => {
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
      await session.saving;
      if (this.sessions.get(key) === session) this.drop(key, session);
      this.dirty.delete(session);
    }
    this.parts.saved?.drop(req.lab, req.learnerId);
  }

  /**
   * The learner's live cluster, as the Kubernetes API serves it to kubectl (restored or deployed on
   * first use). Call `changed` after every write so it is kept.
   */
  live(lab: Lab, learnerId: string): Promise<Cluster> {
    const s = this.session(lab, learnerId);
    return this.clusterOf(lab, s, 'rebuild');
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

  private async save(session: Session, clusterP = session.cluster): Promise<void> {
    // A session reset in the meantime must not come back from the disk.
    if (this.sessions.get(sessionKey(session.lab.id, session.learnerId)) !== session) return;
    const cluster = await clusterP?.catch(() => undefined);
    if (cluster)
      this.parts.saved?.save(session.lab, session.learnerId, {
        cluster,
        applied: session.applied,
        ...(session.appliedKey !== undefined ? { appliedKey: session.appliedKey } : {}),
      });
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

  private session(lab: Lab, learnerId: string): Session {
    const key = sessionKey(lab.id, learnerId);
    let session = this.sessions.get(key);
    if (session) {
      // Map order is insertion order: re-inserting marks the session as most recently used.
      this.sessions.delete(key);
    } else {
      session = {
        lab,
        learnerId,
        cluster: undefined,
        applied: [],
        manifests: [],
        changedByApi: false,
        queue: Promise.resolve(),
      };
    }
    this.sessions.set(key, session);
    this.evictSessions();
    return session;
  }

  private withSession<T>(
    lab: Lab,
    learnerId: string,
    missing: 'fresh' | 'rebuild',
    action: (s: Session, c: Cluster) => Promise<T>,
    before?: () => Promise<void> | undefined,
  ): Promise<T> {
    const s = this.session(lab, learnerId);
    const run = s.queue
      .catch(() => undefined)
      .then(async () => {
        await before?.();
        return action(s, await this.clusterOf(lab, s, missing));
      });
    // The queue only orders actions: holding the result (a whole grade report) for as long as the
    // session lives would cost tens of kB per learner.
    s.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * The session's cluster, built when it has none: the saved one when there is one, else `fresh`
   * is the scenario as deployed (the caller is about to replace the learner's objects) and
   * `rebuild` has the learner's objects applied again.
   */
  private clusterOf(lab: Lab, s: Session, missing: 'fresh' | 'rebuild'): Promise<Cluster> {
    this.liveSessions.delete(s);
    this.liveSessions.add(s);
    if (!s.cluster) {
      const cluster = (async () => {
        await s.saving;
        const saved = await this.parts.saved?.load(lab, s.learnerId);
        if (saved) {
          s.applied = saved.applied;
          if (saved.appliedKey !== undefined) s.appliedKey = saved.appliedKey;
          else delete s.appliedKey;
          s.changedByApi = true;
          return saved.cluster;
        }
        const manifests = missing === 'rebuild' ? s.manifests : [];
        s.applied = manifests.map(refOf);
        if (manifests.length === 0) delete s.appliedKey;
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
          this.liveSessions.delete(s);
        }
      });
    }
    this.evictClusters();
    return s.cluster;
  }

  /** Saves a changed session before its cluster leaves memory, so it comes back as it was left. */
  private saveBeforeDropping(s: Session): void {
    if (!this.dirty.delete(s)) return;
    const saving = this.save(s).catch(() => undefined);
    s.saving = saving;
    void saving.then(() => {
      if (s.saving === saving) delete s.saving;
    });
  }

  private drop(key: string, session: Session): void {
    this.sessions.delete(key);
    this.liveSessions.delete(session);
    session.cluster = undefined;
  }

  private evictSessions(): void {
    while (this.sessions.size > this.maxSessions) {
      const oldest = this.sessions.entries().next();
      if (oldest.done) return;
      this.saveBeforeDropping(oldest.value[1]);
      this.drop(oldest.value[0], oldest.value[1]);
    }
  }

  private evictClusters(): void {
    while (this.liveSessions.size > this.maxClusters) {
      const oldest = this.liveSessions.values().next();
      if (oldest.done) return;
      this.saveBeforeDropping(oldest.value);
      // An action running on it keeps its reference and finishes; the next one builds anew.
      oldest.value.cluster = undefined;
      this.liveSessions.delete(oldest.value);
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

/** Texts of frozen manifest lists (shared by every learner who sent them), worked out once. */
const keysOfFrozen = new FrozenMemo<readonly KubeObject[], string>();

/** What the editor applied, as text: a check with the same text changes nothing. */
function manifestsKey(manifests: KubeObject[]): string {
  return keysOfFrozen.get(manifests, () => JSON.stringify(manifests));
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

  check(req: { lab: Lab; learnerId: string; manifests?: KubeObject[] }): Promise<GradeReport> {
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
