import { describe, expect, it } from 'vitest';
import {
  assertEnforcing,
  canaryObjects,
  EnforcementGate,
  removeLeftoverCanaries,
  runCanary,
} from '../../server/cluster/canary.js';
import type { KubeObject } from '../../server/cluster/types.js';
import { fakeClock } from '../../server/cluster/poll.js';
import { SimulatedCluster } from '../../server/cluster/sim/index.js';
import { parseProbeArgv } from '../../server/probe/index.js';
import { ScriptedCluster } from './helpers/fake-cluster.js';

const fast = () => ({ clock: fakeClock(), namespace: 'kubelab-canary-test' });

const NOW = Date.parse('2026-06-12T10:00:00Z');
const ns = (
  name: string,
  ageMinutes: number,
  labels: Record<string, string> = {},
  extra = {},
): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: {
    name,
    labels,
    creationTimestamp: new Date(NOW - ageMinutes * 60_000).toISOString(),
    ...extra,
  },
});
const ours = { 'app.kubernetes.io/part-of': 'kubelab-canary' };

describe('leftover canary namespaces (interrupted runs)', () => {
  it('deletes only old, labelled kubelab-canary-* namespaces, without waiting for them', async () => {
    const cluster = new ScriptedCluster();
    cluster.existingNamespaces = [
      ns('kubelab-canary-0a1b2c', 60, ours),
      ns('kubelab-canary-3d4e5f', 2, ours), // another canary at work right now
      ns('kubelab-canary-impostor', 60), // our name, not our label
      ns('np-lab', 60, ours), // our label, not our name
      ns('kubelab-canary-998877', 60, ours, { deletionTimestamp: '2026-06-12T09:59:00Z' }),
      ns('default', 600),
    ];
    const removed = await removeLeftoverCanaries(cluster, { clock: fakeClock(NOW) });
    expect(removed).toEqual(['kubelab-canary-0a1b2c']);
    expect(cluster.deleted).toEqual(['Namespace/kubelab-canary-0a1b2c']);
    expect(cluster.deletedNamespaces).toEqual([]);
  });

  it('every canary starts by deleting leftovers, and says so', async () => {
    const cluster = new ScriptedCluster();
    cluster.existingNamespaces = [ns('kubelab-canary-0a1b2c', 30, ours)];
    const lines: string[] = [];
    const result = await runCanary(cluster, {
      ...fast(),
      clock: fakeClock(NOW),
      onProgress: (e) => lines.push(e.detail ?? ''),
    });
    expect(result.enforcing).toBe(true);
    expect(cluster.deleted).toEqual(['Namespace/kubelab-canary-0a1b2c']);
    expect(lines[0]).toBe('deleting 1 canary namespace(s) left by interrupted runs: kubelab-canary-0a1b2c');
  });

  it('Ctrl-C mid-probe: stops, asks for its namespace to be deleted at once, ends INTERRUPTED', async () => {
    const cluster = new ScriptedCluster();
    cluster.afterPolicy = ['connect'];
    const stop = new AbortController();
    cluster.onExec = () => {
      if (cluster.policyApplied() && cluster.execs.length >= 3) stop.abort();
    };
    const err = await runCanary(cluster, { ...fast(), signal: stop.signal }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INTERRUPTED', exitCode: 130 });
    expect((err as Error).message).toContain('kubelab-canary-test');
    expect(cluster.deleted).toEqual(['Namespace/kubelab-canary-test']);
    // Not the slow delete-and-wait of a normal end.
    expect(cluster.deletedNamespaces).toEqual([]);
    // No more probes after the interruption.
    const probes = cluster.execs.length;
    await new Promise((r) => setTimeout(r, 20));
    expect(cluster.execs.length).toBe(probes);
  });

  it('an already interrupted canary creates nothing', async () => {
    const cluster = new ScriptedCluster();
    const stop = new AbortController();
    stop.abort();
    await expect(runCanary(cluster, { ...fast(), signal: stop.signal })).rejects.toMatchObject({
      code: 'INTERRUPTED',
    });
    expect(cluster.applied).toEqual([]);
  });
});

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
    expect(result.detail).toContain('answers blocked connections with a refusal or an "unreachable"');
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
