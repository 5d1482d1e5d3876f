import { describe, expect, it } from 'vitest';
import { assertEnforcing, canaryObjects, EnforcementGate, runCanary } from '../../server/cluster/canary.js';
import { fakeClock } from '../../server/cluster/poll.js';
import { SimulatedCluster } from '../../server/cluster/sim/index.js';
import { parseProbeArgv } from '../../server/probe/index.js';
import { ScriptedCluster } from './helpers/fake-cluster.js';

const fast = () => ({ clock: fakeClock(), namespace: 'kubelab-canary-test' });

describe('runCanary', () => {
  it('enforcing: connects first, then the deny-all policy drops the connection; namespace cleaned up', async () => {
    const cluster = new ScriptedCluster();
    cluster.afterPolicy = ['connect', 'connect', 'drop'];
    const result = await runCanary(cluster, fast());
    expect(result.enforcing).toBe(true);
    expect(result.attempts).toBe(3);
    expect(result.detail).toContain('NetworkPolicy is enforced');
    expect(cluster.deletedNamespaces).toEqual(['kubelab-canary-test']);
    // Probes are probe/'s own TCP probes, aimed at the server pod's IP (no DNS involved).
    expect(parseProbeArgv(cluster.execs[0]!.argv)).toEqual({
      kind: 'tcp',
      host: '192.168.1.5',
      port: 8080,
      timeoutSeconds: 2,
    });
    expect(cluster.execs[0]!.pod).toEqual({ namespace: 'kubelab-canary-test', name: 'canary-client' });
  });

  it('not enforcing (Flannel-like): still connects after the deadline -> enforcing false, said plainly', async () => {
    const cluster = new ScriptedCluster();
    cluster.afterPolicy = ['connect'];
    const result = await runCanary(cluster, { ...fast(), enforceTimeoutMs: 20_000 });
    expect(result.enforcing).toBe(false);
    expect(result.detail).toMatch(
      /^this cluster does not enforce NetworkPolicy: the canary still connected 20s after/,
    );
    expect(result.attempts).toBeGreaterThan(10);
    expect(cluster.deletedNamespaces).toEqual(['kubelab-canary-test']);
  });

  it('a cluster that rejects instead of dropping cannot be graded either', async () => {
    const cluster = new ScriptedCluster();
    cluster.afterPolicy = ['refuse'];
    const result = await runCanary(cluster, fast());
    expect(result.enforcing).toBe(false);
    expect(result.detail).toContain('rejects blocked connections');
  });

  it('no connection even without a policy is an ENVIRONMENT error, not "not enforcing"', async () => {
    const cluster = new ScriptedCluster();
    cluster.beforePolicy = ['drop'];
    await expect(runCanary(cluster, fast())).rejects.toMatchObject({
      code: 'ENVIRONMENT',
      message: expect.stringContaining('could not connect even without any NetworkPolicy'),
    });
    expect(cluster.policyApplied()).toBe(false);
    expect(cluster.deletedNamespaces).toEqual(['kubelab-canary-test']);
  });

  it('a baseline that needs a few tries (endpoint not programmed yet) is fine', async () => {
    const cluster = new ScriptedCluster();
    cluster.beforePolicy = ['exec-error', 'drop', 'connect'];
    cluster.afterPolicy = ['drop'];
    expect((await runCanary(cluster, fast())).enforcing).toBe(true);
  });

  it('pods that never start are an ENVIRONMENT error naming them', async () => {
    const cluster = new ScriptedCluster();
    cluster.ready = { ready: false, notReady: ['kubelab-canary-test/canary-server: ErrImagePull'] };
    await expect(runCanary(cluster, fast())).rejects.toMatchObject({
      code: 'ENVIRONMENT',
      message: expect.stringContaining('ErrImagePull'),
    });
    expect(cluster.execs).toHaveLength(0);
    expect(cluster.deletedNamespaces).toEqual(['kubelab-canary-test']);
  });

  it('probe errors that last past the deadline are ENVIRONMENT, never a verdict', async () => {
    const cluster = new ScriptedCluster();
    cluster.afterPolicy = ['exec-error'];
    await expect(runCanary(cluster, fast())).rejects.toMatchObject({
      code: 'ENVIRONMENT',
      message: expect.stringContaining('probe failed after the policy'),
    });
  });

  it('a cleanup failure does not hide the real failure, and is reported when it is the only one', async () => {
    const broken = new ScriptedCluster();
    broken.beforePolicy = ['drop'];
    broken.failDeleteNamespace = true;
    const warnings: string[] = [];
    await expect(
      runCanary(broken, {
        ...fast(),
        onProgress: (e) => e.level === 'warn' && warnings.push(e.detail ?? ''),
      }),
    ).rejects.toMatchObject({ message: expect.stringContaining('without any NetworkPolicy') });
    expect(warnings[0]).toContain('could not delete kubelab-canary-test');
    const ok = new ScriptedCluster();
    ok.failDeleteNamespace = true;
    await expect(runCanary(ok, fast())).rejects.toThrow('namespace stuck terminating');
  });

  it('uses a fresh random namespace by default', async () => {
    const cluster = new ScriptedCluster();
    await runCanary(cluster, { clock: fakeClock() });
    expect(cluster.deletedNamespaces[0]).toMatch(/^kubelab-canary-[0-9a-f]{6}$/);
  });
});

