/**
 * Label and field selectors as they arrive in a query string (`app=backend,tier!=web`,
 * `env in (prod,stage)`, `!legacy`, `metadata.name=db1`). A selector the simulation cannot read is
 * a 400, as on the API server, rather than a filter that silently matches everything.
 */
import type { KubeObject } from '../../types.js';
import { badRequest } from './status.js';

type Requirement = (labels: Record<string, string>) => boolean;

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  if (current.trim() !== '') parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

export function parseLabelSelector(text: string | null): Requirement {
  if (!text) return () => true;
  const reqs = splitTopLevel(text).map((part): Requirement => {
    let m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part);
    if (m) {
      const values = new Set(m[3]!.split(',').map((v) => v.trim()));
      const key = m[1]!;
      return m[2] === 'in'
        ? (l) => key in l && values.has(l[key]!)
        : (l) => !(key in l) || !values.has(l[key]!);
    }
    m = /^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/.exec(part);
    if (m) {
      const [, key, op, value] = m as unknown as [string, string, string, string];
      return op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value;
    }
    m = /^(!?)([\w./-]+)$/.exec(part);
    if (m) {
      const key = m[2]!;
      return m[1] ? (l) => !(key in l) : (l) => key in l;
    }
    throw badRequest(`unable to parse requirement: found '${part}', expected: in, notin, =, ==, !=, gt, lt`);
  });
  return (labels) => reqs.every((r) => r(labels));
}

function fieldValue(obj: KubeObject, path: string): string | undefined {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur === undefined ? '' : String(cur);
}

const FIELDS = new Set([
  'metadata.name',
  'metadata.namespace',
  'status.phase',
  'spec.nodeName',
  'spec.restartPolicy',
]);

export function parseFieldSelector(text: string | null): (obj: KubeObject) => boolean {
  if (!text) return () => true;
  const reqs = splitTopLevel(text).map((part) => {
    const m = /^([\w.]+)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (!m || !FIELDS.has(m[1]!)) throw badRequest(`field label not supported: ${m?.[1] ?? part}`);
    const [, path, op, value] = m as unknown as [string, string, string, string];
    return (obj: KubeObject) =>
      op === '!=' ? fieldValue(obj, path) !== value : fieldValue(obj, path) === value;
  });
  return (obj) => reqs.every((r) => r(obj));
}
