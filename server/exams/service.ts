/**
 * Exam attempts as the web app runs them: start (every scenario on one cluster: a simulated one
 * per attempt, or the real cluster), the per-task editor, flags, per-task checks where the exam
 * allows them, submit. The clock is the server's: the deadline is stored when the attempt starts,
 * every change after it is refused, and the first of submit or deadline fixes the score for good.
 */
import { deserialize, serialize } from 'node:v8';
import type { Cluster, KubeObject } from '../cluster/types.js';
import { SimulatedCluster } from '../cluster/sim/index.js';
import { KubelabError, notFound } from '../errors.js';
import { PreflightCache } from '../grader/index.js';
import type { Lab } from '../labs/model.js';
import type { ProgressStore } from '../store/index.js';
import type { ExamAttempt, ExamTaskState } from '../store/exams.js';
import { createExamCluster, deployExam, gradeTasks, guardExamObjects, titlesOf } from './grade.js';
import type { LoadedExam } from './model.js';
import { scoreExam, scoreTask, type ExamScore, type TaskScore } from './score.js';

export interface ExamServiceDeps {
  store: ProgressStore;
  clock: () => Date;
  load(id: string): Promise<LoadedExam>;
  /** The real cluster learners work on, when there is one (else every attempt is simulated). */
  realCluster?: () => Cluster | undefined;
  /** Reads the editor's text into objects for a task (the lab editor's parser and limits). */
  parse(text: string, lab: Lab): KubeObject[];
  /** Grading options for the real cluster (settle time, concurrency). */
  realGrade?: { settleMs: number; concurrency: number };
}

export interface AttemptView {
  attempt: ExamAttempt;
  loaded: LoadedExam;
  tasks: Array<ExamTaskState & { lab: Lab; points: number }>;
  remainingMs: number;
  finished: boolean;
  score?: ExamScore;
}

type Ref = { kind: string; name: string; namespace?: string };

export class ExamService {
  private readonly clusters = new Map<string, Promise<Cluster>>();
  private readonly bases = new Map<string, Promise<SimulatedCluster>>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly preflight = new PreflightCache();

  constructor(private readonly deps: ExamServiceDeps) {}

  /** Starts an attempt: the exam's scenarios deployed, then the clock. */
  async start(learnerId: string, examId: string): Promise<ExamAttempt> {
    const loaded = await this.deps.load(examId);
    const real = this.deps.realCluster?.();
    let cluster: Cluster;
    if (real) {
      await deployExam(loaded, real, { reset: true });
      cluster = real;
    } else {
      cluster = (await this.base(loaded)).fork();
    }
    const attempt = this.deps.store.exams.start({
      learnerId,
      examId,
      mode: real ? 'kube' : 'simulated',
      labs: loaded.exam.tasks.map((t) => t.lab),
      at: this.deps.clock(),
      minutes: loaded.exam.minutes,
    });
    this.clusters.set(attempt.id, Promise.resolve(cluster));
    if (cluster instanceof SimulatedCluster) this.save(attempt.id, cluster);
    this.arm(attempt);
    return attempt;
  }

  /** The attempt as its owner sees it; an attempt whose time ran out is scored first. */
  async view(attemptId: string, learnerId: string): Promise<AttemptView> {
    let attempt = this.owned(attemptId, learnerId);
    if (!attempt.finishedAt && this.timeUp(attempt)) {
      await this.serial(attempt.id, () => this.finish(attempt, 'time-up'));
      attempt = this.owned(attemptId, learnerId);
    }
    const loaded = await this.deps.load(attempt.examId);
    const states = this.deps.store.exams.tasks(attempt.id);
    const tasks = loaded.exam.tasks.map((t) => ({
      ...(states.find((s) => s.labId === t.lab) ?? { labId: t.lab, flagged: false, checks: 0 }),
      lab: loaded.labs.get(t.lab)!,
      points: t.points,
    }));
    const remainingMs = Math.max(0, Date.parse(attempt.deadlineAt) - this.deps.clock().getTime());
    return {
      attempt,
      loaded,
      tasks,
      remainingMs: attempt.finishedAt ? 0 : remainingMs,
      finished: attempt.finishedAt !== undefined,
      ...(attempt.score ? { score: attempt.score as ExamScore } : {}),
    };
  }

