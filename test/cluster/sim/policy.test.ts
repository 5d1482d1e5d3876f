/** NetworkPolicy decisions end to end: apply objects, exec the grader's probe commands, classify. */
import { describe, it, expect, beforeAll } from 'vitest';
import { SimulatedCluster } from '../../../server/cluster/sim/index.js';
import type { PodRef } from '../../../server/cluster/types.js';
import type { KubeObject } from '../../../server/cluster/types.js';
import {
  npBackendScenario,
  podIp,
  podRef,
  podsOf,
  policyWithDnsPorts,
  probe,
  referencePolicy,
  svcTcp,
  tcp,
} from './fixtures.js';
import { buildProbeArgv } from '../../../server/probe/index.js';

describe('np-backend with the reference solution', () => {
  let c: SimulatedCluster;
  let backend0: PodRef;
  let backend1: PodRef;

  beforeAll(async () => {
    c = new SimulatedCluster();
    await c.apply([...npBackendScenario(), referencePolicy()]);
    backend0 = await podRef(c, 'np-lab', 'backend', 0);
    backend1 = await podRef(c, 'np-lab', 'backend', 1);
  });

  it('lets every backend pod reach db1:1111 and db2:2222 by Service name', async () => {
    for (const from of [backend0, backend1]) {
      const db1 = await probe(c, from, svcTcp('db1', 'np-lab', 1111));
      expect(db1.result).toEqual({ exitCode: 0, stdout: '', stderr: '' });
      expect(db1.classification.outcome).toBe('allowed');
      expect((await probe(c, from, svcTcp('db2', 'np-lab', 2222))).classification.outcome).toBe('allowed');
    }
  });

  it('drops every other destination and port (timeouts, as Calico drops)', async () => {
    const cases: Array<[string, number]> = [
      ['vault', 3333],
      ['vault', 1111],
      ['db1', 2222],
      ['db1', 3333],
      ['db2', 1111],
    ];
    for (const [svc, port] of cases) {
      const r = await probe(c, backend0, svcTcp(svc, 'np-lab', port));
      expect(r.result.exitCode, `${svc}:${port}`).toBe(28);
      expect(r.result.stderr).toBe('curl: (28) Connection timed out after 2002 milliseconds\n');
      expect(r.classification.outcome).toBe('blocked');
    }
    const outside = await probe(c, backend0, svcTcp('client', 'outsider', 8080));
    expect(outside.classification.outcome).toBe('blocked');
    const sibling = (await podsOf(c, 'np-lab', 'backend'))[1]!;
    expect((await probe(c, backend0, tcp(podIp(sibling), 1111))).classification.outcome).toBe('blocked');
    // Through the backend Service, one endpoint is the pod itself (always allowed) and one is the
    // sibling (dropped): a real cluster would answer either way, so this is no verdict.
    expect((await probe(c, backend0, svcTcp('backend', 'np-lab', 1111))).classification.outcome).toBe(
      'error',
    );
  });

  it('leaves pods the policy does not select alone, in both directions', async () => {
    const vault = await podRef(c, 'np-lab', 'vault');
    const client = await podRef(c, 'outsider', 'client');
    expect((await probe(c, vault, svcTcp('db1', 'np-lab', 2222))).classification.outcome).toBe('allowed');
    expect((await probe(c, client, svcTcp('backend', 'np-lab', 3333))).classification.outcome).toBe(
      'allowed',
    );
    expect((await probe(c, client, svcTcp('vault', 'np-lab', 3333))).classification.outcome).toBe('allowed');
  });

  it('resolves names for backend (DNS egress to kube-dns is allowed)', async () => {
    const r = await probe(c, backend0, {
      kind: 'dns',
      name: 'db1.np-lab.svc.cluster.local.',
      timeoutSeconds: 2,
    });
    const db1 = (await c.list('Service', 'np-lab')).find((s) => s.metadata.name === 'db1')!;
    expect(r.result.stdout).toBe(`${(db1.spec as { clusterIP: string }).clusterIP}\n`);
    expect(r.classification.outcome).toBe('allowed');
  });

  it('explains each decision with the engine’s reasons', () => {
    const blocked = c.explainExec(backend0, buildProbeArgv(svcTcp('vault', 'np-lab', 3333)));
    expect(blocked.trace.join('\n')).toMatch(
      /Service np-lab\/vault .*3333\/TCP\): dropped: NetworkPolicy drops it: egress from np-lab\/backend-.* is isolated by np-lab\/np-backend/,
    );
    expect(blocked.seconds).toBe(2);
  });
});

