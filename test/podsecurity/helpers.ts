/** Test helpers: the Pod Security cases in test/fixtures/podsecurity and small pod builders. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { readPodSpec, type PodSpecModel } from '../../server/podsecurity/index.js';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'podsecurity');

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Objects merge key by key, lists item by item, null deletes. */
export function deepMerge(base: Json | undefined, patch: Json | undefined): Json | undefined {
  if (patch === undefined) return base;
  if (patch === null) return undefined;
  if (Array.isArray(patch)) {
    const b = Array.isArray(base) ? base : [];
    const out: Json[] = [];
    for (let i = 0; i < Math.max(b.length, patch.length); i++) {
      const merged = deepMerge(b[i], patch[i]);
      if (merged !== undefined) out.push(merged);
    }
    return out;
  }
  if (typeof patch === 'object') {
    const b = base !== null && typeof base === 'object' && !Array.isArray(base) ? base : {};
    const out: { [k: string]: Json } = { ...b };
    for (const [k, v] of Object.entries(patch)) {
      const merged = deepMerge(b[k], v);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    }
    return out;
  }
  return patch;
}

export interface PsaCase {
  name: string;
  level: 'baseline' | 'restricted';
  versions: string[];
  denied: string[];
  pod: Record<string, unknown>;
}

export function loadCases(): PsaCase[] {
  const raw = parse(readFileSync(join(FIXTURES, 'cases.yaml'), 'utf8')) as {
    bases: Record<string, Json>;
    cases: Array<{
      name: string;
      level: 'baseline' | 'restricted';
      versions: string[];
      denied: string[];
      base?: string;
      spec?: Json;
      metadata?: Json;
    }>;
  };
  return raw.cases.map((c) => ({
    name: c.name,
    level: c.level,
    versions: c.versions,
    denied: c.denied,
    pod: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: deepMerge({ name: 'case' }, c.metadata) as Record<string, unknown>,
      spec: deepMerge(raw.bases[c.base ?? c.level], c.spec) as Record<string, unknown>,
    },
  }));
}

export function podModel(pod: Record<string, unknown>): PodSpecModel {
  const { pod: model, problems } = readPodSpec(pod, ['metadata'], ['spec']);
  if (problems.length > 0) throw new Error(`bad test pod: ${JSON.stringify(problems)}`);
  return model;
}