  /** Applies a task's editor text, replacing what that task's editor applied before. */
  apply(attemptId: string, learnerId: string, labId: string, text: string): Promise<void> {
    return this.change(attemptId, learnerId, async (attempt, loaded) => {
      const lab = this.taskLab(loaded, labId);
      const objects = text.trim() === '' ? [] : this.deps.parse(text, lab);
      await guardExamObjects(loaded, lab, objects);
      const cluster = await this.cluster(attempt, loaded);
      const previous = this.deps.store.exams.tasks(attempt.id).find((t) => t.labId === labId)?.manifests;
      const before: Ref[] = previous ? this.refsOf(previous, lab) : [];
      const keep = new Set(
        objects.map((o) =>
          refKey({
            kind: o.kind,
            name: o.metadata.name,
            ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
          }),
        ),
      );
      for (const r of before) if (!keep.has(refKey(r))) await cluster.delete(r.kind, r.name, r.namespace);
      if (objects.length > 0) await cluster.apply(objects);
      this.deps.store.exams.setManifests(attempt.id, labId, text);
      if (cluster instanceof SimulatedCluster) this.save(attempt.id, cluster);
    });
  }

  setFlag(attemptId: string, learnerId: string, labId: string, flagged: boolean): Promise<void> {
    return this.change(attemptId, learnerId, async (attempt, loaded) => {
      this.taskLab(loaded, labId);
      this.deps.store.exams.setFlag(attempt.id, labId, flagged);
    });
  }

  /** Grades one task while the clock runs (where the exam allows it): per-check pass/fail and points. */
  checkTask(attemptId: string, learnerId: string, labId: string): Promise<TaskScore> {
    return this.change(attemptId, learnerId, async (attempt, loaded) => {
      if (!loaded.exam.checkPerTask)
        throw new KubelabError(
          'FORBIDDEN',
          `exam ${loaded.exam.id} does not allow checking a task before you submit`,
          {
            hint: 'Submit the exam to see your score.',
          },
        );
      const lab = this.taskLab(loaded, labId);
      const task = loaded.exam.tasks.find((t) => t.lab === labId)!;
      const reports = await gradeTasks(loaded, await this.cluster(attempt, loaded), {
        only: [labId],
        ...this.gradeOptions(attempt),
      });
      const score = scoreTask(task, lab.title, reports.get(labId)!);
      // While the clock runs, a check says what passes and what it is worth, not why (that is the review).
      const brief: TaskScore = { ...score, lost: [], checks: score.checks.map((c) => ({ ...c, why: [] })) };
      delete brief.diagnosis;
      this.deps.store.exams.recordTaskCheck(
        attempt,
        labId,
        this.deps.clock(),
        brief,
        `${score.earned}/${score.points}`,
      );
      return brief;
    });
  }

  /** Ends the attempt now and scores it (a second submit returns the first score). */
  async submit(attemptId: string, learnerId: string): Promise<ExamScore> {
    const attempt = this.owned(attemptId, learnerId);
    return this.serial(attempt.id, async () => {
      const now = this.owned(attemptId, learnerId);
      if (now.finishedAt) return now.score as ExamScore;
      return this.finish(now, this.timeUp(now) ? 'time-up' : 'submitted');
    });
  }

  /** Scores every attempt whose deadline passed while nobody looked (e.g. the server was down). */
  async sweep(): Promise<number> {
    let n = 0;
    for (const a of this.deps.store.exams.unfinished()) {
      if (!this.timeUp(a)) {
        this.arm(a);
        continue;
      }
      await this.serial(a.id, async () => {
        const fresh = this.deps.store.exams.get(a.id)!;
        if (!fresh.finishedAt) await this.finish(fresh, 'time-up');
      });
      n++;
    }
    return n;
  }

