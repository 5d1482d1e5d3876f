/**
 * From namespace labels (and the cluster's defaults) to the policy of each mode.
 *
 * - `pod-security.kubernetes.io/<mode>` sets the level, `<mode>-version` the version; a mode
 *   without labels keeps the cluster default (privileged:latest unless configured).
 * - When enforce is set and warn is not, warn follows enforce if enforce is stricter than the
 *   warn default (so `kubectl apply` warns about what enforce would reject in pod templates).
 * - A label the API server cannot parse: enforce falls back to restricted (fail closed), warn
 *   and audit to privileged (fail open), a version to latest; each is reported as an error.
 *
 * readPodSecurityConfiguration reads a PodSecurityConfiguration object (the admission plugin's
 * configuration file): defaults and exemptions (usernames, namespaces, runtimeClasses).
 */
import { isRecord } from '../manifests/load.js';
import type { LevelVersion, NamespacePolicy, PodSecurityConfig } from './types.js';
import { LATEST, LEVEL_PROBLEM, VERSION_PROBLEM, compareLevels, isLevel, parseVersion } from './version.js';

export const LABEL_PREFIX = 'pod-security.kubernetes.io/';
export const MODES = ['enforce', 'audit', 'warn'] as const;

export const PRIVILEGED_LATEST: LevelVersion = { level: 'privileged', version: LATEST };

export const DEFAULT_CONFIG: PodSecurityConfig = {
  defaults: { enforce: PRIVILEGED_LATEST, audit: PRIVILEGED_LATEST, warn: PRIVILEGED_LATEST },
  exemptions: { usernames: [], namespaces: [], runtimeClasses: [] },
};

export interface LabelError {
  label: string;
  value: string;
  message: string;
}

export function policyFromLabels(
  labels: Readonly<Record<string, string>>,
  defaults: NamespacePolicy = DEFAULT_CONFIG.defaults,
): { policy: NamespacePolicy; errors: LabelError[] } {
  const policy: NamespacePolicy = {
    enforce: { ...defaults.enforce },
    audit: { ...defaults.audit },
    warn: { ...defaults.warn },
  };
  const errors: LabelError[] = [];
  let enforceLevelSet = false;
  let warnLevelSet = false;
  let warnVersionSet = false;
  for (const mode of MODES) {
    const levelLabel = LABEL_PREFIX + mode;
    const level = labels[levelLabel];
    if (level !== undefined) {
      if (isLevel(level)) {
        policy[mode].level = level;
        if (mode === 'enforce') enforceLevelSet = true;
      } else {
        errors.push({ label: levelLabel, value: level, message: LEVEL_PROBLEM });
        policy[mode].level = mode === 'enforce' ? 'restricted' : 'privileged';
      }
      if (mode === 'warn') warnLevelSet = true;
    }
    const versionLabel = `${levelLabel}-version`;
    const version = labels[versionLabel];
    if (version !== undefined) {
      if (mode === 'warn') warnVersionSet = true;
      const parsed = parseVersion(version);
      if (parsed) policy[mode].version = parsed;
      else {
        errors.push({ label: versionLabel, value: version, message: VERSION_PROBLEM });
        policy[mode].version = LATEST;
      }
    }
  }
  if (!warnLevelSet && enforceLevelSet && compareLevels(policy.enforce.level, policy.warn.level) > 0) {
    policy.warn.level = policy.enforce.level;
    if (!warnVersionSet) policy.warn.version = policy.enforce.version;
  }
  return { policy, errors };
}

/** Every label a namespace may carry that the API server would refuse, with its message. */
export function labelErrors(labels: Readonly<Record<string, string>>): LabelError[] {
  return policyFromLabels(labels).errors;
}

export interface ConfigProblem {
  fieldPath: Array<string | number>;
  message: string;
}

export const CONFIG_KIND = 'PodSecurityConfiguration';
export const CONFIG_API_VERSIONS = [
  'pod-security.admission.config.k8s.io/v1',
  'pod-security.admission.config.k8s.io/v1beta1',
];

export function readPodSecurityConfiguration(obj: Record<string, unknown>): {
  config: PodSecurityConfig;
  problems: ConfigProblem[];
} {
  const problems: ConfigProblem[] = [];
  const config: PodSecurityConfig = {
    defaults: { ...DEFAULT_CONFIG.defaults },
    exemptions: { usernames: [], namespaces: [], runtimeClasses: [] },
  };
  if (typeof obj.apiVersion !== 'string' || !CONFIG_API_VERSIONS.includes(obj.apiVersion)) {
    problems.push({ fieldPath: ['apiVersion'], message: `must be one of ${CONFIG_API_VERSIONS.join(', ')}` });
  }
  const defaults = obj.defaults;
  if (defaults !== undefined && defaults !== null) {
    if (!isRecord(defaults)) problems.push({ fieldPath: ['defaults'], message: 'must be an object' });
    else {
      const labels: Record<string, string> = {};
      for (const [k, v] of Object.entries(defaults)) {
        const known = MODES.some((m) => k === m || k === `${m}-version`);
        if (!known) {
          problems.push({ fieldPath: ['defaults', k], message: `unknown field "${k}"` });
          continue;
        }
        if (typeof v !== 'string') {
          problems.push({ fieldPath: ['defaults', k], message: 'must be a string' });
          continue;
        }
        labels[LABEL_PREFIX + k] = v;
      }
      // The configuration's defaults are not subject to the warn-follows-enforce rule: each
      // mode stands as written (the API server reads them field by field).
      for (const mode of MODES) {
        const level = labels[LABEL_PREFIX + mode];
        const version = labels[`${LABEL_PREFIX + mode}-version`];
        const lv = { ...config.defaults[mode] };
        if (level !== undefined) {
          if (isLevel(level)) lv.level = level;
          else problems.push({ fieldPath: ['defaults', mode], message: LEVEL_PROBLEM });
        }
        if (version !== undefined) {
          const parsed = parseVersion(version);
          if (parsed) lv.version = parsed;
          else problems.push({ fieldPath: ['defaults', `${mode}-version`], message: VERSION_PROBLEM });
        }
        config.defaults[mode] = lv;
      }
    }
  }
  const exemptions = obj.exemptions;
  if (exemptions !== undefined && exemptions !== null) {
    if (!isRecord(exemptions)) problems.push({ fieldPath: ['exemptions'], message: 'must be an object' });
    else {
      for (const [k, v] of Object.entries(exemptions)) {
        if (k !== 'usernames' && k !== 'namespaces' && k !== 'runtimeClasses') {
          problems.push({ fieldPath: ['exemptions', k], message: `unknown field "${k}"` });
          continue;
        }
        if (v === null || v === undefined) continue;
        if (!Array.isArray(v)) {
          problems.push({ fieldPath: ['exemptions', k], message: 'must be a list of strings' });
          continue;
        }
        v.forEach((item, i) => {
          if (typeof item === 'string' && item.length > 0) config.exemptions[k].push(item);
          else problems.push({ fieldPath: ['exemptions', k, i], message: 'must be a non-empty string' });
        });
      }
    }
  }
  return { config, problems };
}
