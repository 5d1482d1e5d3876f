/**
 * The Pod Security Admission engine's public API. Read the files in this order to follow the rules:
 *   types.ts              levels, versions, policies, the Violation shape
 *   version.ts            parsing `latest` / `v1.N`, the newest version known, level order
 *   pod.ts                readPodSpec: the fields the checks read, each with its field path
 *   check-kit.ts          what a check is; the API server's wording helpers
 *   checks-baseline.ts    the baseline checks, each with its versions
 *   checks-restricted.ts  the restricted checks, each with its versions and the baseline checks it replaces
 *   registry.ts           which checks run for a level and version, in which order
 *   evaluate.ts           evaluatePod -> every violated check; the API server's message list
 *   policy.ts             namespace labels and PodSecurityConfiguration -> the policy of each mode
 *   admission.ts          admit: Pods (enforce, warn, audit) and workloads (warn and audit only), exemptions
 */
export * from './types.js';
export {
  NEWEST_MINOR,
  LATEST,
  parseVersion,
  formatVersion,
  formatLevelVersion,
  effectiveMinor,
  compareLevels,
  isLevel,
  LEVEL_PROBLEM,
  VERSION_PROBLEM,
} from './version.js';
export { readPodSpec, type PodSpecModel, type ContainerModel, type PodProblem } from './pod.js';
export { checksFor, ALL_CHECKS, type ActiveCheck } from './registry.js';
export { evaluatePod, forbiddenDetail, type PodEvaluation } from './evaluate.js';
export {
  policyFromLabels,
  labelErrors,
  readPodSecurityConfiguration,
  DEFAULT_CONFIG,
  LABEL_PREFIX,
  MODES,
  CONFIG_KIND,
  type LabelError,
  type ConfigProblem,
} from './policy.js';
export {
  admit,
  hasPodSpec,
  POD_SPEC_LOCATIONS,
  type AdmissionRequest,
  type AdmissionVerdict,
  type ModeResult,
} from './admission.js';