describe('DNS egress', () => {
  async function clusterWith(policy: KubeObject | null): Promise<{ c: SimulatedCluster; from: PodRef }> {
    const c = new SimulatedCluster();
    await c.apply([...npBackendScenario(), ...(policy ? [policy] : [])]);
    return { c, from: await podRef(c, 'np-lab', 'backend') };
  }

  it('without a DNS rule, names do not resolve: curl reports "Resolving timed out" and dig gets no reply', async () => {
    const { c, from } = await clusterWith(policyWithDnsPorts(null));
    const r = await probe(c, from, svcTcp('db1', 'np-lab', 1111));
    expect(r.result).toEqual({
      exitCode: 28,
      stdout: '',
      stderr: 'curl: (28) Resolving timed out after 2001 milliseconds\n',
    });
    expect(r.classification.outcome).toBe('dns-failure');
    const dig = await probe(c, from, {
      kind: 'dns',
      name: 'db1.np-lab.svc.cluster.local.',
      timeoutSeconds: 2,
    });
    expect(dig.result.exitCode).toBe(9);
    expect(dig.result.stdout).toBe(
      ';; communications error to 10.96.0.10#53: timed out\n;; no servers could be reached\n',
    );
    expect(dig.classification.outcome).toBe('dns-failure');
    // By IP the database is still reachable: only DNS is missing.
    const db1 = (await podsOf(c, 'np-lab', 'db1'))[0]!;
    expect((await probe(c, from, tcp(podIp(db1), 1111))).classification.outcome).toBe('allowed');
  });

  it('TCP 53 alone is not enough: resolvers ask over UDP', async () => {
    const { c, from } = await clusterWith(policyWithDnsPorts([{ protocol: 'TCP', port: 53 }]));
    expect((await probe(c, from, svcTcp('db1', 'np-lab', 1111))).classification.outcome).toBe('dns-failure');
  });

  it('UDP 53 alone is enough', async () => {
    const { c, from } = await clusterWith(policyWithDnsPorts([{ protocol: 'UDP', port: 53 }]));
    expect((await probe(c, from, svcTcp('db1', 'np-lab', 1111))).classification.outcome).toBe('allowed');
  });

  it('an ingress policy on CoreDNS blocks DNS too (both ends must allow)', async () => {
    const { c, from } = await clusterWith(null);
    await c.apply([
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'dns-only-from-kube-system', namespace: 'kube-system' },
        spec: {
          podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
          ingress: [{ from: [{ podSelector: {} }] }],
        },
      },
    ]);
    expect((await probe(c, from, svcTcp('db1', 'np-lab', 1111))).classification.outcome).toBe('dns-failure');
  });

  it('an unknown name is NXDOMAIN: curl exit 6, dig prints nothing', async () => {
    const { c, from } = await clusterWith(referencePolicy());
    const r = await probe(c, from, svcTcp('db9', 'np-lab', 1111));
    expect(r.result).toEqual({
      exitCode: 6,
      stdout: '',
      stderr: 'curl: (6) Could not resolve host: db9.np-lab.svc.cluster.local\n',
    });
    expect(r.classification.outcome).toBe('dns-failure');
    const dig = await probe(c, from, {
      kind: 'dns',
      name: 'db9.np-lab.svc.cluster.local.',
      timeoutSeconds: 2,
    });
    expect(dig.result).toEqual({ exitCode: 0, stdout: '', stderr: '' });
    expect(dig.classification.outcome).toBe('dns-failure');
  });

  it('when only some CoreDNS pods can be reached, the answer is an error, not a guess', async () => {
    const { c, from } = await clusterWith(null);
    // A third kube-dns endpoint that refuses all ingress: a real resolver would fail now and then.
    await c.apply([
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: 'coredns-extra',
          namespace: 'kube-system',
          labels: { 'k8s-app': 'kube-dns', extra: 'yes' },
        },
        spec: { containers: [{ name: 'coredns', image: 'registry.k8s.io/coredns/coredns:v1.11.3' }] },
      },
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'isolate-extra', namespace: 'kube-system' },
        spec: { podSelector: { matchLabels: { extra: 'yes' } }, policyTypes: ['Ingress'] },
      },
    ]);
    const r = await probe(c, from, svcTcp('db1', 'np-lab', 1111));
    expect(r.result.exitCode).toBe(3);
    expect(r.result.stderr).toMatch(
      /^kubelab \(simulated cluster\): the 3 endpoints of Service kube-system\/kube-dns port 53\/UDP answer differently \(.*kube-system\/coredns-extra: dropped by policy/,
    );
    expect(r.classification.outcome).toBe('error');
    for (const tool of ['nc', 'agnhost-connect'] as const) {
      expect((await probe(c, from, svcTcp('db1', 'np-lab', 1111), tool)).classification.outcome).toBe(
        'error',
      );
    }
    expect(
      (await probe(c, from, { kind: 'dns', name: 'db1.np-lab.svc.cluster.local.', timeoutSeconds: 2 }))
        .classification.outcome,
    ).toBe('error');
  });
});