  close(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private async finish(attempt: ExamAttempt, how: 'submitted' | 'time-up'): Promise<ExamScore> {
    const loaded = await this.deps.load(attempt.examId);
    const cluster = await this.cluster(attempt, loaded);
    const reports = await gradeTasks(loaded, cluster, this.gradeOptions(attempt));
    const at = this.deps.clock();
    const score = scoreExam(loaded.exam, titlesOf(loaded), reports, at);
    this.deps.store.exams.finish(attempt, at, how, score);
    clearTimeout(this.timers.get(attempt.id));
    this.timers.delete(attempt.id);
    const stored = this.deps.store.exams.get(attempt.id)!;
    return stored.score as ExamScore;
  }

  private gradeOptions(attempt: ExamAttempt) {
    return attempt.mode === 'kube' && this.deps.realGrade
      ? { settleMs: this.deps.realGrade.settleMs, concurrency: this.deps.realGrade.concurrency }
      : { preflightCache: this.preflight };
  }

  private async change<T>(
    attemptId: string,
    learnerId: string,
    fn: (attempt: ExamAttempt, loaded: LoadedExam) => Promise<T>,
  ): Promise<T> {
    const first = this.owned(attemptId, learnerId);
    return this.serial(first.id, async () => {
      const attempt = this.owned(attemptId, learnerId);
      if (attempt.finishedAt)
        throw new KubelabError('FORBIDDEN', 'this exam attempt is over: nothing can change its score now', {
          hint: 'Open the attempt to review your score.',
        });
      if (this.timeUp(attempt)) {
        await this.finish(attempt, 'time-up');
        throw new KubelabError(
          'FORBIDDEN',
          'the time is up: your exam was scored as it was at the deadline',
          { hint: 'Open the attempt to review your score.' },
        );
      }
      return fn(attempt, await this.deps.load(attempt.examId));
    });
  }

  private owned(attemptId: string, learnerId: string): ExamAttempt {
    const attempt = this.deps.store.exams.get(attemptId);
    // Someone else's attempt is as absent as one that never existed.
    if (!attempt || attempt.learnerId !== learnerId)
      throw notFound('there is no such exam attempt', 'Start an exam from the exams page.');
    return attempt;
  }

  private timeUp(a: ExamAttempt): boolean {
    return this.deps.clock().getTime() >= Date.parse(a.deadlineAt);
  }

  private taskLab(loaded: LoadedExam, labId: string): Lab {
    const lab = loaded.labs.get(labId);
    if (!lab) throw notFound(`exam ${loaded.exam.id} has no task ${labId}`);
    return lab;
  }

  private refsOf(text: string, lab: Lab): Ref[] {
    try {
      return this.deps.parse(text, lab).map((o) => ({
        kind: o.kind,
        name: o.metadata.name,
        ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
      }));
    } catch {
      return [];
    }
  }

  private base(loaded: LoadedExam): Promise<SimulatedCluster> {
    let b = this.bases.get(loaded.exam.id);
    if (!b) {
      b = createExamCluster(loaded);
      this.bases.set(loaded.exam.id, b);
      b.catch(() => this.bases.delete(loaded.exam.id));
    }
    return b;
  }

  private cluster(attempt: ExamAttempt, loaded: LoadedExam): Promise<Cluster> {
    let c = this.clusters.get(attempt.id);
    if (!c) {
      c = (async (): Promise<Cluster> => {
        if (attempt.mode === 'kube') {
          const real = this.deps.realCluster?.();
          if (!real)
            throw new KubelabError(
              'ENVIRONMENT',
              'this attempt runs on a real cluster, and the server has none now',
              {
                hint: 'Restart kubelab with the cluster it had when the exam started.',
              },
            );
          return real;
        }
        const bytes = this.deps.store.exams.loadCluster(attempt.id);
        const restored = bytes ? restore(bytes) : undefined;
        return restored ?? (await this.base(loaded)).fork();
      })();
      this.clusters.set(attempt.id, c);
      c.catch(() => this.clusters.delete(attempt.id));
    }
    return c;
  }

  private save(attemptId: string, cluster: SimulatedCluster): void {
    this.deps.store.exams.saveCluster(
      attemptId,
      serialize({ cluster: cluster.saveState() }),
      this.deps.clock(),
    );
  }

  /** A timer per running attempt, so a real cluster is scored at its deadline even if nobody looks. */
  private arm(attempt: ExamAttempt): void {
    if (this.timers.has(attempt.id)) return;
    const ms = Date.parse(attempt.deadlineAt) - this.deps.clock().getTime();
    const t = setTimeout(
      () => {
        this.timers.delete(attempt.id);
        void this.sweep().catch(() => undefined);
      },
      Math.max(0, Math.min(ms, 2 ** 31 - 1)),
    );
    t.unref();
    this.timers.set(attempt.id, t);
  }

  private serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    this.queues.set(
      key,
      next.catch(() => undefined),
    );
    return next;
  }
}

const refKey = (r: Ref) => `${r.kind}/${r.namespace ?? ''}/${r.name}`;

function restore(bytes: Uint8Array): SimulatedCluster | undefined {
  try {
    const saved = deserialize(bytes) as { cluster?: unknown };
    return saved.cluster instanceof Uint8Array ? SimulatedCluster.restore(saved.cluster) : undefined;
  } catch {
    return undefined;
  }
}
