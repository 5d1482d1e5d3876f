/** Messages as the API server words them, namespace labels, warn/audit, workloads and exemptions. */
import { describe, it, expect } from 'vitest';
import {
  admit,
  DEFAULT_CONFIG,
  evaluatePod,
  forbiddenDetail,
  LATEST,
  policyFromLabels,
  readPodSecurityConfiguration,
  readPodSpec,
  type NamespacePolicy,
} from '../../server/podsecurity/index.js';
import { podModel } from './helpers.js';

const bare = podModel({
  metadata: { name: 'web' },
  spec: {
    containers: [{ name: 'app', image: 'nginx' }],
    initContainers: [{ name: 'init', image: 'busybox' }],
  },
});

describe('messages', () => {
  it('words a restricted rejection exactly as the API server does', () => {
    const r = evaluatePod({ level: 'restricted', version: LATEST }, bare);
    expect(forbiddenDetail(r.violations)).toBe(
      'allowPrivilegeEscalation != false (containers "init", "app" must set securityContext.allowPrivilegeEscalation=false), ' +
        'unrestricted capabilities (containers "init", "app" must set securityContext.capabilities.drop=["ALL"]), ' +
        'runAsNonRoot != true (pod or containers "init", "app" must set securityContext.runAsNonRoot=true), ' +
        'seccompProfile (pod or containers "init", "app" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
    );
    expect(r.violations[0]!.paths).toEqual([
      'spec.initContainers[0].securityContext.allowPrivilegeEscalation',
      'spec.containers[0].securityContext.allowPrivilegeEscalation',
    ]);
  });

  it('lists host ports and baseline reasons in the API server order', () => {
    const pod = podModel({
      metadata: { name: 'p' },
      spec: {
        hostNetwork: true,
        containers: [
          {
            name: 'a',
            ports: [
              { containerPort: 1, hostPort: 9090 },
              { containerPort: 2, hostPort: 10 },
            ],
            securityContext: { privileged: true },
          },
        ],
      },
    });
    const r = evaluatePod({ level: 'baseline', version: LATEST }, pod);
    expect(forbiddenDetail(r.violations)).toBe(
      'host namespaces (hostNetwork=true), hostPort (container "a" uses hostPorts 10, 9090), privileged (container "a" must not set securityContext.privileged=true)',
    );
    expect(r.violations.find((v) => v.check === 'hostPorts')!.paths).toEqual([
      'spec.containers[0].ports[0].hostPort',
      'spec.containers[0].ports[1].hostPort',
    ]);
  });

  it('reads pod templates of workloads at their own paths', () => {
    const deployment = {
      spec: {
        template: {
          metadata: {},
          spec: { containers: [{ name: 'c', securityContext: { privileged: true } }] },
        },
      },
    };
    const { pod } = readPodSpec(deployment, ['spec', 'template', 'metadata'], ['spec', 'template', 'spec']);
    const r = evaluatePod({ level: 'baseline', version: LATEST }, pod);
    expect(r.violations[0]!.paths).toEqual(['spec.template.spec.containers[0].securityContext.privileged']);
  });

  it('reports fields of the wrong type with their path', () => {
    const { problems } = readPodSpec(
      { spec: { hostNetwork: 'yes', containers: [{ name: 'c', securityContext: { runAsUser: 'root' } }] } },
      ['metadata'],
      ['spec'],
    );
    expect(problems.map((p) => p.path)).toEqual([
      'spec.hostNetwork',
      'spec.containers[0].securityContext.runAsUser',
    ]);
  });
});

