/**
 * A canonical digest of plain data, for memoising pure work: two values get the same digest only
 * when they hold the same data. Anything that is not plain data (a Map, a Set, a class instance, a
 * function) gets no digest at all, so a memo keyed by it is skipped rather than fooled by data that
 * JSON.stringify would silently drop.
 */
import { createHash, type Hash } from 'node:crypto';

class NotPlain extends Error {}

function feed(hash: Hash, value: unknown, depth: number): void {
  if (depth > 64) throw new NotPlain();
  switch (typeof value) {
    case 'string':
      hash.update(`s${value.length}:`).update(value);
      return;
    case 'number':
      // String() keeps NaN, Infinity and -0 apart, which JSON would not.
      hash.update(`n${Object.is(value, -0) ? '-0' : String(value)};`);
      return;
    case 'boolean':
      hash.update(value ? 't' : 'f');
      return;
    case 'undefined':
      hash.update('u');
      return;
    case 'object': {
      if (value === null) {
        hash.update('z');
        return;
      }
      if (Array.isArray(value)) {
        hash.update(`a${value.length}[`);
        for (let i = 0; i < value.length; i++) feed(hash, value[i], depth + 1);
        hash.update(']');
        return;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) throw new NotPlain();
      const keys = Object.keys(value).sort();
      hash.update(`o${keys.length}{`);
      for (const k of keys) {
        hash.update(`k${k.length}:`).update(k);
        feed(hash, (value as Record<string, unknown>)[k], depth + 1);
      }
      hash.update('}');
      return;
    }
    default:
      throw new NotPlain();
  }
}

/** SHA-256 of the value's canonical form, or undefined when it is not plain data. */
export function canonicalDigest(value: unknown): string | undefined {
  const hash = createHash('sha256');
  try {
    feed(hash, value, 0);
  } catch (e) {
    if (e instanceof NotPlain) return undefined;
    throw e;
  }
  return hash.digest('hex');
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
