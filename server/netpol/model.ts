/**
 * Building a NetworkModel from Kubernetes objects (manifests or live objects).
 *
 * - Namespace: its labels plus `kubernetes.io/metadata.name` (the API server adds that label).
 *   Namespaces that objects use but nobody declares are created with just that label.
 * - Pod: labels, every container port (containers and sidecar init containers), status.podIP(s),
 *   spec.hostNetwork.
 * - Deployment, StatefulSet, ReplicaSet (spec.replicas, default 1), Job (spec.parallelism,
 *   default 1) and DaemonSet (one pod: we model a single node) become pods named
 *   `<name>-0`, `<name>-1`, ... carrying the pod template's labels and ports.
 * - NetworkPolicy: validated; an invalid one becomes problems and is left out.
 * - Any other kind is ignored (Services, ConfigMaps... do not change what policy allows).
 *
 * Pods without an IP get a synthetic one so ipBlock rules can match them, deterministically in
 * the order the pods appear: pod-network pods from 10.244.0.0/16 (10.244.0.10, .11, ...: kind's
 * default pod subnet) and hostNetwork pods the single node's address 172.18.0.2 (kind's docker
 * network). Addresses already used by a pod's status are skipped.
 */
import { FrozenMemo, freezeDeep } from '../freeze.js';
import { badInput } from '../errors.js';
import { isRecord } from '../manifests/load.js';
import { ipFamily } from './ipblock.js';
import { dns1123SubdomainProblems } from './names.js';
import { isProtocol, isValidPortNumber, portNameProblems, PROTOCOLS } from './ports.js';
import type {
  ContainerPortModel,
  FieldProblem,
  NamespaceModel,
  NetworkModel,
  NetworkPolicyModel,
  PodModel,
} from './types.js';
import {
  ProblemCollector,
  describe,
  validateLabels,
  validateNetworkPolicy,
  validateObjectMeta,
  type LocatedFieldProblem,
} from './validate.js';

export const SYNTHETIC_POD_SUBNET = '10.244.0.0/16';
export const SYNTHETIC_NODE_IP = '172.18.0.2';
const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export interface BuildOptions {
  /** Namespace for objects that do not name one (default `default`). */
  defaultNamespace?: string;
}

export type IndexedProblem = LocatedFieldProblem & { index: number };

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'ReplicaSet', 'DaemonSet', 'Job']);

export function buildNetworkModel(
  objects: unknown[],
  opts: BuildOptions = {},
): { model: NetworkModel; problems: IndexedProblem[] } {
  const defaultNamespace = opts.defaultNamespace ?? 'default';
  const problems: IndexedProblem[] = [];
  const namespaces = new Map<string, NamespaceModel>();
  const pods: PodModel[] = [];
  const podOwner = new Map<string, number>();
  const policies: NetworkPolicyModel[] = [];
  const policyOwner = new Map<string, number>();

  const report = (index: number, list: LocatedFieldProblem[]) => {
    for (const p of list) problems.push({ ...p, index });
  };
  const addPod = (index: number, pod: PodModel, namePath: (string | number)[]) => {
    const key = `${pod.namespace}/${pod.name}`;
    const earlier = podOwner.get(key);
    if (earlier !== undefined) {
      problems.push({
        index,
        path: 'metadata.name',
        fieldPath: namePath,
        message: `pod ${key} is already defined by object #${earlier + 1}; pod names must be unique in a namespace`,
      });
      return;
    }
    podOwner.set(key, index);
    pods.push(pod);
  };

  objects.forEach((obj, index) => {
    if (!isRecord(obj)) {
      problems.push({
        index,
        path: '',
        fieldPath: [],
        message: `expected a Kubernetes object, got ${describe(obj)}`,
      });
      return;
    }
    const kind = obj.kind;
    if (kind === 'Namespace') {
      const c = new ProblemCollector();
      const ns = namespaceFrom(c, obj);
      report(index, c.problems);
      if (ns) {
        if (namespaces.has(ns.name)) {
          problems.push({
            index,
            path: 'metadata.name',
            fieldPath: ['metadata', 'name'],
            message: `namespace ${ns.name} is defined twice`,
          });
        } else namespaces.set(ns.name, ns);
      }
    } else if (kind === 'Pod') {
      const c = new ProblemCollector();
      const pod = podFrom(c, obj, defaultNamespace);
      report(index, c.problems);
      if (pod) addPod(index, pod, ['metadata', 'name']);
    } else if (typeof kind === 'string' && WORKLOAD_KINDS.has(kind)) {
      const c = new ProblemCollector();
      const expanded = podsOfWorkload(c, obj, kind, defaultNamespace);
      report(index, c.problems);
      for (const pod of expanded) addPod(index, pod, ['metadata', 'name']);
    } else if (kind === 'NetworkPolicy') {
      const { policy, problems: found } = validateNetworkPolicy(obj, defaultNamespace);
      report(index, found);
      if (policy) {
        const key = `${policy.namespace}/${policy.name}`;
        const earlier = policyOwner.get(key);
        if (earlier !== undefined) {
          problems.push({
            index,
            path: 'metadata.name',
            fieldPath: ['metadata', 'name'],
            message: `NetworkPolicy ${key} is already defined by object #${earlier + 1}`,
          });
        } else {
          policyOwner.set(key, index);
          policies.push(policy);
        }
      }
    } else if (kind === undefined) {
      problems.push({
        index,
        path: 'kind',
        fieldPath: ['kind'],
        message: 'Required value: every object needs a kind',
      });
    }
  });

  for (const name of [...pods.map((p) => p.namespace), ...policies.map((p) => p.namespace)]) {
    if (!namespaces.has(name)) namespaces.set(name, { name, labels: { [NAMESPACE_NAME_LABEL]: name } });
  }
  assignSyntheticIps(pods);
  return { model: { namespaces: [...namespaces.values()], pods, policies }, problems };
}

