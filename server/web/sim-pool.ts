/**
 * Grading on the simulated cluster is CPU work that blocks whichever thread runs it. A pool of
 * worker threads does it instead, so the HTTP thread stays responsive while learners check, and
 * checks use every core. Each learner is always sent to the same worker, which keeps their
 * simulated clusters.
 */
import { Worker } from 'node:worker_threads';
import type { KubeObject } from '../cluster/types.js';
import { KubelabError, type ErrorCode, type Problem } from '../errors.js';
import type { GradeReport } from '../grader/report.js';
import type { Lab } from '../labs/model.js';
import type { ReportRecord } from '../store/index.js';
import type { RootArg } from '../labs/index.js';
import { DEFAULT_MAX_CLUSTERS } from './checker.js';
import type { Checker, ManifestLimits } from './deps.js';
import type { ConnectivityMatrix } from './matrix.js';

export interface WorkerOptions {
  labsRoot?: RootArg;
  maxSessions?: number;
  maxClusters?: number;
  /** The SQLite file learners' clusters are kept in (none: they live only in memory). */
  dbPath?: string;
  /** Serve the Kubernetes API for forwarded requests that carry this secret (./kubectl.ts). */
  apiSecret?: string;
}

export type PoolRequestBody =
  | ({ labId: string; learnerId: string } & (
      | { op: 'check'; manifests?: KubeObject[] }
      | { op: 'parse'; text: string; limits: ManifestLimits }
      | { op: 'check-text'; text: string; limits: ManifestLimits; apply: boolean }
      | { op: 'matrix' }
      | { op: 'reset' }
    ))
  | { op: 'flush' };

export type PoolRequest = PoolRequestBody & { id: number };

export type PoolReply =
  /** Sent once by a worker that serves the Kubernetes API: the loopback port it listens on. */
  | { apiPort: number }
  | { id: number; ok: true; value: unknown }
  | {
      id: number;
      ok: false;
      error:
        | { kubelab: { code: ErrorCode; message: string; problems: Problem[]; hint?: string } }
        | { internal: string };
    };

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  /** Where this worker serves the Kubernetes API (when the pool was asked to serve it). */
  apiPort: Promise<number>;
}

/**
 * A worker thread does not inherit the main thread's loader: compiled (dist/), it loads the compiled
 * worker; run from the TypeScript sources, it goes through an entry that registers tsx first.
 */
/** Old-generation heap of each grading worker, in MB. */
export const DEFAULT_WORKER_HEAP_MB = 256;

const ENTRY = import.meta.url.endsWith('.ts')
  ? new URL('./sim-worker-entry.js', import.meta.url)
  : new URL('./sim-worker.js', import.meta.url);