describe('namespace labels', () => {
  it('defaults every mode to privileged:latest', () => {
    const { policy, errors } = policyFromLabels({});
    expect(errors).toEqual([]);
    expect(policy.enforce.level).toBe('privileged');
  });

  it('makes warn follow a stricter enforce (with its version) unless warn is set', () => {
    const { policy } = policyFromLabels({
      'pod-security.kubernetes.io/enforce': 'baseline',
      'pod-security.kubernetes.io/enforce-version': 'v1.30',
    });
    expect(policy.warn).toEqual({ level: 'baseline', version: { latest: false, minor: 30 } });
    const explicit = policyFromLabels({
      'pod-security.kubernetes.io/enforce': 'baseline',
      'pod-security.kubernetes.io/warn': 'restricted',
    }).policy;
    expect(explicit.warn.level).toBe('restricted');
  });

  it('fails closed for a bad enforce label and open for bad warn/audit labels', () => {
    const { policy, errors } = policyFromLabels({
      'pod-security.kubernetes.io/enforce': 'strict',
      'pod-security.kubernetes.io/warn': 'loud',
      'pod-security.kubernetes.io/audit-version': '1.30',
    });
    expect(policy.enforce.level).toBe('restricted');
    expect(policy.warn.level).toBe('privileged');
    expect(errors.map((e) => e.message)).toEqual([
      'must be one of privileged, baseline, restricted',
      'must be "latest" or "v1.x"',
      'must be one of privileged, baseline, restricted',
    ]);
  });
});

describe('admit', () => {
  const ns = (labels: Record<string, string>): NamespacePolicy => policyFromLabels(labels).policy;

  it('rejects a Pod under enforce with the API server message', () => {
    const v = admit(
      { kind: 'Pod', name: 'web', namespace: 'prod', pod: bare },
      ns({ 'pod-security.kubernetes.io/enforce': 'restricted' }),
    );
    expect(v.admitted).toBe(false);
    expect(v.allowed).toBe(false);
    expect(v.error).toMatch(
      /^pods "web" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false/,
    );
    expect(v.warnings).toEqual([]);
  });

  it('admits a Pod with a warning when only warn is violated', () => {
    const v = admit(
      { kind: 'Pod', name: 'web', namespace: 'dev', pod: bare },
      ns({
        'pod-security.kubernetes.io/enforce': 'baseline',
        'pod-security.kubernetes.io/warn': 'restricted',
      }),
    );
    expect(v.admitted).toBe(true);
    expect(v.warnings).toHaveLength(1);
    expect(v.warnings[0]).toMatch(/^would violate PodSecurity "restricted:latest": /);
  });

  it('admits a workload but says its pods would be rejected', () => {
    const v = admit(
      { kind: 'Deployment', name: 'web', namespace: 'prod', pod: bare },
      ns({ 'pod-security.kubernetes.io/enforce': 'restricted' }),
    );
    expect(v.admitted).toBe(true);
    expect(v.allowed).toBe(false);
    expect(v.error).toBeUndefined();
    expect(v.warnings[0]).toMatch(/^would violate PodSecurity "restricted:latest"/);
  });

  it('records audit violations as an audit annotation', () => {
    const v = admit(
      { kind: 'Pod', name: 'web', namespace: 'x', pod: bare },
      ns({ 'pod-security.kubernetes.io/audit': 'restricted' }),
    );
    expect(v.admitted).toBe(true);
    expect(v.auditAnnotations['audit-violations']).toMatch(/^would violate PodSecurity "restricted:latest"/);
  });

  it('honours namespace, user and runtimeClass exemptions', () => {
    const { config, problems } = readPodSecurityConfiguration({
      apiVersion: 'pod-security.admission.config.k8s.io/v1',
      kind: 'PodSecurityConfiguration',
      defaults: { enforce: 'restricted' },
      exemptions: { namespaces: ['kube-system'], usernames: ['ci-bot'], runtimeClasses: ['kata'] },
    });
    expect(problems).toEqual([]);
    const policy = config.defaults;
    expect(
      admit({ kind: 'Pod', name: 'a', namespace: 'kube-system', pod: bare }, policy, config).exempt,
    ).toBe('namespace');
    expect(
      admit({ kind: 'Pod', name: 'a', namespace: 'x', pod: bare, username: 'ci-bot' }, policy, config).exempt,
    ).toBe('user');
    const kata = podModel({
      metadata: { name: 'k' },
      spec: { runtimeClassName: 'kata', containers: [{ name: 'c' }] },
    });
    expect(admit({ kind: 'Pod', name: 'k', namespace: 'x', pod: kata }, policy, config).exempt).toBe(
      'runtimeClass',
    );
    expect(admit({ kind: 'Pod', name: 'a', namespace: 'x', pod: bare }, policy, config).admitted).toBe(false);
    expect(
      admit({ kind: 'Pod', name: 'a', namespace: 'x', pod: bare }, DEFAULT_CONFIG.defaults).admitted,
    ).toBe(true);
  });
});