/** Gives every pod without an IP a deterministic one (see the file comment for the ranges). */
export function assignSyntheticIps(pods: PodModel[]): void {
  const used = new Set(pods.flatMap((p) => p.ips));
  let next = 10; // 10.244.0.0-9 stay free, as a real pod network reserves the first addresses
  for (const pod of pods) {
    if (pod.ips.length > 0) continue;
    if (pod.hostNetwork) {
      pod.ips.push(SYNTHETIC_NODE_IP);
      continue;
    }
    let ip: string;
    do {
      if (next > 65534)
        throw badInput('too many pods to give synthetic IPs from 10.244.0.0/16 (at most 65525)');
      ip = `10.244.${next >> 8}.${next & 255}`;
      next++;
    } while (used.has(ip));
    used.add(ip);
    pod.ips.push(ip);
  }
}

function namespaceFrom(c: ProblemCollector, obj: Record<string, unknown>): NamespaceModel | undefined {
  const meta = validateObjectMeta(c, obj.metadata, { namespaced: false, nameCheck: namespaceNameCheck });
  if (!meta) return undefined;
  return { name: meta.name, labels: { ...meta.labels, [NAMESPACE_NAME_LABEL]: meta.name } };
}

function namespaceNameCheck(name: string): string[] {
  return name.length > 63 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)
    ? [
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
      ]
    : [];
}

function podFrom(
  c: ProblemCollector,
  obj: Record<string, unknown>,
  defaultNamespace: string,
): PodModel | undefined {
  const meta = validateObjectMeta(c, obj.metadata, {
    namespaced: true,
    defaultNamespace,
    nameCheck: dns1123SubdomainProblems,
  });
  const spec = podSpecFrom(c, obj.spec, ['spec']);
  const ips = podIpsFrom(c, obj.status);
  if (!meta || !spec) return undefined;
  return { namespace: meta.namespace, name: meta.name, labels: meta.labels, ips, ...spec };
}

function podSpecFrom(
  c: ProblemCollector,
  value: unknown,
  path: (string | number)[],
): { ports: ContainerPortModel[]; hostNetwork?: boolean } | undefined {
  if (value === undefined || value === null) return { ports: [] };
  if (!c.record(value, path)) return undefined;
  const before = c.problems.length;
  const ports: ContainerPortModel[] = [];
  const collect = (listName: 'containers' | 'initContainers') => {
    const list = value[listName];
    if (list === undefined || list === null || !c.array(list, [...path, listName])) return;
    list.forEach((container, ci) => {
      const cPath = [...path, listName, ci];
      if (!c.record(container, cPath)) return;
      // Only sidecar init containers (restartPolicy Always) keep running and can receive traffic.
      if (listName === 'initContainers' && container.restartPolicy !== 'Always') return;
      const portList = container.ports;
      if (portList === undefined || portList === null || !c.array(portList, [...cPath, 'ports'])) return;
      portList.forEach((port, pi) => {
        const p = containerPortFrom(c, port, [...cPath, 'ports', pi]);
        if (p) ports.push(p);
      });
    });
  };
  collect('containers');
  collect('initContainers');
  let hostNetwork: boolean | undefined;
  if (value.hostNetwork !== undefined && value.hostNetwork !== null) {
    if (typeof value.hostNetwork === 'boolean') hostNetwork = value.hostNetwork;
    else c.add([...path, 'hostNetwork'], `must be true or false, got ${describe(value.hostNetwork)}`);
  }
  if (c.problems.length !== before) return undefined;
  return hostNetwork ? { ports, hostNetwork } : { ports };
}

