/**
 * Creating the real cluster takes minutes. One job at a time; its progress is kept so a page opened
 * half way (or reloaded) sees everything so far, then follows live over server-sent events.
 */
import type { ProgressEvent } from '../cluster/types.js';
import { isKubelabError } from '../errors.js';
import type { ActiveCluster } from './deps.js';

export type ProvisionState = 'idle' | 'running' | 'done' | 'failed';

export type ProvisionMessage =
  | { type: 'progress'; event: ProgressEvent }
  | { type: 'done'; description: string }
  | { type: 'failed'; message: string; hint?: string };

const MAX_KEPT_EVENTS = 500;

export class ProvisionJob {
  state: ProvisionState = 'idle';
  readonly history: ProvisionMessage[] = [];
  private readonly listeners = new Set<(m: ProvisionMessage) => void>();

  constructor(
    private readonly provision:
      ((onProgress: (e: ProgressEvent) => void) => Promise<ActiveCluster>) | undefined,
    private readonly onReady: (cluster: ActiveCluster) => void,
    private readonly log: (message: string) => void,
  ) {}

  get available(): boolean {
    return this.provision !== undefined;
  }

  /** Starts provisioning unless it is running or done; returns whether a new run started. */
  start(): boolean {
    if (!this.provision || this.state === 'running' || this.state === 'done') return false;
    this.state = 'running';
    this.history.length = 0;
    const provision = this.provision;
    void (async () => {
      try {
        const cluster = await provision((event) => this.emit({ type: 'progress', event }));
        this.onReady(cluster);
        this.state = 'done';
        this.emit({ type: 'done', description: cluster.info.description });
      } catch (e) {
        this.state = 'failed';
        if (isKubelabError(e)) {
          this.emit({ type: 'failed', message: e.message, ...(e.hint ? { hint: e.hint } : {}) });
        } else {
          this.log(`provisioning failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
          this.emit({
            type: 'failed',
            message: 'creating the cluster failed unexpectedly; the server log has the details.',
          });
        }
      }
    })();
    return true;
  }

  /** Calls `listener` for every message so far and every new one; returns the unsubscribe function. */
  follow(listener: (m: ProvisionMessage) => void): () => void {
    for (const m of this.history) listener(m);
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(m: ProvisionMessage): void {
    this.history.push(m);
    if (this.history.length > MAX_KEPT_EVENTS) this.history.splice(1, this.history.length - MAX_KEPT_EVENTS);
    for (const l of this.listeners) l(m);
  }
}
