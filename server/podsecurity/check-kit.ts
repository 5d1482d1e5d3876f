/**
 * What a check is, and the small wording helpers every check shares, so the messages read
 * exactly as the API server's (`container "a"`, `containers "a", "b"`, sorted value lists).
 */
import type { FieldPath } from '../manifests/load.js';
import type { CheckResult } from './types.js';
import type { ContainerModel, PodSpecModel } from './pod.js';

export type CheckFn = (pod: PodSpecModel) => CheckResult;

export interface VersionedCheck {
  /** The first v1.MINOR this behaviour applies to (until the next entry's minimum). */
  minimumMinor: number;
  check: CheckFn;
  /** Baseline checks this restricted check replaces at the restricted level. */
  overrides?: string[];
}

export interface CheckDefinition {
  id: string;
  level: 'baseline' | 'restricted';
  /** What the check guards, in a sentence, for explanations. */
  summary: string;
  versions: VersionedCheck[];
}

export const ALLOWED: CheckResult = { allowed: true };

export function fail(reason: string, detail: string, paths: FieldPath[]): CheckResult {
  return { allowed: false, reason, detail, paths };
}

export function joinQuote(items: readonly string[]): string {
  return items.length === 0 ? '' : `"${items.join('", "')}"`;
}

export function pluralize(singular: string, plural: string, count: number): string {
  return count === 1 ? singular : plural;
}

/** `container "a"` / `containers "a", "b"`. */
export function containersText(names: readonly string[]): string {
  return `${pluralize('container', 'containers', names.length)} ${joinQuote(names)}`;
}

/** A sorted list without duplicates, as Go's string sets list them (byte order). */
export function sortedSet(items: Iterable<string>): string[] {
  return [...new Set(items)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Windows pods are exempt from the Linux-only restricted checks from v1.25 on. */
export function isWindows(pod: PodSpecModel): boolean {
  return pod.osName === 'windows';
}

/** Pods in a user namespace (`hostUsers: false`) are held to less from v1.35 on. */
export function inUserNamespace(pod: PodSpecModel): boolean {
  return pod.hostUsers === false;
}

export function scPath(c: ContainerModel, field: string): FieldPath {
  return [...c.path, 'securityContext', field];
}
