/**
 * Names the API server makes up: the five-character suffix of `generateName` (`backend-` ->
 * `backend-x7k2p`), from the alphabet Kubernetes uses (no vowels, no 0/1/3, so no words).
 */
import type { SimulatedCluster } from '../cluster.js';
import type { KindInfo } from '../kinds.js';

const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export function randomSuffixFor(
  cluster: SimulatedCluster,
  info: KindInfo,
  namespace: string | undefined,
  prefix: string,
): string {
  for (;;) {
    let s = '';
    for (let i = 0; i < 5; i++) s += ALPHABET[Math.floor(Math.random() * ALPHABET.length)];
    if (!cluster.get(info.kind, `${prefix}${s}`, namespace)) return s;
  }
}
