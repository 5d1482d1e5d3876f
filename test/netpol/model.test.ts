import { describe, it, expect } from 'vitest';
import {
  buildNetworkModel,
  namespaceModelFromNamespace,
  podModelFromPod,
  SYNTHETIC_NODE_IP,
} from '../../server/netpol/index.js';
import { KubelabError } from '../../server/errors.js';

const deployment = (name: string, extra: Record<string, unknown> = {}, kind = 'Deployment') => ({
  apiVersion: 'apps/v1',
  kind,
  metadata: { name, namespace: 'np-lab' },
  spec: {
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: {
        containers: [
          {
            name: 'c',
            image: 'i',
            ports: [
              { containerPort: 1111, name: 'db' },
              { containerPort: 53, protocol: 'UDP' },
            ],
          },
        ],
      },
    },
    ...extra,
  },
});

describe('buildNetworkModel', () => {
  it('adds kubernetes.io/metadata.name to declared namespaces and creates referenced ones', () => {
    const { model, problems } = buildNetworkModel([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'np-lab', labels: { team: 'a' } } },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'other' } },
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'n', namespace: 'third' },
        spec: {},
      },
    ]);
    expect(problems).toEqual([]);
    expect(model.namespaces).toEqual([
      { name: 'np-lab', labels: { team: 'a', 'kubernetes.io/metadata.name': 'np-lab' } },
      { name: 'other', labels: { 'kubernetes.io/metadata.name': 'other' } },
      { name: 'third', labels: { 'kubernetes.io/metadata.name': 'third' } },
    ]);
  });

  it('expands workloads into pods named <name>-0..n with template labels and ports', () => {
    const { model, problems } = buildNetworkModel([
      deployment('backend', { replicas: 3 }),
      deployment('db1', {}, 'StatefulSet'),
      deployment('agent', { replicas: 5 }, 'DaemonSet'),
      deployment('rs', { replicas: 2 }, 'ReplicaSet'),
      deployment('job', { parallelism: 2 }, 'Job'),
      deployment('none', { replicas: 0 }),
    ]);
    expect(problems).toEqual([]);
    expect(model.pods.map((p) => p.name)).toEqual([
      'backend-0',
      'backend-1',
      'backend-2',
      'db1-0',
      'agent-0',
      'rs-0',
      'rs-1',
      'job-0',
      'job-1',
    ]);
    const pod = model.pods[0]!;
    expect(pod.namespace).toBe('np-lab');
    expect(pod.labels).toEqual({ app: 'backend' });
    expect(pod.ports).toEqual([
      { name: 'db', port: 1111, protocol: 'TCP' },
      { port: 53, protocol: 'UDP' },
    ]);
  });

  it('reads pod ports from containers and sidecar init containers, status IPs and hostNetwork', () => {
    const { model } = buildNetworkModel([
      {
        kind: 'Pod',
        metadata: { name: 'p', labels: { a: 'b' } },
        spec: {
          hostNetwork: true,
          initContainers: [
            { name: 'sidecar', restartPolicy: 'Always', ports: [{ containerPort: 9000, name: 'side' }] },
            { name: 'init', ports: [{ containerPort: 9001 }] },
          ],
          containers: [{ name: 'c', ports: [{ containerPort: 80, name: 'http', protocol: 'SCTP' }] }],
        },
        status: { podIP: '10.1.2.3', podIPs: [{ ip: '10.1.2.3' }, { ip: 'fd00::3' }] },
      },
    ]);
    expect(model.pods[0]).toEqual({
      namespace: 'default',
      name: 'p',
      labels: { a: 'b' },
      ips: ['10.1.2.3', 'fd00::3'],
      ports: [
        { name: 'http', port: 80, protocol: 'SCTP' },
        { name: 'side', port: 9000, protocol: 'TCP' },
      ],
      hostNetwork: true,
    });
  });

  it('gives pods without IPs deterministic synthetic IPs, skipping addresses in use', () => {
    const objects = [
      { kind: 'Pod', metadata: { name: 'a' } },
      { kind: 'Pod', metadata: { name: 'b' }, status: { podIP: '10.244.0.11' } },
      { kind: 'Pod', metadata: { name: 'c' } },
      { kind: 'Pod', metadata: { name: 'h' }, spec: { hostNetwork: true } },
    ];
    const first = buildNetworkModel(objects).model.pods.map((p) => p.ips);
    expect(first).toEqual([['10.244.0.10'], ['10.244.0.11'], ['10.244.0.12'], [SYNTHETIC_NODE_IP]]);
    expect(buildNetworkModel(objects).model.pods.map((p) => p.ips)).toEqual(first);
  });

  it('uses the default namespace option', () => {
    const { model } = buildNetworkModel([{ kind: 'Pod', metadata: { name: 'a' } }], {
      defaultNamespace: 'np-lab',
    });
    expect(model.pods[0]!.namespace).toBe('np-lab');
  });

  it('validates NetworkPolicies: an invalid one becomes problems with the object index and is left out', () => {
    const { model, problems } = buildNetworkModel([
      { kind: 'ConfigMap', metadata: { name: 'ignored' }, data: { a: 'b' } },
      { kind: 'Service', metadata: { name: 'svc' }, spec: { selector: { app: 'x' } } },
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'good', namespace: 'x' },
        spec: {},
      },
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'bad', namespace: 'x' },
        spec: { egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' }, namespaceSelector: {} }] }] },
      },
    ]);
    expect(model.policies.map((p) => p.name)).toEqual(['good']);
    expect(problems).toEqual([
      expect.objectContaining({
        index: 3,
        path: 'spec.egress[0].to[0]',
        message: expect.stringContaining('may not specify both ipBlock'),
      }),
    ]);
  });

  it('reports broken pods, workloads, duplicates and objects without kind', () => {
    const { problems } = buildNetworkModel([
      { kind: 'Pod', metadata: { name: 'dup' } },
      { kind: 'Pod', metadata: { name: 'dup' } },
      {
        kind: 'Pod',
        metadata: { name: 'p2' },
        spec: {
          containers: [
            {
              ports: [
                { containerPort: 70000 },
                { containerPort: 80, protocol: 'HTTP' },
                { containerPort: 81, name: 'Bad_Name' },
              ],
            },
          ],
        },
      },
      deployment('w', { replicas: -1 }),
      deployment('w2', { replicas: 'two' }),
      { metadata: { name: 'nokind' } },
      'not an object',
      { kind: 'Namespace', metadata: { name: 'Bad_NS' } },
    ]);
    const lines = problems.map((p) => `#${p.index} ${p.path}: ${p.message}`);
    expect(lines).toEqual([
      expect.stringMatching(/^#1 metadata\.name: pod default\/dup is already defined by object #1/),
      expect.stringMatching(/^#2 spec\.containers\[0\]\.ports\[0\]\.containerPort: .*between 1 and 65535/),
      expect.stringMatching(/^#2 spec\.containers\[0\]\.ports\[1\]\.protocol: Unsupported value: "HTTP"/),
      expect.stringMatching(/^#2 spec\.containers\[0\]\.ports\[2\]\.name: Invalid value: "Bad_Name"/),
      expect.stringMatching(/^#3 spec\.replicas: .*whole number/),
      expect.stringMatching(/^#4 spec\.replicas: .*whole number/),
      expect.stringMatching(/^#5 kind: Required value/),
      expect.stringMatching(/^#6 : expected a Kubernetes object/),
      expect.stringMatching(/^#7 metadata\.name: .*RFC 1123 label/),
    ]);
  });
});

describe('live objects', () => {
  it('podModelFromPod reads a Pod as the API returns it', () => {
    const pod = podModelFromPod({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'backend-7d9f-abcde',
        namespace: 'np-lab',
        labels: { app: 'backend', 'pod-template-hash': '7d9f' },
        uid: 'x',
        ownerReferences: [],
      },
      spec: {
        containers: [
          { name: 'c', image: 'i', ports: [{ containerPort: 8080, protocol: 'TCP', name: 'http' }] },
        ],
        nodeName: 'n',
      },
      status: { phase: 'Running', podIP: '192.168.1.5', podIPs: [{ ip: '192.168.1.5' }], conditions: [] },
    });
    expect(pod).toEqual({
      namespace: 'np-lab',
      name: 'backend-7d9f-abcde',
      labels: { app: 'backend', 'pod-template-hash': '7d9f' },
      ips: ['192.168.1.5'],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    });
  });

  it('podModelFromPod refuses what is not a usable Pod, naming the problem', () => {
    expect(() => podModelFromPod({ metadata: {} })).toThrow(KubelabError);
    try {
      podModelFromPod({ metadata: {} });
    } catch (e) {
      expect((e as KubelabError).problems[0]).toMatchObject({ path: 'metadata.name' });
    }
    expect(() => podModelFromPod(null)).toThrow(/not a usable Pod/);
  });

  it('namespaceModelFromNamespace keeps labels and adds the name label', () => {
    expect(namespaceModelFromNamespace({ metadata: { name: 'np-lab', labels: { a: 'b' } } })).toEqual({
      name: 'np-lab',
      labels: { a: 'b', 'kubernetes.io/metadata.name': 'np-lab' },
    });
    expect(() => namespaceModelFromNamespace({})).toThrow(KubelabError);
  });
});

describe('models of frozen pods', () => {
  const livePod = () => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'np-lab', labels: { app: 'web' } },
    spec: { containers: [{ name: 'c', ports: [{ containerPort: 80 }] }] },
    status: { podIP: '192.168.0.5' },
  });
  const freeze = <T>(v: T): T => {
    if (typeof v === 'object' && v !== null) {
      for (const k of Object.keys(v)) freeze((v as Record<string, unknown>)[k]);
      Object.freeze(v);
    }
    return v;
  };

  it('are built once and frozen, since the pod cannot change', () => {
    const pod = freeze(livePod());
    const model = podModelFromPod(pod);
    expect(podModelFromPod(pod)).toBe(model);
    expect(Object.isFrozen(model.labels)).toBe(true);
  });

  it('are built anew for a pod that may change, and follow its changes', () => {
    const pod = livePod();
    const first = podModelFromPod(pod);
    pod.metadata.labels.app = 'api';
    const second = podModelFromPod(pod);
    expect(second).not.toBe(first);
    expect(second.labels.app).toBe('api');
    expect(Object.isFrozen(second)).toBe(false);
  });
});