describe('canaryObjects', () => {
  it('a netexec server with a readiness probe, a pause client, and a deny-all ingress policy on the server only', () => {
    const { setup, denyAll } = canaryObjects('ns1');
    expect(setup.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Namespace/ns1',
      'Pod/canary-server',
      'Pod/canary-client',
    ]);
    expect(JSON.stringify(setup[1])).toContain('netexec');
    expect(JSON.stringify(setup[1])).toContain('registry.k8s.io/e2e-test-images/agnhost:2.53');
    expect(denyAll.spec).toEqual({
      podSelector: { matchLabels: { app: 'canary-server' } },
      policyTypes: ['Ingress'],
    });
  });
});

describe('assertEnforcing / EnforcementGate', () => {
  it('throws ENVIRONMENT with what to do when the cluster does not enforce', async () => {
    const cluster = new ScriptedCluster();
    cluster.afterPolicy = ['connect'];
    await expect(assertEnforcing(cluster, fast())).rejects.toMatchObject({
      code: 'ENVIRONMENT',
      message: expect.stringContaining('scripted test cluster: this cluster does not enforce NetworkPolicy'),
      hint: expect.stringContaining('kubelab cluster up'),
    });
  });

  it('caches a pass for a while but never a failure', async () => {
    const clock = fakeClock();
    const gate = new EnforcementGate({ clock, namespace: 'c', ttlMs: 60_000 });
    const good = new ScriptedCluster();
    good.afterPolicy = ['drop'];
    expect((await gate.ensure(good)) === 'cached').toBe(false);
    expect(await gate.ensure(good)).toBe('cached');
    clock.advance(61_000);
    expect(await gate.ensure(good)).not.toBe('cached');

    const bad = Object.assign(new ScriptedCluster(), { description: 'flannel' });
    bad.afterPolicy = ['connect'];
    await expect(gate.ensure(bad)).rejects.toMatchObject({ code: 'ENVIRONMENT' });
    await expect(gate.ensure(bad)).rejects.toMatchObject({ code: 'ENVIRONMENT' });
  });
});

describe('runCanary against the simulated cluster', () => {
  // The simulated cluster answers probe/'s real commands with its own network model, so this runs
  // the canary's actual objects and probes end to end.
  it('an enforcing cluster (Calico-like) passes', async () => {
    const cluster = new SimulatedCluster({ enforcePolicies: true });
    const result = await runCanary(cluster, { clock: fakeClock(), namespace: 'kubelab-canary-sim' });
    expect(result).toMatchObject({ enforcing: true, attempts: 1 });
    expect(await cluster.list('Namespace')).not.toContainEqual(
      expect.objectContaining({ metadata: expect.objectContaining({ name: 'kubelab-canary-sim' }) }),
    );
  });

  it('a cluster that ignores NetworkPolicy (Flannel-like) is reported as not enforcing', async () => {
    const cluster = new SimulatedCluster({ enforcePolicies: false });
    const result = await runCanary(cluster, { clock: fakeClock(), namespace: 'kubelab-canary-sim' });
    expect(result.enforcing).toBe(false);
    expect(result.detail).toContain('does not enforce NetworkPolicy');
    await expect(
      assertEnforcing(new SimulatedCluster({ enforcePolicies: false }), { clock: fakeClock() }),
    ).rejects.toMatchObject({ code: 'ENVIRONMENT' });
  });
});
