/**
 * Deep freezing, for data that is shared by everyone who reads it and so must never change: the
 * simulated cluster's stored objects (shared by a cluster and its forks) and what is derived from them.
 */
export function freezeDeep<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const key of Object.keys(value)) freezeDeep((value as Record<string, unknown>)[key]);
  return value;
}

/**
 * Values worked out from frozen objects, remembered by object: a frozen object never changes, so
 * what was derived from it stays right for as long as it lives (a WeakMap lets it go with the
 * object). Anything not frozen is worked out every time.
 */
export class FrozenMemo<K extends object, V> {
  private readonly values = new WeakMap<K, V>();

  get(key: K, compute: () => V): V {
    if (!Object.isFrozen(key)) return compute();
    if (this.values.has(key)) return this.values.get(key) as V;
    const value = compute();
    this.values.set(key, value);
    return value;
  }
}
