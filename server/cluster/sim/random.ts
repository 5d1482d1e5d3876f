/**
 * Deterministic randomness for generated names, UIDs and addresses. The generator's whole state is
 * one number kept in the cluster state, so a fork continues the same sequence and tests are stable.
 */

/** The alphabet Kubernetes uses for generated suffixes and pod-template-hash (no vowels, no 0/1/3). */
const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export interface RandomState {
  seed: number;
}

/** mulberry32: tiny, fast, good enough for names (not for secrets). */
export function nextUint32(state: RandomState): number {
  state.seed = (state.seed + 0x6d2b79f5) >>> 0;
  let t = state.seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}

export function randomInt(state: RandomState, below: number): number {
  return nextUint32(state) % below;
}

/** A generated-name suffix like the API server's (`generateName`): 5 characters. */
export function nameSuffix(state: RandomState, length = 5): string {
  let out = '';
  for (let i = 0; i < length; i++) out += SAFE_ALPHABET[randomInt(state, SAFE_ALPHABET.length)];
  return out;
}

export function randomUid(state: RandomState): string {
  const hex = Array.from({ length: 4 }, () => nextUint32(state).toString(16).padStart(8, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** FNV-1a over a string: the same template always gives the same hash. */
export function fnv32a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * pod-template-hash / controller-revision-hash as Kubernetes writes them: the decimal hash,
 * each digit mapped into the safe alphabet (so up to 10 characters, e.g. `5d8f9c7b6`).
 */
export function safeEncodeHash(hash: number): string {
  return [...String(hash)].map((d) => SAFE_ALPHABET[d.charCodeAt(0) % SAFE_ALPHABET.length]).join('');
}

/** JSON with object keys sorted, so equal objects always serialise the same way. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
