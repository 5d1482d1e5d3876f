/**
 * How the simulated API server fills in objects: server-set metadata, the defaults a real API
 * server writes (Service ports, NetworkPolicy policyTypes, container port protocols), addresses
 * from Calico-like IPAM, and the objects every kind cluster starts with.
 */
import type { KubeObject } from '../types.js';
import { randomInt, randomUid } from './random.js';
import {
  asArray,
  asRecord,
  ipToNumber,
  numberToIp,
  specOf,
  type Json,
  type SimState,
  type NodeBlock,
} from './state.js';

export const POD_CIDR_BASE = ipToNumber('192.168.0.0');
export const SERVICE_CIDR_BASE = ipToNumber('10.96.0.0');
/** 10.96.0.0/12 */
export const SERVICE_CIDR_SIZE = 1 << 20;
export const KUBERNETES_SERVICE_IP = '10.96.0.1';
export const KUBE_DNS_IP = '10.96.0.10';
export const COREDNS_IMAGE = 'registry.k8s.io/coredns/coredns:v1.11.3';

export interface SimNode {
  name: string;
  ip: string;
  controlPlane: boolean;
}

/** The two nodes of a default kind cluster with a worker. */
export const NODES: readonly SimNode[] = [
  { name: 'kubelab-control-plane', ip: '172.18.0.2', controlPlane: true },
  { name: 'kubelab-worker', ip: '172.18.0.3', controlPlane: false },
];

export function timestamp(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Sets uid, creationTimestamp and generation on a new object. resourceVersion comes with putObject. */
export function stampNew(state: SimState, obj: KubeObject, now: Date): void {
  obj.metadata.uid = randomUid(state.random);
  obj.metadata.creationTimestamp = timestamp(now);
  if (obj.spec !== undefined) obj.metadata.generation = 1;
}

export function isServiceCidr(ip: string): boolean {
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return false;
  const n = ipToNumber(ip);
  return n >= SERVICE_CIDR_BASE && n < SERVICE_CIDR_BASE + SERVICE_CIDR_SIZE;
}

/** A random free ClusterIP, as the API server's allocator picks (seeded here). */
export function allocateClusterIp(state: SimState, taken: Set<string>): string {
  for (;;) {
    const offset = 2 + randomInt(state.random, SERVICE_CIDR_SIZE - 3);
    const ip = numberToIp(SERVICE_CIDR_BASE + offset);
    if (!taken.has(ip) && ip !== KUBE_DNS_IP) return ip;
  }
}

/** A pod IP on the node: the next free address of one of its /26 blocks, or a new random block. */
export function allocatePodIp(state: SimState, node: string): string {
  let blocks = state.podBlocks.get(node);
  if (!blocks) {
    blocks = [];
    state.podBlocks.set(node, blocks);
  }
  for (const block of blocks) {
    const ip = freeInBlock(state, block);
    if (ip) return ip;
  }
  const takenBases = new Set([...state.podBlocks.values()].flat().map((b) => b.base));
  for (;;) {
    const base = POD_CIDR_BASE + randomInt(state.random, 1024) * 64;
    if (takenBases.has(base)) continue;
    const block: NodeBlock = { base, used: [] };
    blocks.push(block);
    const ip = freeInBlock(state, block);
    if (ip) return ip;
  }
}

function freeInBlock(state: SimState, block: NodeBlock): string | undefined {
  for (let offset = 1; offset < 64; offset++) {
    if (block.used.includes(offset)) continue;
    const ip = numberToIp(block.base + offset);
    if (state.usedIps.has(ip)) continue;
    block.used.push(offset);
    state.usedIps.add(ip);
    return ip;
  }
  return undefined;
}

// ---- defaults ----------------------------------------------------------------------------------

function imagePullPolicyFor(image: string): string {
  const last = image.split('/').pop() ?? image;
  const tagged = last.includes(':') || image.includes('@');
  return !tagged || last.endsWith(':latest') ? 'Always' : 'IfNotPresent';
}

function defaultContainer(container: unknown): unknown {
  const c = asRecord(container);
  if (!c) return container;
  const out: Json = {
    ...c,
    imagePullPolicy:
      c.imagePullPolicy ?? (typeof c.image === 'string' ? imagePullPolicyFor(c.image) : 'IfNotPresent'),
    terminationMessagePath: c.terminationMessagePath ?? '/dev/termination-log',
    terminationMessagePolicy: c.terminationMessagePolicy ?? 'File',
    resources: c.resources ?? {},
  };
  for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
    const given = asRecord(c[probe]);
    if (given)
      out[probe] = {
        ...given,
        timeoutSeconds: given.timeoutSeconds ?? 1,
        periodSeconds: given.periodSeconds ?? 10,
        successThreshold: given.successThreshold ?? 1,
        failureThreshold: given.failureThreshold ?? 3,
      };
  }
  if (Array.isArray(c.ports)) {
    out.ports = c.ports.map((p) => {
      const port = asRecord(p);
      return port ? { ...port, protocol: port.protocol ?? 'TCP' } : p;
    });
  }
  return out;
}

