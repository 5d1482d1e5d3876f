/**
 * A canonical digest of plain data, for memoising pure work: two values get the same digest only
 * when they hold the same data. Anything that is not plain data (a Map, a Set, a class instance, a
 * function) gets no digest at all, so a memo keyed by it is skipped rather than fooled by data that
 * JSON.stringify would silently drop.
 */
import { createHash } from 'node:crypto';

class NotPlain extends Error {}

/**
 * The canonical text of a value, written into `out` piece by piece. Each piece says its type and,
 * for strings and keys, its length, so no two different values write the same text. Hashing the
 * joined text once is much quicker than feeding the hash piece by piece.
 */
function write(out: string[], value: unknown, depth: number): void {
  if (depth > 64) throw new NotPlain();
  switch (typeof value) {
    case 'string':
      out.push(`s${value.length}:`, value);
      return;
    case 'number':
      // String() keeps NaN, Infinity and -0 apart, which JSON would not.
      out.push(`n${Object.is(value, -0) ? '-0' : String(value)};`);
      return;
    case 'boolean':
      out.push(value ? 't' : 'f');
      return;
    case 'undefined':
      out.push('u');
      return;
    case 'object': {
      if (value === null) {
        out.push('z');
        return;
      }
      if (Array.isArray(value)) {
        out.push(`a${value.length}[`);
        for (let i = 0; i < value.length; i++) write(out, value[i], depth + 1);
        out.push(']');
        return;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) throw new NotPlain();
      const keys = Object.keys(value).sort();
      out.push(`o${keys.length}{`);
      for (const k of keys) {
        out.push(`k${k.length}:`, k);
        write(out, (value as Record<string, unknown>)[k], depth + 1);
      }
      out.push('}');
      return;
    }
    default:
      throw new NotPlain();
  }
}

/** SHA-256 of the value's canonical form, or undefined when it is not plain data. */
export function canonicalDigest(value: unknown): string | undefined {
  const out: string[] = [];
  try {
    write(out, value, 0);
  } catch (e) {
    if (e instanceof NotPlain) return undefined;
    throw e;
  }
  return createHash('sha256').update(out.join('')).digest('hex');
}

/** A small memo with oldest-first eviction. */
export class Memo<T> {
  private readonly entries = new Map<string, T>();
  constructor(private readonly max: number) {}
  get(key: string): T | undefined {
    return this.entries.get(key);
  }
  set(key: string, value: T): void {
    this.entries.set(key, value);
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }
}
