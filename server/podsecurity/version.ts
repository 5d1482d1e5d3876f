/**
 * Levels and versions as written in namespace labels and PodSecurityConfiguration:
 * `privileged | baseline | restricted`, and `latest` or `v1.MINOR`.
 *
 * The newest policy version this engine knows is v1.37 (the last version in which a check
 * changed). Like the API server, a newer version, or `latest`, is evaluated with the newest
 * checks, while messages still show the version as written.
 */
import type { Level, LevelVersion, Version } from './types.js';
import { LEVELS } from './types.js';

export const NEWEST_MINOR = 37;
export const LATEST: Version = { latest: true };

export function isLevel(s: string): s is Level {
  return (LEVELS as readonly string[]).includes(s);
}

/** The API server's own words for a bad level. */
export const LEVEL_PROBLEM = `must be one of ${LEVELS.join(', ')}`;
export const VERSION_PROBLEM = 'must be "latest" or "v1.x"';

export function parseVersion(text: string): Version | undefined {
  if (text === 'latest') return LATEST;
  const m = /^v1\.(0|[1-9][0-9]*)$/.exec(text);
  if (!m) return undefined;
  const minor = Number(m[1]);
  return Number.isSafeInteger(minor) ? { latest: false, minor } : undefined;
}

export function formatVersion(v: Version): string {
  return v.latest ? 'latest' : `v1.${v.minor}`;
}

/** `restricted:latest`, `baseline:v1.35`: the form the API server quotes in its messages. */
export function formatLevelVersion(lv: LevelVersion): string {
  return `${lv.level}:${formatVersion(lv.version)}`;
}

/** The minor version whose checks apply (latest and future versions use the newest checks). */
export function effectiveMinor(v: Version): number {
  return v.latest ? NEWEST_MINOR : Math.min(v.minor, NEWEST_MINOR);
}

/** -1, 0, 1 as `a` is less strict than, as strict as, or stricter than `b`. */
export function compareLevels(a: Level, b: Level): number {
  return Math.sign(LEVELS.indexOf(a) - LEVELS.indexOf(b));
}

export function sameLevelVersion(a: LevelVersion, b: LevelVersion): boolean {
  if (a.level === 'privileged' && b.level === 'privileged') return true;
  return a.level === b.level && formatVersion(a.version) === formatVersion(b.version);
}
