import { describe, it, expect } from 'vitest';
import { SimulatedCluster } from '../../../server/cluster/sim/index.js';
import { KubelabError } from '../../../server/errors.js';
import { freezeDeep } from '../../../server/freeze.js';
import type { KubeObject } from '../../../server/cluster/types.js';
import {
  AGNHOST,
  namespace,
  npBackendScenario,
  podsOf,
  porterDeployment,
  referencePolicy,
  service,
} from './fixtures.js';

async function rejected(p: Promise<unknown>): Promise<KubelabError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KubelabError);
    return e as KubelabError;
  }
  throw new Error('expected a KubelabError');
}

const POD_NAME = /^[a-z0-9-]+-[bcdfghjklmnpqrstvwxz2456789]{1,10}-[bcdfghjklmnpqrstvwxz2456789]{5}$/;

function inRange(ip: string, base: string, bits: number): boolean {
  const n = (s: string) => s.split('.').reduce((a, p) => a * 256 + Number(p), 0);
  const size = 2 ** (32 - bits);
  return n(ip) >= n(base) && n(ip) < n(base) + size;
}

describe('a new simulated cluster', () => {
  it('has the system namespaces, nodes, CoreDNS and the kube-dns Service', async () => {
    const c = new SimulatedCluster();
    const namespaces = await c.list('Namespace');
    expect(namespaces.map((n) => n.metadata.name)).toEqual([
      'default',
      'kube-node-lease',
      'kube-public',
      'kube-system',
    ]);
    expect(namespaces.find((n) => n.metadata.name === 'kube-system')!.metadata.labels).toEqual({
      'kubernetes.io/metadata.name': 'kube-system',
    });
    expect((await c.list('Node')).map((n) => n.metadata.name)).toEqual([
      'kubelab-control-plane',
      'kubelab-worker',
    ]);

    const dnsPods = (await c.list('Pod', 'kube-system')).filter(
      (p) => p.metadata.labels?.['k8s-app'] === 'kube-dns',
    );
    expect(dnsPods).toHaveLength(2);
    expect(dnsPods[0]!.metadata.name).toMatch(/^coredns-[a-z0-9]+-[a-z0-9]{5}$/);
    const ports = (dnsPods[0]!.spec as { containers: Array<{ ports: unknown[] }> }).containers[0]!.ports;
    expect(ports).toEqual([
      { name: 'dns', containerPort: 53, protocol: 'UDP' },
      { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
      { name: 'metrics', containerPort: 9153, protocol: 'TCP' },
    ]);

    const kubeDns = (await c.list('Service', 'kube-system')).find((s) => s.metadata.name === 'kube-dns')!;
    expect((kubeDns.spec as { clusterIP: string }).clusterIP).toBe('10.96.0.10');
    const ep = (await c.list('Endpoints', 'kube-system')).find((e) => e.metadata.name === 'kube-dns')!;
    const subsets = ep.subsets as Array<{ addresses: Array<{ ip: string }>; ports: unknown[] }>;
    expect(subsets[0]!.addresses.map((a) => a.ip).sort()).toEqual(
      dnsPods.map((p) => (p.status as { podIP: string }).podIP).sort(),
    );
    expect(subsets[0]!.ports).toEqual([
      { name: 'dns', port: 53, protocol: 'UDP' },
      { name: 'dns-tcp', port: 53, protocol: 'TCP' },
      { name: 'metrics', port: 9153, protocol: 'TCP' },
    ]);
  });
});

describe('apply', () => {
  it('creates, then reports configured or unchanged on re-apply', async () => {
    const c = new SimulatedCluster();
    const first = await c.apply(npBackendScenario());
    expect(first.every((o) => o.action === 'created')).toBe(true);
    expect(first[2]).toEqual({ kind: 'Deployment', namespace: 'np-lab', name: 'backend', action: 'created' });
    const again = await c.apply(npBackendScenario());
    expect(again.every((o) => o.action === 'unchanged')).toBe(true);
    const changed = service('db1', 'np-lab', [1111, 2222]);
    expect(await c.apply([changed])).toEqual([
      { kind: 'Service', namespace: 'np-lab', name: 'db1', action: 'configured' },
    ]);
    const svc = (await c.list('Service', 'np-lab')).find((s) => s.metadata.name === 'db1')!;
    expect((svc.spec as { ports: unknown[] }).ports).toHaveLength(2);
  });

  it('takes frozen objects (a server shares parsed answers so) without changing them, and tells re-applies apart', async () => {
    const c = new SimulatedCluster();
    await c.apply(npBackendScenario());
    const policy = freezeDeep(referencePolicy());
    expect(await c.apply([policy])).toEqual([
      { kind: 'NetworkPolicy', namespace: 'np-lab', name: 'np-backend', action: 'created' },
    ]);
    expect(policy).toEqual(referencePolicy());
    expect((await c.apply([policy]))[0]!.action).toBe('unchanged');
    // In another cluster the same frozen object is new again: nothing carries over from the first.
    const other = new SimulatedCluster();
    await other.apply(npBackendScenario());
    expect((await other.apply([policy]))[0]!.action).toBe('created');
    const narrower = referencePolicy();
    (narrower.spec as { egress: unknown[] }).egress.pop();
    expect((await c.apply([freezeDeep(narrower)]))[0]!.action).toBe('configured');
    expect((await c.apply([policy]))[0]!.action).toBe('configured');
    const stored = (await c.list('NetworkPolicy', 'np-lab'))[0]!;
    expect((stored.spec as { egress: unknown[] }).egress).toHaveLength(3);
  });

  it('gives every object server fields in wire shape (Pods with status)', async () => {
    const c = new SimulatedCluster({ now: () => new Date('2025-03-01T10:00:00.123Z') });
    await c.apply(npBackendScenario());
    const pod = (await podsOf(c, 'np-lab', 'db1'))[0]!;
    expect(pod.apiVersion).toBe('v1');
    expect(pod.metadata.uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(pod.metadata.creationTimestamp).toBe('2025-03-01T10:00:00Z');
    expect(pod.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'ReplicaSet', controller: true }),
    ]);
    const status = pod.status as Record<string, unknown>;
    expect(status.phase).toBe('Running');
    expect(status.podIPs).toEqual([{ ip: status.podIP }]);
    expect(status.conditions).toContainEqual(expect.objectContaining({ type: 'Ready', status: 'True' }));
    expect(status.containerStatuses).toEqual([
      expect.objectContaining({
        name: 'db1',
        ready: true,
        started: true,
        state: { running: { startedAt: '2025-03-01T10:00:00Z' } },
      }),
    ]);
    const deployment = (await c.list('Deployment', 'np-lab')).find((d) => d.metadata.name === 'backend')!;
    expect(deployment.status).toMatchObject({
      replicas: 2,
      readyReplicas: 2,
      availableReplicas: 2,
      updatedReplicas: 2,
    });
  });

  it('defaults NetworkPolicy policyTypes and port protocols as the API server stores them', async () => {
    const c = new SimulatedCluster();
    await c.apply(npBackendScenario());
    await c.apply([
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'p', namespace: 'np-lab' },
        spec: { podSelector: {}, egress: [{ ports: [{ port: 53 }] }] },
      },
    ]);
    const [np] = await c.list('NetworkPolicy', 'np-lab');
    expect(np!.spec).toEqual({
      podSelector: {},
      egress: [{ ports: [{ port: 53, protocol: 'TCP' }] }],
      policyTypes: ['Ingress', 'Egress'],
    });
  });

  it('needs the namespace to exist, or to come in the same batch', async () => {
    const c = new SimulatedCluster();
    const err = await rejected(c.apply([porterDeployment('db1', 'nowhere')]));
    expect(err.code).toBe('BAD_INPUT');
    expect(err.message).toBe('Deployment.apps "db1" in namespace "nowhere" is invalid; nothing was applied');
    expect(err.problems).toEqual([
      { path: 'metadata.namespace', message: expect.stringMatching(/^namespaces "nowhere" not found/) },
    ]);
    // Namespaces are created first, whatever their position in the batch.
    const outcomes = await c.apply([porterDeployment('db1', 'later'), namespace('later')]);
    expect(outcomes.map((o) => o.action)).toEqual(['created', 'created']);
  });

  it('requires a namespace on namespaced kinds', async () => {
    const c = new SimulatedCluster();
    const d = porterDeployment('db1', 'x');
    delete d.metadata.namespace;
    const err = await rejected(c.apply([d]));
    expect(err.problems.map((p) => p.path)).toEqual(['metadata.namespace']);
  });

  it('reports every problem of every object with its field path, and applies nothing', async () => {
    const c = new SimulatedCluster();
    const badDeployment: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        replicas: -1,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'webb' } },
          spec: {
            containers: [{ name: 'web', port: 80, ports: [{ containerPort: 70000, protocol: 'tcp' }] }],
          },
        },
      },
    };
    const badService: KubeObject = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'Web', namespace: 'default' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'HTTP' }, { port: 80 }] },
    };
    const err = await rejected(c.apply([namespace('fresh'), badDeployment, badService]));
    expect(err.message).toMatch(
      /^2 objects are invalid: Deployment\.apps "web" in namespace "default", Service "Web" in namespace "default"; nothing was applied$/,
    );
    const byPath = Object.fromEntries(err.problems.map((p) => [p.path, p.message]));
    expect(byPath).toMatchObject({
      'spec.replicas': expect.stringContaining('must be greater than or equal to 0'),
      'spec.template.metadata.labels': expect.stringContaining('`selector` does not match template `labels`'),
      'spec.template.spec.containers[0].port': expect.stringContaining(
        'unknown field "port" (did you mean "ports"?)',
      ),
      'spec.template.spec.containers[0].image': expect.stringContaining('Required value'),
      'spec.template.spec.containers[0].ports[0].containerPort':
        expect.stringContaining('between 1 and 65535'),
      'spec.template.spec.containers[0].ports[0].protocol':
        expect.stringContaining('Unsupported value: "tcp"'),
      'metadata.name': expect.stringContaining('DNS-1035 label'),
      'spec.ports[0].targetPort': expect.stringContaining('Invalid value: "HTTP"'),
      'spec.ports[1].name': expect.stringContaining('Required value'),
      'spec.ports[1]': expect.stringContaining('Duplicate value'),
    });
    expect(
      err.problems.every((p) => /^\((Deployment default\/web|Service default\/Web)\) /.test(p.message)),
    ).toBe(true);
    // All or nothing: the valid Namespace in the batch was not created either.
    expect((await c.list('Namespace')).map((n) => n.metadata.name)).not.toContain('fresh');
  });

  it('treats a quoted targetPort as a port name, as the API server does', async () => {
    const c = new SimulatedCluster();
    const svc = service('web', 'default', [{ name: 'http', port: 80, targetPort: '8080' }]);
    const err = await rejected(c.apply([svc]));
    expect(err.problems).toEqual([
      {
        path: 'spec.ports[0].targetPort',
        message: expect.stringContaining('must contain at least one letter'),
      },
    ]);
  });

  it('refuses unknown kinds and wrong apiVersions like the API server', async () => {
    const c = new SimulatedCluster();
    const err = await rejected(
      c.apply([
        {
          apiVersion: 'extensions/v1beta1',
          kind: 'Deployment',
          metadata: { name: 'a', namespace: 'default' },
        },
        { apiVersion: 'v1', kind: 'networkpolicy', metadata: { name: 'b', namespace: 'default' } },
        { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'c' } },
        { kind: 'Pod', metadata: {} } as unknown as KubeObject,
      ]),
    );
    const messages = err.problems.map((p) => `${p.path}: ${p.message}`);
    expect(messages).toContainEqual(
      expect.stringMatching(
        /apiVersion: .*no matches for kind "Deployment" in version "extensions\/v1beta1" \(Deployment is served as "apps\/v1"\)/,
      ),
    );
    expect(messages).toContainEqual(expect.stringMatching(/kind: .*did you mean kind "NetworkPolicy"/));
    expect(messages).toContainEqual(
      expect.stringMatching(/kind: .*no matches for kind "Widget" in version "example.com\/v1"/),
    );
    expect(messages).toContainEqual(expect.stringMatching(/apiVersion: .*Required value/));
    expect(messages).toContainEqual(expect.stringMatching(/metadata.name: .*Required value/));
  });

  it('validates NetworkPolicies with the engine, listing every problem with its path', async () => {
    const c = new SimulatedCluster();
    await c.apply(npBackendScenario());
    const bad: KubeObject = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'np-backend', namespace: 'np-lab' },
      spec: {
        podSelector: { matchLabels: { app: 'backend' } },
        policyTypes: ['Egress', 'Sideways'],
        egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/33' } }], ports: [{ protocol: 'tcp', port: 53 }] }],
      },
    };
    const err = await rejected(c.apply([bad]));
    expect(err.code).toBe('BAD_INPUT');
    expect(err.message).toBe(
      'NetworkPolicy.networking.k8s.io "np-backend" in namespace "np-lab" is invalid; nothing was applied',
    );
    const paths = err.problems.map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'spec.policyTypes[1]',
        'spec.egress[0].to[0].ipBlock.cidr',
        'spec.egress[0].ports[0].protocol',
      ]),
    );
    expect(await c.list('NetworkPolicy', 'np-lab')).toEqual([]);
    await c.apply([referencePolicy()]);
    expect((await c.list('NetworkPolicy', 'np-lab')).map((p) => p.metadata.name)).toEqual(['np-backend']);
  });

  it('keeps immutable fields immutable', async () => {
    const c = new SimulatedCluster();
    await c.apply(npBackendScenario());
    const d = porterDeployment('db1', 'np-lab');
    (d.spec as { selector: unknown }).selector = { matchLabels: { app: 'db1', tier: 'data' } };
    (d.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels.tier =
      'data';
    const err = await rejected(c.apply([d]));
    expect(err.problems).toEqual([
      { path: 'spec.selector', message: expect.stringContaining('field is immutable') },
    ]);

    const svc = service('db1', 'np-lab', [1111, 2222, 3333]);
    (svc.spec as { clusterIP: string }).clusterIP = '10.96.0.99';
    expect((await rejected(c.apply([svc]))).problems[0]!.path).toBe('spec.clusterIP');
  });
});