/** The Deployment defaults the API server writes (describe shows the strategy). */
export function defaultDeploymentSpec(spec: Json): Json {
  const strategy = asRecord(spec.strategy) ?? {};
  const type = strategy.type ?? 'RollingUpdate';
  return {
    ...spec,
    replicas: spec.replicas ?? 1,
    strategy:
      type === 'RollingUpdate'
        ? {
            ...strategy,
            type,
            rollingUpdate: {
              maxUnavailable: '25%',
              maxSurge: '25%',
              ...(asRecord(strategy.rollingUpdate) ?? {}),
            },
          }
        : { ...strategy, type },
    revisionHistoryLimit: spec.revisionHistoryLimit ?? 10,
    progressDeadlineSeconds: spec.progressDeadlineSeconds ?? 600,
  };
}

/** The pod spec defaults the API server writes. */
export function defaultPodSpec(spec: Json): Json {
  return {
    ...spec,
    containers: asArray(spec.containers).map(defaultContainer),
    ...(Array.isArray(spec.initContainers)
      ? { initContainers: spec.initContainers.map(defaultContainer) }
      : {}),
    restartPolicy: spec.restartPolicy ?? 'Always',
    terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds ?? 30,
    dnsPolicy: spec.dnsPolicy ?? 'ClusterFirst',
    serviceAccountName: spec.serviceAccountName ?? spec.serviceAccount ?? 'default',
    schedulerName: spec.schedulerName ?? 'default-scheduler',
    securityContext: spec.securityContext ?? {},
    enableServiceLinks: spec.enableServiceLinks ?? true,
  };
}

/** Service defaults: type, protocol, targetPort = port, session affinity, IP family. */
export function defaultServiceSpec(spec: Json): Json {
  const type = typeof spec.type === 'string' ? spec.type : 'ClusterIP';
  const out: Json = { ...spec, type };
  if (type !== 'ExternalName') {
    out.sessionAffinity = spec.sessionAffinity ?? 'None';
    out.internalTrafficPolicy = spec.internalTrafficPolicy ?? 'Cluster';
    out.ipFamilies = spec.ipFamilies ?? ['IPv4'];
    out.ipFamilyPolicy = spec.ipFamilyPolicy ?? 'SingleStack';
  }
  if (Array.isArray(spec.ports)) {
    out.ports = spec.ports.map((p) => {
      const port = asRecord(p);
      if (!port) return p;
      return { ...port, protocol: port.protocol ?? 'TCP', targetPort: port.targetPort ?? port.port };
    });
  }
  return out;
}

/**
 * NetworkPolicy defaults as the API server stores them: policyTypes from the rules present
 * (Ingress always, Egress when there are egress rules) and protocol TCP on every port entry.
 */
