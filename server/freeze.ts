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