function containerPortFrom(
  c: ProblemCollector,
  value: unknown,
  path: (string | number)[],
): ContainerPortModel | undefined {
  if (!c.record(value, path)) return undefined;
  const before = c.problems.length;
  const { containerPort, name, protocol } = value;
  if (containerPort === undefined || containerPort === null)
    c.add([...path, 'containerPort'], 'Required value');
  else if (typeof containerPort !== 'number' || !isValidPortNumber(containerPort)) {
    c.add(
      [...path, 'containerPort'],
      `Invalid value: ${describe(containerPort)}: must be between 1 and 65535, inclusive`,
    );
  }
  if (name !== undefined && name !== null && c.string(name, [...path, 'name'])) {
    for (const m of portNameProblems(name)) c.add([...path, 'name'], `Invalid value: "${name}": ${m}`);
  }
  if (protocol !== undefined && protocol !== null && !isProtocol(protocol)) {
    c.add(
      [...path, 'protocol'],
      `Unsupported value: ${JSON.stringify(protocol)}: supported values: ${PROTOCOLS.map((p) => `"${p}"`).join(', ')}`,
    );
  }
  if (c.problems.length !== before) return undefined;
  const out: ContainerPortModel = {
    port: containerPort as number,
    protocol: isProtocol(protocol) ? protocol : 'TCP',
  };
  if (typeof name === 'string' && name.length > 0) out.name = name;
  return out;
}

function podIpsFrom(c: ProblemCollector, status: unknown): string[] {
  if (!isRecord(status)) return [];
  const ips: string[] = [];
  const add = (ip: unknown, path: (string | number)[]) => {
    if (typeof ip !== 'string' || ip === '') return;
    if (!ipFamily(ip)) c.add(path, `Invalid value: "${ip}": must be a valid IP address`);
    else if (!ips.includes(ip)) ips.push(ip);
  };
  if (Array.isArray(status.podIPs)) {
    status.podIPs.forEach((entry, i) => {
      if (isRecord(entry)) add(entry.ip, ['status', 'podIPs', i, 'ip']);
    });
  }
  add(status.podIP, ['status', 'podIP']);
  return ips;
}

function podsOfWorkload(
  c: ProblemCollector,
  obj: Record<string, unknown>,
  kind: string,
  defaultNamespace: string,
): PodModel[] {
  const meta = validateObjectMeta(c, obj.metadata, { namespaced: true, defaultNamespace });
  const spec = obj.spec;
  if (!c.record(spec, ['spec']) || !meta) return [];
  let count = 1;
  const countField = kind === 'Job' ? 'parallelism' : kind === 'DaemonSet' ? undefined : 'replicas';
  if (countField && spec[countField] !== undefined && spec[countField] !== null) {
    const n = spec[countField];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
      c.add(['spec', countField], `Invalid value: ${describe(n)}: must be a whole number, 0 or more`);
      return [];
    }
    count = n;
  }
  const template = spec.template;
  if (!c.record(template, ['spec', 'template'])) return [];
  const templateMeta = template.metadata;
  let labels: Record<string, string> | undefined = {};
  if (
    templateMeta !== undefined &&
    templateMeta !== null &&
    c.record(templateMeta, ['spec', 'template', 'metadata'])
  ) {
    labels = validateLabels(c, templateMeta.labels, ['spec', 'template', 'metadata', 'labels']);
  }
  const podSpec = podSpecFrom(c, template.spec, ['spec', 'template', 'spec']);
  if (!labels || !podSpec) return [];
  return Array.from({ length: count }, (_, i) => ({
    namespace: meta.namespace,
    name: `${meta.name}-${i}`,
    labels: { ...labels },
    ips: [],
    ports: podSpec.ports.map((p) => ({ ...p })),
    ...(podSpec.hostNetwork ? { hostNetwork: true } : {}),
  }));
}

/**
 * A live Pod (as the API returns it, with status) as the engine sees it. Throws BAD_INPUT naming
 * every problem when the object is not a usable Pod.
 */
export function podModelFromPod(pod: unknown): PodModel {
  if (!isRecord(pod)) return buildPodModel(pod);
  return modelsOfFrozenPods.get(pod, () =>
    Object.isFrozen(pod) ? freezeDeep(buildPodModel(pod)) : buildPodModel(pod),
  );
}

/**
 * Models of frozen Pods: a deeply frozen object (the simulated cluster stores its objects so, and
 * shares them between a cluster and its copies) can never change, so its model is built once, and
 * frozen too, since every reader of the pod then shares it.
 */
const modelsOfFrozenPods = new FrozenMemo<object, PodModel>();

function buildPodModel(pod: unknown): PodModel {
  const c = new ProblemCollector();
  const model = isRecord(pod) ? podFrom(c, pod, 'default') : undefined;
  if (!isRecord(pod)) c.add([], `expected a Pod object, got ${describe(pod)}`);
  if (!model || c.problems.length > 0) throw badInput('not a usable Pod', toProblems(c.problems));
  return model;
}

/** A live Namespace as the engine sees it (its labels plus kubernetes.io/metadata.name). */
export function namespaceModelFromNamespace(ns: unknown): NamespaceModel {
  const c = new ProblemCollector();
  const model = isRecord(ns) ? namespaceFrom(c, ns) : undefined;
  if (!isRecord(ns)) c.add([], `expected a Namespace object, got ${describe(ns)}`);
  if (!model || c.problems.length > 0) throw badInput('not a usable Namespace', toProblems(c.problems));
  return model;
}

function toProblems(list: FieldProblem[]) {
  return list.map((p) => ({ path: p.path, message: p.message }));
}
