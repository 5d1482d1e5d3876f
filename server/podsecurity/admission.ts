/**
 * admit: what the API server's PodSecurity admission does with one object, and why.
 *
 * 1. A namespace or user listed in the exemptions: admitted, nothing checked.
 * 2. A Pod: evaluated against the namespace's enforce policy (rejected on any violation, with
 *    the message `pods "NAME" is forbidden: violates PodSecurity "LEVEL:VERSION": ...`), its audit
 *    policy (an audit annotation) and, if admitted, its warn policy (a warning). A pod whose
 *    runtimeClassName is exempt is admitted unchecked.
 * 3. A workload (Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job,
 *    CronJob, PodTemplate): its pod template is evaluated for warn and audit only; the workload
 *    itself is always admitted. Its pods meet enforce when the controller creates them, so
 *    `allowed` says whether those pods would be admitted (the API server does not say this on
 *    apply; that is exactly the surprise this verdict warns about).
 */
import type { FieldPath } from '../manifests/load.js';
import { evaluatePod, forbiddenDetail, type PodEvaluation } from './evaluate.js';
import type { PodSpecModel } from './pod.js';
import type { LevelVersion, NamespacePolicy, PodSecurityConfig, Violation } from './types.js';
import { formatLevelVersion, sameLevelVersion } from './version.js';
import { DEFAULT_CONFIG } from './policy.js';

/** Where the pod's metadata and spec sit in each kind Pod Security looks at. */
export const POD_SPEC_LOCATIONS: Readonly<
  Record<string, { metadata: FieldPath; spec: FieldPath; resource: string }>
> = {
  Pod: { metadata: ['metadata'], spec: ['spec'], resource: 'pods' },
  PodTemplate: { metadata: ['template', 'metadata'], spec: ['template', 'spec'], resource: 'podtemplates' },
  ReplicationController: {
    metadata: ['spec', 'template', 'metadata'],
    spec: ['spec', 'template', 'spec'],
    resource: 'replicationcontrollers',
  },
  ReplicaSet: {
    metadata: ['spec', 'template', 'metadata'],
    spec: ['spec', 'template', 'spec'],
    resource: 'replicasets',
  },
  Deployment: {
    metadata: ['spec', 'template', 'metadata'],
    spec: ['spec', 'template', 'spec'],
    resource: 'deployments',
  },
  DaemonSet: {
    metadata: ['spec', 'template', 'metadata'],
    spec: ['spec', 'template', 'spec'],
    resource: 'daemonsets',
  },
  StatefulSet: {
    metadata: ['spec', 'template', 'metadata'],
    spec: ['spec', 'template', 'spec'],
    resource: 'statefulsets',
  },
  Job: { metadata: ['spec', 'template', 'metadata'], spec: ['spec', 'template', 'spec'], resource: 'jobs' },
  CronJob: {
    metadata: ['spec', 'jobTemplate', 'spec', 'template', 'metadata'],
    spec: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
    resource: 'cronjobs',
  },
};

export function hasPodSpec(kind: string): boolean {
  return Object.hasOwn(POD_SPEC_LOCATIONS, kind);
}

export interface AdmissionRequest {
  kind: string;
  name: string;
  namespace: string;
  pod: PodSpecModel;
  /** The requesting user, for username exemptions. */
  username?: string;
}

export interface ModeResult {
  policy: string;
  allowed: boolean;
  violations: Violation[];
}

export interface AdmissionVerdict {
  kind: string;
  name: string;
  namespace: string;
  /** The API server accepts this object (a workload is always accepted; its pods may not be). */
  admitted: boolean;
  /** The pods this object is or creates would be admitted under enforce. */
  allowed: boolean;
  /** Set when an exemption applied: nothing was checked. */
  exempt?: 'namespace' | 'user' | 'runtimeClass';
  enforce: ModeResult;
  warn?: ModeResult;
  audit?: ModeResult;
  /** The API server's error for a rejected Pod, or undefined. */
  error?: string;
  /** What `kubectl apply` prints as `Warning: ...` lines (without the prefix). */
  warnings: string[];
  auditAnnotations: Record<string, string>;
  /** Plain-language explanation, most important first. */
  reasons: string[];
}