export function defaultNetworkPolicySpec(spec: Json): Json {
  const out: Json = { ...spec };
  const defaultPorts = (rules: unknown) =>
    asArray(rules).map((r) => {
      const rule = asRecord(r);
      if (!rule || !Array.isArray(rule.ports)) return r;
      return {
        ...rule,
        ports: rule.ports.map((p) => ({ ...(asRecord(p) ?? {}), protocol: asRecord(p)?.protocol ?? 'TCP' })),
      };
    });
  if (Array.isArray(spec.ingress)) out.ingress = defaultPorts(spec.ingress);
  if (Array.isArray(spec.egress)) out.egress = defaultPorts(spec.egress);
  const types = asArray(spec.policyTypes);
  if (types.length === 0) {
    out.policyTypes = asArray(spec.egress).length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
  }
  return out;
}

// ---- built-in objects ----------------------------------------------------------------------------

export function namespaceObject(name: string, labels: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { ...labels, 'kubernetes.io/metadata.name': name } },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
}

export function nodeObject(node: SimNode, now: Date): KubeObject {
  const labels: Record<string, string> = {
    'beta.kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'kubernetes.io/hostname': node.name,
    'kubernetes.io/os': 'linux',
  };
  if (node.controlPlane) labels['node-role.kubernetes.io/control-plane'] = '';
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: node.name, labels },
    spec: {
      podCIDR: '192.168.0.0/16',
      ...(node.controlPlane
        ? { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }
        : {}),
    },
    status: {
      addresses: [
        { type: 'InternalIP', address: node.ip },
        { type: 'Hostname', address: node.name },
      ],
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'KubeletReady',
          message: 'kubelet is posting ready status',
          lastTransitionTime: timestamp(now),
        },
      ],
      nodeInfo: {
        kubeletVersion: 'v1.33.1',
        containerRuntimeVersion: 'containerd://2.1.1',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    },
  };
}

/** CoreDNS as kubeadm deploys it (labels, ports and toleration of the control-plane taint). */
export function coreDnsObjects(): KubeObject[] {
  const deployment: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'coredns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { 'k8s-app': 'kube-dns' } },
      template: {
        metadata: { labels: { 'k8s-app': 'kube-dns' } },
        spec: {
          priorityClassName: 'system-cluster-critical',
          serviceAccountName: 'coredns',
          dnsPolicy: 'Default',
          tolerations: [
            { key: 'CriticalAddonsOnly', operator: 'Exists' },
            { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' },
          ],
          containers: [
            {
              name: 'coredns',
              image: COREDNS_IMAGE,
              args: ['-conf', '/etc/coredns/Corefile'],
              ports: [
                { name: 'dns', containerPort: 53, protocol: 'UDP' },
                { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
                { name: 'metrics', containerPort: 9153, protocol: 'TCP' },
              ],
            },
          ],
        },
      },
    },
  };
  const service: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'kube-dns',
      namespace: 'kube-system',
      labels: {
        'k8s-app': 'kube-dns',
        'kubernetes.io/cluster-service': 'true',
        'kubernetes.io/name': 'CoreDNS',
      },
    },
    spec: {
      selector: { 'k8s-app': 'kube-dns' },
      clusterIP: KUBE_DNS_IP,
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
      ],
    },
  };
  return [deployment, service];
}

/** default/kubernetes: the API server, reached at the control-plane node on 6443. */
export function kubernetesServiceObjects(controlPlane: SimNode): KubeObject[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'kubernetes',
        namespace: 'default',
        labels: { component: 'apiserver', provider: 'kubernetes' },
      },
      spec: {
        clusterIP: KUBERNETES_SERVICE_IP,
        ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }],
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: {
        name: 'kubernetes',
        namespace: 'default',
        labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' },
      },
      subsets: [
        { addresses: [{ ip: controlPlane.ip }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] },
      ],
    },
  ];
}

/** The pod template's spec as a record (validated before this is called). */
export function templateSpecOf(workload: KubeObject): {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec: Json;
} {
  const template = asRecord(specOf(workload).template) ?? {};
  const meta = asRecord(template.metadata) ?? {};
  return {
    labels: { ...((asRecord(meta.labels) as Record<string, string> | undefined) ?? {}) },
    annotations: { ...((asRecord(meta.annotations) as Record<string, string> | undefined) ?? {}) },
    spec: asRecord(template.spec) ?? {},
  };
}