describe('policy is judged on the pod and its target port (after kube-proxy)', () => {
  it('allows by target port, not Service port, and follows named targetPorts per pod', async () => {
    const c = new SimulatedCluster();
    await c.apply([
      ...npBackendScenario(),
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'db1-web', namespace: 'np-lab' },
        spec: { selector: { app: 'db1' }, ports: [{ name: 'web', port: 80, targetPort: 'p2222' }] },
      },
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'db1-ingress', namespace: 'np-lab' },
        spec: { podSelector: { matchLabels: { app: 'db1' } }, ingress: [{ ports: [{ port: 2222 }] }] },
      },
    ]);
    const from = await podRef(c, 'np-lab', 'backend');
    expect((await probe(c, from, svcTcp('db1-web', 'np-lab', 80))).classification.outcome).toBe('allowed');
    expect((await probe(c, from, svcTcp('db1', 'np-lab', 2222))).classification.outcome).toBe('allowed');
    expect((await probe(c, from, svcTcp('db1', 'np-lab', 1111))).classification.outcome).toBe('blocked');
    // A policy naming the Service port (80) allows nothing: Calico never sees port 80.
    await c.apply([
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'db1-ingress', namespace: 'np-lab' },
        spec: { podSelector: { matchLabels: { app: 'db1' } }, ingress: [{ ports: [{ port: 80 }] }] },
      },
    ]);
    expect((await probe(c, from, svcTcp('db1-web', 'np-lab', 80))).classification.outcome).toBe('blocked');
  });

  it('judges each endpoint, and reports endpoints that disagree as an error', async () => {
    const c = new SimulatedCluster();
    const sts: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db', namespace: 'np-lab' },
      spec: {
        serviceName: 'db',
        replicas: 2,
        selector: { matchLabels: { app: 'db' } },
        template: {
          metadata: { labels: { app: 'db' } },
          spec: {
            containers: [
              {
                name: 'db',
                image: 'registry.k8s.io/e2e-test-images/agnhost:2.53',
                args: ['porter'],
                env: [{ name: 'SERVE_PORT_1111', value: 'db' }],
              },
            ],
          },
        },
      },
    };
    await c.apply([
      ...npBackendScenario(),
      sts,
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'db', namespace: 'np-lab' },
        spec: { selector: { app: 'db' }, ports: [{ port: 1111 }] },
      },
    ]);
    const from = await podRef(c, 'np-lab', 'backend');
    expect((await probe(c, from, svcTcp('db', 'np-lab', 1111))).classification.outcome).toBe('allowed');
    await c.apply([
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'only-db-0', namespace: 'np-lab' },
        spec: {
          podSelector: { matchLabels: { app: 'db' } },
          ingress: [{ from: [{ podSelector: {} }] }],
        },
      },
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'isolate-db-1', namespace: 'np-lab' },
        spec: {
          podSelector: { matchLabels: { 'statefulset.kubernetes.io/pod-name': 'db-1' } },
          egress: [],
          policyTypes: ['Ingress'],
        },
      },
    ]);
    // Both pods are selected by only-db-0 which allows np-lab; db-1 is also isolated by a policy
    // with no rules, but policies add up, so it is still allowed: the endpoints agree.
    expect((await probe(c, from, svcTcp('db', 'np-lab', 1111))).classification.outcome).toBe('allowed');
    await c.delete('NetworkPolicy', 'only-db-0', 'np-lab');
    const r = await probe(c, from, svcTcp('db', 'np-lab', 1111));
    expect(r.classification.outcome).toBe('error');
    expect(r.result.stderr).toMatch(/np-lab\/db-0: connects; np-lab\/db-1: dropped by policy/);
    // Probing each pod by IP gives the per-pod truth.
    const [db0, db1] = (await c.list('Pod', 'np-lab')).filter((p) => p.metadata.labels?.app === 'db');
    expect((await probe(c, from, tcp(podIp(db0!), 1111))).classification.outcome).toBe('allowed');
    expect((await probe(c, from, tcp(podIp(db1!), 1111))).classification.outcome).toBe('blocked');
  });
});

describe('enforcePolicies: false (a CNI without NetworkPolicy, e.g. Flannel)', () => {
  it('lets everything through, so a canary probe can detect it', async () => {
    const c = new SimulatedCluster({ enforcePolicies: false });
    expect(c.description).toMatch(/not enforced/);
    await c.apply([...npBackendScenario(), referencePolicy()]);
    const from = await podRef(c, 'np-lab', 'backend');
    expect((await probe(c, from, svcTcp('vault', 'np-lab', 3333))).classification.outcome).toBe('allowed');
    expect((await probe(c, from, svcTcp('client', 'outsider', 8080))).classification.outcome).toBe('allowed');
    // The engine's verdict is still computed for explanations.
    const ex = c.explainExec(from, buildProbeArgv(svcTcp('vault', 'np-lab', 3333)));
    expect(ex.trace.join('\n')).toMatch(/NetworkPolicy is not enforced/);
  });
});