export function admit(
  request: AdmissionRequest,
  policy: NamespacePolicy,
  config: PodSecurityConfig = DEFAULT_CONFIG,
  opts: { policyErrors?: string[]; policySource?: string } = {},
): AdmissionVerdict {
  const isPod = request.kind === 'Pod';
  const what = `${request.kind} ${request.namespace}/${request.name}`;
  const source = opts.policySource ?? `the labels of namespace ${request.namespace}`;
  const base = {
    kind: request.kind,
    name: request.name,
    namespace: request.namespace,
    warnings: [] as string[],
  };
  const exempted = (exempt: 'namespace' | 'user' | 'runtimeClass', why: string): AdmissionVerdict => ({
    ...base,
    admitted: true,
    allowed: true,
    exempt,
    enforce: { policy: formatLevelVersion(policy.enforce), allowed: true, violations: [] },
    auditAnnotations: { exempt },
    reasons: [`${what} is admitted without checks: ${why}`],
  });
  if (config.exemptions.namespaces.includes(request.namespace)) {
    return exempted('namespace', `namespace ${request.namespace} is exempt from Pod Security`);
  }
  if (request.username !== undefined && config.exemptions.usernames.includes(request.username)) {
    return exempted('user', `user ${request.username} is exempt from Pod Security`);
  }
  const runtimeClass = request.pod.runtimeClassName;
  if (runtimeClass !== undefined && config.exemptions.runtimeClasses.includes(runtimeClass)) {
    return exempted('runtimeClass', `runtimeClassName ${runtimeClass} is exempt from Pod Security`);
  }

  const cache = new Map<string, PodEvaluation>();
  const run = (lv: LevelVersion): ModeResult => {
    const key = formatLevelVersion(lv);
    let evaluation = cache.get(key);
    if (!evaluation) {
      evaluation = evaluatePod(lv, request.pod);
      cache.set(key, evaluation);
    }
    return { policy: key, allowed: evaluation.allowed, violations: evaluation.violations };
  };

  const auditAnnotations: Record<string, string> = {};
  if (opts.policyErrors && opts.policyErrors.length > 0) {
    auditAnnotations.error = `Failed to parse policy: ${opts.policyErrors.join(', ')}`;
  }
  const enforce = run(policy.enforce);
  const reasons: string[] = [];
  let error: string | undefined;
  let admitted = true;
  const enforceText = `enforce ${enforce.policy} (from ${source})`;
  if (isPod) {
    auditAnnotations['enforce-policy'] = enforce.policy;
    if (!enforce.allowed) {
      admitted = false;
      error = `pods "${request.name}" is forbidden: violates PodSecurity "${enforce.policy}": ${forbiddenDetail(enforce.violations)}`;
      reasons.push(`${what} is rejected: it violates ${enforceText}`);
    } else if (policy.enforce.level === 'privileged') {
      reasons.push(`${what} is admitted: ${enforceText} allows everything`);
    } else {
      reasons.push(`${what} is admitted: it passes every check of ${enforceText}`);
    }
  } else if (enforce.allowed) {
    reasons.push(
      policy.enforce.level === 'privileged'
        ? `${what} is admitted, and so will its pods be: ${enforceText} allows everything`
        : `${what} is admitted, and so will its pods be: its pod template passes ${enforceText}`,
    );
  } else {
    reasons.push(
      `${what} is admitted (Pod Security only warns about workloads), but the pods it creates will be rejected: its pod template violates ${enforceText}`,
    );
  }

  const audit = run(policy.audit);
  if (!audit.allowed) {
    auditAnnotations['audit-violations'] =
      `would violate PodSecurity "${audit.policy}": ${forbiddenDetail(audit.violations)}`;
  }
  const warnings: string[] = [];
  let warn: ModeResult | undefined;
  if (admitted) {
    warn = run(policy.warn);
    if (!warn.allowed) {
      warnings.push(`would violate PodSecurity "${warn.policy}": ${forbiddenDetail(warn.violations)}`);
      reasons.push(`a warning is shown: the warn policy ${warn.policy} is violated`);
    }
  }
  const verdict: AdmissionVerdict = {
    ...base,
    admitted,
    allowed: enforce.allowed,
    enforce,
    warnings,
    auditAnnotations,
    reasons,
  };
  if (warn && !sameLevelVersion(policy.warn, policy.enforce)) verdict.warn = warn;
  if (!sameLevelVersion(policy.audit, policy.enforce)) verdict.audit = audit;
  if (error !== undefined) verdict.error = error;
  return verdict;
}