describe('pods from workloads', () => {
  it('names Deployment pods <name>-<template hash>-<suffix>, deterministically per seed', async () => {
    const a = new SimulatedCluster({ seed: 7 });
    const b = new SimulatedCluster({ seed: 7 });
    const other = new SimulatedCluster({ seed: 8 });
    for (const c of [a, b, other]) await c.apply(npBackendScenario());
    const names = async (c: SimulatedCluster) => (await c.list('Pod', 'np-lab')).map((p) => p.metadata.name);
    expect(await names(a)).toEqual(await names(b));
    expect(await names(a)).not.toEqual(await names(other));
    const backend = await podsOf(a, 'np-lab', 'backend');
    expect(backend).toHaveLength(2);
    for (const p of backend) expect(p.metadata.name).toMatch(POD_NAME);
    // Same template, same hash: both replicas share the ReplicaSet part of the name.
    const rsPart = (n: string) => n.split('-').slice(0, -1).join('-');
    expect(rsPart(backend[0]!.metadata.name)).toBe(rsPart(backend[1]!.metadata.name));
    expect(backend[0]!.metadata.labels).toEqual({
      app: 'backend',
      'pod-template-hash': rsPart(backend[0]!.metadata.name).slice('backend-'.length),
    });
  });

  it('gives pods IPs from 192.168.0.0/16 and Services ClusterIPs from 10.96.0.0/12, all distinct', async () => {
    const c = new SimulatedCluster();
    await c.apply(npBackendScenario());
    const podIps = (await c.list('Pod')).map((p) => (p.status as { podIP: string }).podIP);
    expect(new Set(podIps).size).toBe(podIps.length);
    for (const ip of podIps) expect(inRange(ip, '192.168.0.0', 16)).toBe(true);
    const clusterIps = (await c.list('Service')).map((s) => (s.spec as { clusterIP: string }).clusterIP);
    expect(new Set(clusterIps).size).toBe(clusterIps.length);
    for (const ip of clusterIps) expect(inRange(ip, '10.96.0.0', 12)).toBe(true);
  });

  it('scales by keeping existing pods, and replaces pods when the template changes', async () => {
    const c = new SimulatedCluster();
    await c.apply(npBackendScenario());
    const before = (await podsOf(c, 'np-lab', 'backend')).map((p) => p.metadata.name);
    const scaled = porterDeployment('backend', 'np-lab', 3);
    expect((await c.apply([scaled]))[0]!.action).toBe('configured');
    const after = (await podsOf(c, 'np-lab', 'backend')).map((p) => p.metadata.name);
    expect(after).toHaveLength(3);
    expect(after).toEqual(expect.arrayContaining(before));
    await c.apply([porterDeployment('backend', 'np-lab', 1)]);
    expect(await podsOf(c, 'np-lab', 'backend')).toHaveLength(1);

    const retemplated = porterDeployment('backend', 'np-lab', 2, [1111]);
    await c.apply([retemplated]);
    const renamed = (await podsOf(c, 'np-lab', 'backend')).map((p) => p.metadata.name);
    expect(renamed).toHaveLength(2);
    expect(renamed.some((n) => before.includes(n))).toBe(false);
    expect(
      (await c.list('ReplicaSet' as 'Pod', 'np-lab')).filter((r) => r.metadata.name.startsWith('backend-')),
    ).toHaveLength(1);
  });

  it('replaces a deleted pod that a ReplicaSet owns, and cascades a Deployment delete', async () => {
    const c = new SimulatedCluster();
    await c.apply(npBackendScenario());
    const [victim] = await podsOf(c, 'np-lab', 'db1');
    await c.delete('Pod', victim!.metadata.name, 'np-lab');
    const [replacement] = await podsOf(c, 'np-lab', 'db1');
    expect(replacement!.metadata.name).not.toBe(victim!.metadata.name);
    await c.delete('Deployment', 'db1', 'np-lab');
    expect(await podsOf(c, 'np-lab', 'db1')).toEqual([]);
    // The Service stays, with no endpoints left.
    const ep = (await c.list('Endpoints', 'np-lab')).find((e) => e.metadata.name === 'db1')!;
    expect(ep.subsets).toBeUndefined();
    await c.delete('Deployment', 'db1', 'np-lab'); // absent: not an error
  });

  it('runs StatefulSet pods as <name>-<ordinal> with stable hostnames', async () => {
    const c = new SimulatedCluster();
    const sts: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db', namespace: 'default' },
      spec: {
        serviceName: 'db',
        replicas: 2,
        selector: { matchLabels: { app: 'db' } },
        template: {
          metadata: { labels: { app: 'db' } },
          spec: { containers: [{ name: 'db', image: AGNHOST, args: ['porter'] }] },
        },
      },
    };
    await c.apply([sts]);
    const pods = (await c.list('Pod', 'default')).filter((p) => p.metadata.labels?.app === 'db');
    expect(pods.map((p) => p.metadata.name)).toEqual(['db-0', 'db-1']);
    expect(pods[1]!.metadata.labels).toMatchObject({
      'statefulset.kubernetes.io/pod-name': 'db-1',
      'apps.kubernetes.io/pod-index': '1',
    });
    expect(pods[1]!.spec).toMatchObject({ hostname: 'db-1', subdomain: 'db' });
  });

  it('runs one DaemonSet pod per node it may be scheduled on', async () => {
    const c = new SimulatedCluster();
    const ds = (tolerate: boolean): KubeObject => ({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: tolerate ? 'everywhere' : 'workers', namespace: 'default' },
      spec: {
        selector: { matchLabels: { app: tolerate ? 'everywhere' : 'workers' } },
        template: {
          metadata: { labels: { app: tolerate ? 'everywhere' : 'workers' } },
          spec: {
            ...(tolerate ? { tolerations: [{ operator: 'Exists' }] } : {}),
            containers: [{ name: 'agent', image: AGNHOST }],
          },
        },
      },
    });
    await c.apply([ds(false), ds(true)]);
    const pods = await c.list('Pod', 'default');
    const nodesOf = (app: string) =>
      pods
        .filter((p) => p.metadata.labels?.app === app)
        .map((p) => (p.spec as { nodeName: string }).nodeName)
        .sort();
    expect(nodesOf('workers')).toEqual(['kubelab-worker']);
    expect(nodesOf('everywhere')).toEqual(['kubelab-control-plane', 'kubelab-worker']);
  });

  it('lets bare Pods change labels and images but not the rest of their spec', async () => {
    const c = new SimulatedCluster();
    const pod: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'solo', namespace: 'default', labels: { app: 'solo' } },
      spec: { containers: [{ name: 'main', image: AGNHOST, args: ['porter'] }] },
    };
    expect((await c.apply([pod]))[0]!.action).toBe('created');
    const relabelled = structuredClone(pod);
    relabelled.metadata.labels = { app: 'solo', tier: 'x' };
    expect((await c.apply([relabelled]))[0]!.action).toBe('configured');
    expect((await c.list('Pod', 'default')).find((p) => p.metadata.name === 'solo')!.metadata.labels).toEqual(
      { app: 'solo', tier: 'x' },
    );
    const respecced = structuredClone(relabelled);
    (respecced.spec as { containers: Array<{ args: string[] }> }).containers[0]!.args = ['netexec'];
    const err = await rejected(c.apply([respecced]));
    expect(err.problems[0]).toMatchObject({
      path: 'spec',
      message: expect.stringContaining('Forbidden: pod updates may not change fields'),
    });
  });
});

