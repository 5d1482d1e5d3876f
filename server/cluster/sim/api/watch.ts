/**
 * `?watch=true`: a stream of ADDED / MODIFIED / DELETED events, one JSON object a line, as
 * `kubectl get -w` and `kubectl wait` read them. The simulation settles inside each request, so
 * after every request that changed a cluster its watchers compare what they last saw with what
 * is there now and send the difference.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from '../../types.js';
import type { SimulatedCluster } from '../cluster.js';
import type { KindInfo } from '../kinds.js';
import { table } from './table.js';

interface Watcher {
  cluster: SimulatedCluster;
  info: KindInfo;
  namespace: string | undefined;
  filter: (o: KubeObject) => boolean;
  table: boolean;
  seen: Map<string, KubeObject>;
  res: ServerResponse;
  sentColumns: boolean;
  timer?: NodeJS.Timeout;
}

export class Watches {
  private readonly watchers = new Set<Watcher>();

  open(
    req: IncomingMessage,
    res: ServerResponse,
    opts: {
      cluster: SimulatedCluster;
      info: KindInfo;
      namespace: string | undefined;
      filter: (o: KubeObject) => boolean;
      table: boolean;
      since: string | undefined;
    },
  ): void {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    const w: Watcher = { ...opts, seen: new Map(), res, sentColumns: false };
    const now = this.current(w);
    if (opts.since === undefined || opts.since === '' || opts.since === '0') {
      for (const obj of now.values()) this.emit(w, 'ADDED', obj);
    }
    w.seen = now;
    this.watchers.add(w);
    const timeout = Number(new URL(req.url ?? '/', 'http://sim').searchParams.get('timeoutSeconds'));
    if (Number.isFinite(timeout) && timeout > 0) w.timer = setTimeout(() => this.end(w), timeout * 1000);
    req.on('close', () => this.end(w));
  }

  /** Sends every watcher of this cluster what changed since it last looked. */
  poke(cluster: SimulatedCluster): void {
    for (const w of this.watchers) {
      if (w.cluster !== cluster) continue;
      const now = this.current(w);
      for (const [key, obj] of now) {
        const before = w.seen.get(key);
        if (!before) this.emit(w, 'ADDED', obj);
        else if (before.metadata.resourceVersion !== obj.metadata.resourceVersion)
          this.emit(w, 'MODIFIED', obj);
      }
      for (const [key, obj] of w.seen) if (!now.has(key)) this.emit(w, 'DELETED', obj);
      w.seen = now;
    }
  }

  close(): void {
    for (const w of [...this.watchers]) this.end(w);
  }

  private current(w: Watcher): Map<string, KubeObject> {
    const out = new Map<string, KubeObject>();
    for (const obj of w.cluster.listNow(w.info.kind, w.namespace))
      if (w.filter(obj)) out.set(`${obj.metadata.namespace ?? ''}/${obj.metadata.name}`, obj);
    return out;
  }

  private emit(w: Watcher, type: string, obj: KubeObject): void {
    let object: unknown = obj;
    if (w.table) {
      const t = table(w.info.kind, [obj], {
        now: w.cluster.clock(),
        resourceVersion: String(obj.metadata.resourceVersion ?? ''),
        includeObject: 'Metadata',
      });
      if (w.sentColumns) t.columnDefinitions = [];
      w.sentColumns = true;
      object = t;
    }
    w.res.write(`${JSON.stringify({ type, object })}\n`);
  }

  private end(w: Watcher): void {
    if (!this.watchers.delete(w)) return;
    if (w.timer) clearTimeout(w.timer);
    w.res.end();
  }
}
