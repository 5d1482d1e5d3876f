/**
 * Pod Security in the simulated cluster: enforce refuses pods (also those a controller creates),
 * warn gives `Warning:` lines for pods and workload templates, relabelling a namespace warns about
 * its existing pods, and a dry run answers without storing. The real kubectl sees it as it would
 * from an API server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedCluster } from '../../../server/cluster/sim/index.js';
import type { KubeObject } from '../../../server/cluster/types.js';
import { isKubelabError } from '../../../server/errors.js';
import { kubectl, kubectlSkipReason, startSim } from './api/support.js';
import type { SimUp } from '../../../server/cli/sim.js';

const ns = (name: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels },
});
const container = (securityContext?: Record<string, unknown>) => ({
  name: 'app',
  image: 'registry.k8s.io/e2e-test-images/agnhost:2.53',
  args: ['pause'],
  ...(securityContext ? { securityContext } : {}),
});
const RESTRICTED_OK = {
  runAsNonRoot: true,
  runAsUser: 1000,
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};
const pod = (name: string, namespace: string, securityContext?: Record<string, unknown>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace },
  spec: { containers: [container(securityContext)] },
});
const deployment = (
  name: string,
  namespace: string,
  securityContext?: Record<string, unknown>,
): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [container(securityContext)] } },
  },
});
const ENFORCE = 'pod-security.kubernetes.io/enforce';
const WARN = 'pod-security.kubernetes.io/warn';

describe('Pod Security admission in the simulated cluster', () => {
  it('enforce refuses a violating pod with the API server message; nothing of the batch is stored', async () => {
    const c = new SimulatedCluster();
    await c.apply([ns('apps', { [ENFORCE]: 'baseline' })]);
    const err = await c
      .apply([pod('ok', 'apps'), pod('priv', 'apps', { privileged: true })])
      .catch((e: unknown) => e);
    expect(isKubelabError(err) && err.code).toBe('FORBIDDEN');
    expect((err as Error).message).toBe(
      'pods "priv" is forbidden: violates PodSecurity "baseline:latest": privileged (container "app" must not set securityContext.privileged=true)',
    );
    expect(c.listNow('Pod', 'apps')).toEqual([]);
    const [out] = await c.apply([pod('ok', 'apps')]);
    expect(out).toEqual({ kind: 'Pod', namespace: 'apps', name: 'ok', action: 'created' });
  });

  it('warn mode warns about pods and workload templates; workloads are never refused', async () => {
    const c = new SimulatedCluster();
    await c.apply([ns('apps', { [ENFORCE]: 'baseline', [WARN]: 'restricted' })]);
    const [p, d] = await c.apply([pod('plain', 'apps'), deployment('web', 'apps')]);
    expect(p!.warnings?.[0]).toMatch(
      /^would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false/,
    );
    expect(d!.warnings?.[0]).toMatch(/^would violate PodSecurity "restricted:latest": /);
    const [clean] = await c.apply([pod('clean', 'apps', RESTRICTED_OK)]);
    expect(clean!.warnings).toBeUndefined();
  });

  it('a Deployment whose pods violate enforce has no pods and says FailedCreate; fixing it brings them', async () => {
    const c = new SimulatedCluster();
    await c.apply([ns('apps', { [ENFORCE]: 'restricted' }), deployment('web', 'apps')]);
    expect(c.listNow('Pod', 'apps')).toEqual([]);
    const rs = c.listNow('ReplicaSet', 'apps')[0]!;
    const cond = (rs.status as { conditions: Array<Record<string, string>> }).conditions[0]!;
    expect(cond).toMatchObject({ type: 'ReplicaFailure', reason: 'FailedCreate' });
    expect(cond.message).toMatch(
      /^pods "web-[a-z0-9]+-[a-z0-9]{5}" is forbidden: violates PodSecurity "restricted:latest"/,
    );
    const d = c.get('Deployment', 'web', 'apps')!;
    expect(JSON.stringify(d.status)).toMatch(/ReplicaFailure/);
    await c.apply([deployment('web', 'apps', RESTRICTED_OK)]);
    expect(c.listNow('Pod', 'apps')).toHaveLength(2);
    expect((c.get('Deployment', 'web', 'apps')!.status as { readyReplicas: number }).readyReplicas).toBe(2);
  });

  it('relabelling a namespace warns about existing pods that violate the new level, without evicting them', async () => {
    const c = new SimulatedCluster();
    await c.apply([ns('apps'), deployment('web', 'apps'), pod('fine', 'apps', RESTRICTED_OK)]);
    const [out] = await c.apply([ns('apps', { [ENFORCE]: 'restricted' })]);
    expect(out!.warnings?.[0]).toBe(
      'existing pods in namespace "apps" violate the new PodSecurity enforce level "restricted:latest"',
    );
    expect(out!.warnings?.[1]).toMatch(
      /^web-[a-z0-9]+-[a-z0-9]{5} \(and 1 other pod\): allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile$/,
    );
    expect(c.listNow('Pod', 'apps')).toHaveLength(3);
  });

  it('refuses Pod Security labels it cannot parse', async () => {
    const c = new SimulatedCluster();
    const err = await c.apply([ns('apps', { [ENFORCE]: 'strict' })]).catch((e: unknown) => e);
    expect(isKubelabError(err) && err.problems[0]?.message).toMatch(
      /Invalid value: "strict": must be one of privileged, baseline, restricted/,
    );
  });

  it('dryRunCreate answers without storing, and an existing name is a question it refuses', async () => {
    const c = new SimulatedCluster();
    await c.apply([ns('apps', { [ENFORCE]: 'baseline', [WARN]: 'restricted' })]);
    const refused = await c.dryRunCreate(pod('priv', 'apps', { privileged: true }));
    expect(refused).toMatchObject({ admitted: false, warnings: [] });
    expect(refused.message).toMatch(/^pods "priv" is forbidden: violates PodSecurity "baseline:latest"/);
    const warned = await c.dryRunCreate(pod('plain', 'apps'));
    expect(warned.admitted).toBe(true);
    expect(warned.warnings).toHaveLength(1);
    expect(c.listNow('Pod', 'apps')).toEqual([]);
    await c.apply([pod('plain', 'apps')]);
    await expect(c.dryRunCreate(pod('plain', 'apps'))).rejects.toThrow(/already exists/);
  });

  it('pods get the ServiceAccount token unless the pod or its account turns automount off', async () => {
    const c = new SimulatedCluster();
    const sa = (name: string, automount?: boolean): KubeObject => ({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name, namespace: 'apps' },
      ...(automount === undefined ? {} : { automountServiceAccountToken: automount }),
    });
    const withSa = (name: string, account: string, automount?: boolean): KubeObject => {
      const p = pod(name, 'apps');
      (p.spec as Record<string, unknown>).serviceAccountName = account;
      if (automount !== undefined)
        (p.spec as Record<string, unknown>).automountServiceAccountToken = automount;
      return p;
    };
    await c.apply([ns('apps'), sa('on'), sa('off', false)]);
    await c.apply([
      withSa('a', 'on'),
      withSa('b', 'off'),
      withSa('c', 'off', true),
      withSa('d', 'on', false),
    ]);
    const mounted = (name: string) =>
      JSON.stringify(c.get('Pod', name, 'apps')!.spec).includes('serviceAccountToken');
    expect(['a', 'b', 'c', 'd'].map(mounted)).toEqual([true, false, true, false]);
  });
});

describe.skipIf(kubectlSkipReason !== undefined)('kubectl sees Pod Security as from an API server', () => {
  let sim: SimUp;
  beforeAll(async () => {
    sim = await startSim();
  });
  afterAll(async () => {
    await sim?.api.close();
  });

  it('Forbidden on create, Warning lines on label and on a warned pod, server-side dry run', async () => {
    const k = (args: string[], stdin?: string) => kubectl(sim.kubeconfigPath, args, stdin);
    expect((await k(['apply', '-f', '-'], JSON.stringify(ns('psa')))).code).toBe(0);
    await k([
      'run',
      'root',
      '-n',
      'psa',
      '--image=registry.k8s.io/e2e-test-images/agnhost:2.53',
      '--',
      'pause',
    ]);
    const label = await k(['label', 'ns', 'psa', `${ENFORCE}=baseline`, `${WARN}=restricted`]);
    expect(label.code).toBe(0);
    expect(label.stdout).toMatch(/namespace\/psa labeled/);
    const privileged = JSON.stringify(pod('priv', 'psa', { privileged: true }));
    const refused = await k(['apply', '-f', '-'], privileged);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /Error from server \(Forbidden\): .*pods "priv" is forbidden: violates PodSecurity "baseline:latest": privileged \(container "app" must not set securityContext.privileged=true\)/,
    );
    const dry = await k(['apply', '--dry-run=server', '-f', '-'], JSON.stringify(pod('plain', 'psa')));
    expect(dry.code).toBe(0);
    expect(dry.stderr).toMatch(
      /^Warning: would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false/m,
    );
    expect(dry.stdout).toMatch(/pod\/plain created \(server dry run\)/);
    expect((await k(['get', 'pod', 'plain', '-n', 'psa'])).code).toBe(1);
    const relabel = await k(['label', '--overwrite', 'ns', 'psa', `${ENFORCE}=restricted`]);
    expect(relabel.stderr).toMatch(
      /^Warning: existing pods in namespace "psa" violate the new PodSecurity enforce level "restricted:latest"$/m,
    );
    expect(relabel.stderr).toMatch(/^Warning: root: allowPrivilegeEscalation != false/m);
  });
});