describe('list, delete, waitReady', () => {
  it('lists in one namespace or all, and refuses unknown kinds', async () => {
    const c = new SimulatedCluster();
    await c.apply(npBackendScenario());
    expect((await c.list('Service', 'outsider')).map((s) => s.metadata.name)).toEqual(['client']);
    const all = await c.list('Service');
    expect(all.map((s) => `${s.metadata.namespace}/${s.metadata.name}`)).toContain('kube-system/kube-dns');
    // Lists are copies: changing them does not change the cluster.
    all[0]!.metadata.name = 'changed';
    expect((await c.list('Service')).map((s) => s.metadata.name)).not.toContain('changed');
    await expect(c.list('Gadget' as 'Pod')).rejects.toThrow(/doesn't have a resource type "Gadget"/);
  });

  it('deletes a namespace with everything in it, but never the system ones', async () => {
    const c = new SimulatedCluster();
    await c.apply(npBackendScenario());
    await c.deleteNamespace('np-lab');
    expect(await c.list('Pod', 'np-lab')).toEqual([]);
    expect(await c.list('Service', 'np-lab')).toEqual([]);
    expect((await c.list('Namespace')).map((n) => n.metadata.name)).not.toContain('np-lab');
    expect((await c.list('Pod', 'outsider')).length).toBe(1);
    await c.deleteNamespace('np-lab'); // already gone
    await expect(c.deleteNamespace('kube-system')).rejects.toThrow(/may not be deleted/);
  });

  it('reports not-ready pods and missing namespaces', async () => {
    const c = new SimulatedCluster({ faults: { notReady: ['np-lab/db1'] } });
    await c.apply(npBackendScenario());
    const report = await c.waitReady(['np-lab', 'outsider', 'ghost'], { timeoutMs: 1000 });
    expect(report.ready).toBe(false);
    expect(report.notReady).toEqual([
      expect.stringMatching(/^np-lab\/db1-[a-z0-9]+-[a-z0-9]{5}: ContainersNotReady \(ImagePullBackOff\)$/),
      'ghost: namespace not found',
    ]);
    expect((await c.waitReady(['outsider'], { timeoutMs: 1000 })).ready).toBe(true);
    const db1 = (await c.list('Deployment', 'np-lab')).find((d) => d.metadata.name === 'db1')!;
    expect(db1.status).toMatchObject({ replicas: 1, unavailableReplicas: 1 });
  });
});
