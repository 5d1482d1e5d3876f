/**
 * Which checks run for a level and version. Baseline runs the baseline checks; restricted runs
 * the restricted checks plus every baseline check that no active restricted check replaces
 * (restrictedVolumes replaces hostPathVolumes, seccompProfile_restricted replaces
 * seccompProfile_baseline, capabilities_restricted replaces capabilities_baseline,
 * procMount_restricted replaces procMount). Privileged runs nothing.
 *
 * For each check, the newest behaviour whose minimum version is at or below the asked version
 * applies; a check whose first version is newer does not run. Checks run in the API server's
 * order, baseline ids sorted then restricted ids sorted, so messages list reasons in its order.
 */
import type { CheckDefinition, CheckFn } from './check-kit.js';
import { BASELINE_CHECKS } from './checks-baseline.js';
import { RESTRICTED_CHECKS } from './checks-restricted.js';
import type { Level } from './types.js';

export interface ActiveCheck {
  definition: CheckDefinition;
  check: CheckFn;
  /** The v1.MINOR the applied behaviour was introduced in. */
  sinceMinor: number;
}

const byteOrder = (a: CheckDefinition, b: CheckDefinition) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const ORDERED = [...[...BASELINE_CHECKS].sort(byteOrder), ...[...RESTRICTED_CHECKS].sort(byteOrder)];

export const ALL_CHECKS: readonly CheckDefinition[] = ORDERED;

function versionAt(def: CheckDefinition, minor: number) {
  let found: CheckDefinition['versions'][number] | undefined;
  for (const v of def.versions) if (v.minimumMinor <= minor) found = v;
  return found;
}

const cache = new Map<string, ActiveCheck[]>();

export function checksFor(level: Level, minor: number): ActiveCheck[] {
  if (level === 'privileged') return [];
  const key = `${level}:${minor}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const active: Array<ActiveCheck & { overrides: string[] }> = [];
  for (const def of ORDERED) {
    if (level === 'baseline' && def.level === 'restricted') continue;
    const v = versionAt(def, minor);
    if (v)
      active.push({
        definition: def,
        check: v.check,
        sinceMinor: v.minimumMinor,
        overrides: v.overrides ?? [],
      });
  }
  const overridden = new Set(active.flatMap((a) => a.overrides));
  const result = active
    .filter((a) => !(a.definition.level === 'baseline' && overridden.has(a.definition.id)))
    .map(({ definition, check, sinceMinor }) => ({ definition, check, sinceMinor }));
  cache.set(key, result);
  return result;
}
