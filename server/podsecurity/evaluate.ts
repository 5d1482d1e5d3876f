/**
 * evaluatePod: run every check of a level and version on one pod (or pod template) and say
 * which failed, with the API server's reason and detail and the fields to change.
 */
import { formatPath } from '../manifests/load.js';
import type { PodSpecModel } from './pod.js';
import { checksFor } from './registry.js';
import type { LevelVersion, Violation } from './types.js';
import { effectiveMinor } from './version.js';

export interface PodEvaluation {
  allowed: boolean;
  /** The checks that ran, by id, in order. */
  checked: string[];
  violations: Violation[];
}

export function evaluatePod(lv: LevelVersion, pod: PodSpecModel): PodEvaluation {
  const checks = checksFor(lv.level, effectiveMinor(lv.version));
  const violations: Violation[] = [];
  for (const { definition, check } of checks) {
    const r = check(pod);
    if (r.allowed) continue;
    const fieldPaths = r.paths ?? [];
    violations.push({
      check: definition.id,
      level: definition.level,
      reason: r.reason ?? 'unknown forbidden reason',
      detail: r.detail ?? '',
      paths: fieldPaths.map(formatPath),
      fieldPaths,
    });
  }
  return { allowed: violations.length === 0, checked: checks.map((c) => c.definition.id), violations };
}

/** `reason (detail), reason (detail)`: the list the API server puts after `violates PodSecurity "...":`. */
export function forbiddenDetail(violations: readonly Violation[]): string {
  return violations.map((v) => (v.detail ? `${v.reason} (${v.detail})` : v.reason)).join(', ');
}