export class SimulatedWorkerPool implements Checker {
  private readonly slots: Array<Slot | undefined>;
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly opts: {
      size: number;
      labsRoot?: RootArg;
      /** Most learner sessions kept in memory, shared out between the workers. */
      maxSessions?: number;
      /** The SQLite file learners' clusters are kept in across restarts. */
      dbPath?: string;
      /** Workers serve learners' clusters to kubectl for requests carrying this secret. */
      apiSecret?: string;
      /** Most simulated clusters kept alive, shared out between the workers (memory is per process). */
      maxClusters?: number;
      /** Heap limit of each worker (old generation, MB). */
      heapMb?: number;
      log?: (message: string) => void;
    },
  ) {
    if (!Number.isInteger(opts.size) || opts.size < 1)
      throw new Error(`worker pool size must be >= 1 (got ${opts.size})`);
    this.slots = Array.from({ length: opts.size }, () => undefined);
  }

  get size(): number {
    return this.slots.length;
  }

  check(req: { lab: Lab; learnerId: string; manifests?: KubeObject[] }): Promise<GradeReport> {
    return this.call(req.learnerId, {
      op: 'check',
      labId: req.lab.id,
      learnerId: req.learnerId,
      ...(req.manifests !== undefined ? { manifests: req.manifests } : {}),
    }) as Promise<GradeReport>;
  }

  /** The loopback port where the worker owning this learner's clusters serves them to kubectl. */
  workerPort(learnerId: string): Promise<number> {
    if (this.closed) return Promise.reject(new Error('the grading workers are shut down'));
    if (this.opts.apiSecret === undefined)
      return Promise.reject(new Error('this pool does not serve the Kubernetes API'));
    return this.slot(this.workerIndex(learnerId)).apiPort;
  }

  parse(req: { lab: Lab; learnerId: string; text: string; limits: ManifestLimits }): Promise<KubeObject[]> {
    return this.call(req.learnerId, {
      op: 'parse',
      labId: req.lab.id,
      learnerId: req.learnerId,
      text: req.text,
      limits: req.limits,
    }) as Promise<KubeObject[]>;
  }

  checkText(req: {
    lab: Lab;
    learnerId: string;
    text: string;
    limits: ManifestLimits;
    apply: boolean;
  }): Promise<ReportRecord> {
    return this.call(req.learnerId, {
      op: 'check-text',
      labId: req.lab.id,
      learnerId: req.learnerId,
      text: req.text,
      limits: req.limits,
      apply: req.apply,
    }) as Promise<ReportRecord>;
  }

  matrix(req: { lab: Lab; learnerId: string }): Promise<ConnectivityMatrix> {
    return this.call(req.learnerId, {
      op: 'matrix',
      labId: req.lab.id,
      learnerId: req.learnerId,
    }) as Promise<ConnectivityMatrix>;
  }

  async reset(req: { lab: Lab; learnerId: string }): Promise<void> {
    await this.call(req.learnerId, { op: 'reset', labId: req.lab.id, learnerId: req.learnerId });
  }

  /** The worker that owns a learner's clusters. */
  workerIndex(learnerId: string): number {
    let h = 2166136261;
    for (let i = 0; i < learnerId.length; i++) h = Math.imul(h ^ learnerId.charCodeAt(i), 16777619);
    return (h >>> 0) % this.slots.length;
  }

  /** Starts every worker now, so the first learner does not wait for a worker to load. */
  warm(): void {
    if (this.closed) return;
    for (let i = 0; i < this.slots.length; i++) this.slot(i);
  }

  async close(): Promise<void> {
    // Learners' clusters changed in the last moments are saved before the workers go.
    await Promise.all(
      this.slots.map((s, i) =>
        s
          ? Promise.race([
              this.callSlot(i, { op: 'flush' }).catch(() => undefined),
              new Promise((r) => setTimeout(r, 2000).unref()),
            ])
          : undefined,
      ),
    );
    this.closed = true;
    await Promise.all(this.slots.map((s) => s?.worker.terminate()));
    this.slots.fill(undefined);
  }

  private call(learnerId: string, body: PoolRequestBody): Promise<unknown> {
    return this.callSlot(this.workerIndex(learnerId), body);
  }

  private callSlot(index: number, body: PoolRequestBody): Promise<unknown> {
    if (this.closed) return Promise.reject(new KubelabError('INTERNAL', 'the grading workers are shut down'));
    const slot = this.slot(index);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      if (slot.pending.size === 1) slot.worker.ref();
      slot.worker.postMessage({ ...body, id } satisfies PoolRequest);
    });
  }

  private slot(index: number): Slot {
    const existing = this.slots[index];
    if (existing) return existing;
    const worker = new Worker(ENTRY, {
      // Without a limit V8 lets a busy worker's heap grow to gigabytes of garbage before it
      // collects (measured: server RSS 478 MiB at 1000 sessions, 309 MiB with these limits). What
      // a worker keeps alive is bounded (maxClusters, maxSessions), far below the limit.
      resourceLimits: {
        maxOldGenerationSizeMb: this.opts.heapMb ?? DEFAULT_WORKER_HEAP_MB,
        maxYoungGenerationSizeMb: 16,
      },
      workerData: {
        ...(this.opts.labsRoot !== undefined ? { labsRoot: this.opts.labsRoot } : {}),
        ...(this.opts.maxSessions !== undefined
          ? { maxSessions: Math.max(1, Math.ceil(this.opts.maxSessions / this.slots.length)) }
          : {}),
        ...(this.opts.dbPath !== undefined ? { dbPath: this.opts.dbPath } : {}),
        ...(this.opts.apiSecret !== undefined ? { apiSecret: this.opts.apiSecret } : {}),
        maxClusters: Math.max(
          1,
          Math.ceil((this.opts.maxClusters ?? DEFAULT_MAX_CLUSTERS) / this.slots.length),
        ),
      } satisfies WorkerOptions,
    });
    // An idle pool must not keep the process alive; a worker is referenced while it has work.
    worker.unref();
    let portKnown: (port: number) => void = () => undefined;
    let portLost: (e: Error) => void = () => undefined;
    const apiPort = new Promise<number>((resolve, reject) => {
      portKnown = resolve;
      portLost = reject;
    });
    apiPort.catch(() => undefined);
    const slot: Slot = { worker, pending: new Map(), apiPort };
    worker.on('message', (reply: PoolReply) => {
      if ('apiPort' in reply) return portKnown(reply.apiPort);
      const pending = slot.pending.get(reply.id);
      if (!pending) return;
      slot.pending.delete(reply.id);
      if (slot.pending.size === 0) worker.unref();
      if (reply.ok) pending.resolve(reply.value);
      else if ('kubelab' in reply.error) {
        const { code, message, problems, hint } = reply.error.kubelab;
        pending.reject(new KubelabError(code, message, { problems, ...(hint ? { hint } : {}) }));
      } else {
        // Unknown errors keep their details in the server log only, as in-process ones do.
        pending.reject(new Error(`in a grading worker: ${reply.error.internal}`));
      }
    });
    const fail = (why: string) => {
      // 'error' is followed by 'exit': handle the first only.
      if (this.slots[index] !== slot) return;
      this.slots[index] = undefined;
      portLost(new Error(`the worker stopped (${why})`));
      if (!this.closed) this.opts.log?.(`grading worker ${index} stopped: ${why}`);
      for (const p of slot.pending.values()) {
        p.reject(
          new KubelabError('INTERNAL', 'the grading worker stopped unexpectedly', {
            hint: 'Check again: your lab starts from a fresh simulated cluster.',
          }),
        );
      }
      slot.pending.clear();
    };
    worker.on('error', (e) => fail(e.stack ?? e.message));
    worker.on('exit', (code) => fail(`exit code ${code}`));
    this.slots[index] = slot;
    return slot;
  }
}
