/**
 * The Pod Security Admission engine's data model and the shape of its answers.
 * Everything in server/podsecurity/ is pure: no I/O, no clocks, no randomness.
 */
import type { FieldPath } from '../manifests/load.js';

export type Level = 'privileged' | 'baseline' | 'restricted';
export const LEVELS: readonly Level[] = ['privileged', 'baseline', 'restricted'];

/** A policy version: `latest`, or v1.MINOR. */
export type Version = { latest: true } | { latest: false; minor: number };

export interface LevelVersion {
  level: Level;
  version: Version;
}

/** What a namespace asks for in each of the three modes. */
export interface NamespacePolicy {
  enforce: LevelVersion;
  audit: LevelVersion;
  warn: LevelVersion;
}

/** The cluster-wide configuration of the admission plugin (PodSecurityConfiguration). */
export interface PodSecurityConfig {
  defaults: NamespacePolicy;
  exemptions: { usernames: string[]; namespaces: string[]; runtimeClasses: string[] };
}

/** One check's answer for one pod. `paths` are the fields to change (relative to the object). */
export interface CheckResult {
  allowed: boolean;
  /** The API server's short reason, e.g. `allowPrivilegeEscalation != false`. */
  reason?: string;
  /** The API server's detail, e.g. `container "app" must set securityContext.allowPrivilegeEscalation=false`. */
  detail?: string;
  paths?: FieldPath[];
}

/** A failed check as reported to people. */
export interface Violation {
  /** Upstream check id, e.g. `capabilities_restricted`. */
  check: string;
  /** The level the check belongs to. */
  level: 'baseline' | 'restricted';
  reason: string;
  detail: string;
  /** Field paths such as `spec.containers[0].securityContext.privileged` (relative to the object). */
  paths: string[];
  /** The same paths as parts, for locating them in a file. */
  fieldPaths: FieldPath[];
}

export type Mode = 'enforce' | 'warn' | 'audit';
