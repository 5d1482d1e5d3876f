/**
 * A simulated server never loads the Kubernetes client (@kubernetes/client-node: tens of MB of
 * heap on the HTTP thread, and its load time): nothing the web app, its wiring or a grading worker
 * imports at load time leads to it; real clusters load it on demand (dynamic import()).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SERVER = fileURLToPath(new URL('../../server/', import.meta.url));

/** Every module a file pulls in by its static imports and re-exports (type-only ones are erased). */
function staticImports(entry: string): Map<string, string | undefined> {
  const from = new Map<string, string | undefined>([[entry, undefined]]);
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift()!;
    const source = readFileSync(file, 'utf8');
    const statements = source.matchAll(
      /^\s*(import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s*)?['"]([^'"]+)['"]/gm,
    );
    for (const [, , spec] of statements) {
      const target = spec!.startsWith('.') ? resolve(dirname(file), spec!.replace(/\.js$/, '.ts')) : spec!;
      if (from.has(target)) continue;
      from.set(target, file);
      if (target.endsWith('.ts')) queue.push(target);
    }
  }
  return from;
}

function pathTo(graph: Map<string, string | undefined>, target: string): string[] {
  const chain: string[] = [];
  for (let at: string | undefined = target; at !== undefined; at = graph.get(at)) chain.push(at);
  return chain.map((f) => f.replace(SERVER, 'server/'));
}

describe('what a simulated server loads', () => {
  it.each(['web/app.ts', 'web/wiring.ts', 'web/sim-worker.ts'])(
    '%s does not import the Kubernetes client',
    (entry) => {
      const graph = staticImports(join(SERVER, entry));
      // The walk does find modules: the check below is not empty by accident.
      expect(graph.size).toBeGreaterThan(10);
      for (const heavy of ['@kubernetes/client-node', join(SERVER, 'cluster/kube.ts')]) {
        expect(graph.has(heavy) ? pathTo(graph, heavy) : []).toEqual([]);
      }
    },
  );

  it('the walk sees the Kubernetes client where it is imported', () => {
    const graph = staticImports(join(SERVER, 'cluster/provision.ts'));
    expect(pathTo(graph, '@kubernetes/client-node')).toContain('server/cluster/kube.ts');
  });
});
