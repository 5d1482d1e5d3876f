/**
 * What the simulated API server checks before it stores an object: the shape of every kind it
 * models (Pods, workloads, Services, Namespaces; NetworkPolicies through the engine's own
 * validator), with the API server's wording and a field path for every problem. Unknown fields are
 * reported like kubectl's default strict field validation does, since a typo such as `port:` for
 * `ports:` otherwise silently changes what a manifest means.
 *
 * Checks that need the cluster's state (does the namespace exist, is a field immutable) live in
 * the cluster; this file only looks at one object.
 */
import { buildRbacModel, isRbacKind } from '../../rbac/index.js';
import { isRecord, type FieldPath } from '../../manifests/load.js';
import {
  ProblemCollector,
  describe,
  validateLabelSelector,
  validateLabels,
  validateObjectMeta,
  type LocatedFieldProblem,
} from '../../netpol/validate.js';
import { dns1123LabelProblems, dns1123SubdomainProblems } from '../../netpol/names.js';
import { PROTOCOLS, isProtocol, portNameProblems } from '../../netpol/ports.js';
import { isEmptySelector, matchesSelector, validateNetworkPolicy } from '../../netpol/index.js';
import type { LabelSelector } from '../../netpol/types.js';
import { isIPv4, isIPv6 } from '../../probe/command.js';
import { isWorkloadKind, kindInfo, type KindInfo } from './kinds.js';

export type { LocatedFieldProblem };

const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

function dns1035LabelProblems(value: string): string[] {
  const out: string[] = [];
  if (value.length > 63) out.push('must be no more than 63 characters');
  if (!DNS1035_LABEL.test(value)) {
    out.push(
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name', or 'abc-123')",
    );
  }
  return out;
}

/**
 * Every simulated pod is modelled and probed, so a million replicas would run for minutes: labs
 * need a handful. A real API server has no such limit; this is the simulation's own.
 */
export const MAX_SIMULATED_REPLICAS = 100;

const OBJECT_FIELDS: Record<string, readonly string[]> = {
  Pod: ['apiVersion', 'kind', 'metadata', 'spec', 'status'],
  Deployment: ['apiVersion', 'kind', 'metadata', 'spec', 'status'],
  ReplicaSet: ['apiVersion', 'kind', 'metadata', 'spec', 'status'],
  StatefulSet: ['apiVersion', 'kind', 'metadata', 'spec', 'status'],
  DaemonSet: ['apiVersion', 'kind', 'metadata', 'spec', 'status'],
  Service: ['apiVersion', 'kind', 'metadata', 'spec', 'status'],
  Namespace: ['apiVersion', 'kind', 'metadata', 'spec', 'status'],
};

const WORKLOAD_SPEC_FIELDS: Record<string, readonly string[]> = {
  Deployment: [
    'replicas',
    'selector',
    'template',
    'strategy',
    'minReadySeconds',
    'revisionHistoryLimit',
    'paused',
    'progressDeadlineSeconds',
  ],
  ReplicaSet: ['replicas', 'minReadySeconds', 'selector', 'template'],
  StatefulSet: [
    'replicas',
    'selector',
    'template',
    'volumeClaimTemplates',
    'serviceName',
    'podManagementPolicy',
    'updateStrategy',
    'revisionHistoryLimit',
    'minReadySeconds',
    'persistentVolumeClaimRetentionPolicy',
    'ordinals',
  ],
  DaemonSet: ['selector', 'template', 'updateStrategy', 'minReadySeconds', 'revisionHistoryLimit'],
};

const POD_SPEC_FIELDS = [
  'volumes',
  'initContainers',
  'containers',
  'ephemeralContainers',
  'restartPolicy',
  'terminationGracePeriodSeconds',
  'activeDeadlineSeconds',
  'dnsPolicy',
  'nodeSelector',
  'serviceAccountName',
  'serviceAccount',
  'automountServiceAccountToken',
  'nodeName',
  'hostNetwork',
  'hostPID',
  'hostIPC',
  'shareProcessNamespace',
  'securityContext',
  'imagePullSecrets',
  'hostname',
  'subdomain',
  'affinity',
  'schedulerName',
  'tolerations',
  'hostAliases',
  'priorityClassName',
  'priority',
  'dnsConfig',
  'readinessGates',
  'runtimeClassName',
  'enableServiceLinks',
  'preemptionPolicy',
  'overhead',
  'topologySpreadConstraints',
  'setHostnameAsFQDN',
  'os',
  'hostUsers',
  'schedulingGates',
  'resourceClaims',
  'resources',
];

const CONTAINER_FIELDS = [
  'name',
  'image',
  'command',
  'args',
  'workingDir',
  'ports',
  'envFrom',
  'env',
  'resources',
  'resizePolicy',
  'restartPolicy',
  'volumeMounts',
  'volumeDevices',
  'livenessProbe',
  'readinessProbe',
  'startupProbe',
  'lifecycle',
  'terminationMessagePath',
  'terminationMessagePolicy',
  'imagePullPolicy',
  'securityContext',
  'stdin',
  'stdinOnce',
  'tty',
];

const CONTAINER_PORT_FIELDS = ['containerPort', 'hostPort', 'hostIP', 'name', 'protocol'];

const SERVICE_SPEC_FIELDS = [
  'ports',
  'selector',
  'clusterIP',
  'clusterIPs',
  'type',
  'externalIPs',
  'sessionAffinity',
  'loadBalancerIP',
  'loadBalancerSourceRanges',
  'externalName',
  'externalTrafficPolicy',
  'healthCheckNodePort',
  'publishNotReadyAddresses',
  'sessionAffinityConfig',
  'ipFamilies',
  'ipFamilyPolicy',
  'allocateLoadBalancerNodePorts',
  'loadBalancerClass',
  'internalTrafficPolicy',
  'trafficDistribution',
];

const SERVICE_PORT_FIELDS = ['name', 'protocol', 'appProtocol', 'port', 'targetPort', 'nodePort'];
export const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] as const;

function unsupported(value: unknown, allowed: readonly string[]): string {
  return `Unsupported value: ${JSON.stringify(value)}: supported values: ${allowed.map((a) => `"${a}"`).join(', ')}`;
}

function isPortNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;
}

function checkPortNumber(c: ProblemCollector, value: unknown, path: FieldPath): void {
  if (value === undefined || value === null) c.add(path, 'Required value');
  else if (!isPortNumber(value))
    c.add(path, `Invalid value: ${describe(value)}: must be between 1 and 65535, inclusive`);
}

function checkPortName(c: ProblemCollector, value: unknown, path: FieldPath): void {
  if (!c.string(value, path)) return;
  for (const m of portNameProblems(value)) c.add(path, `Invalid value: "${value}": ${m}`);
}

function checkProtocol(c: ProblemCollector, value: unknown, path: FieldPath): void {
  if (value !== undefined && value !== null && !isProtocol(value)) c.add(path, unsupported(value, PROTOCOLS));
}

function stringList(c: ProblemCollector, value: unknown, path: FieldPath): void {
  if (value === undefined || value === null) return;
  if (!c.array(value, path)) return;
  value.forEach((v, i) => {
    if (typeof v !== 'string') c.add([...path, i], `must be a string, got ${describe(v)} (quote it in YAML)`);
  });
}

function checkContainer(
  c: ProblemCollector,
  value: unknown,
  path: FieldPath,
  seenNames: Set<string>,
  seenPortNames: Set<string>,
): void {
  if (!c.record(value, path)) return;
  c.unknownFields(value, path, CONTAINER_FIELDS);
  const { name, image } = value;
  if (name === undefined || name === null || name === '') c.add([...path, 'name'], 'Required value');
  else if (c.string(name, [...path, 'name'])) {
    for (const m of dns1123LabelProblems(name)) c.add([...path, 'name'], `Invalid value: "${name}": ${m}`);
    if (seenNames.has(name)) c.add([...path, 'name'], `Duplicate value: "${name}"`);
    seenNames.add(name);
  }
  if (image === undefined || image === null || image === '') c.add([...path, 'image'], 'Required value');
  else c.string(image, [...path, 'image']);
  stringList(c, value.command, [...path, 'command']);
  stringList(c, value.args, [...path, 'args']);
  if (value.env !== undefined && value.env !== null && c.array(value.env, [...path, 'env'])) {
    value.env.forEach((e, i) => {
      const ePath = [...path, 'env', i];
      if (!c.record(e, ePath)) return;
      if (typeof e.name !== 'string' || e.name === '') c.add([...ePath, 'name'], 'Required value');
      if (e.value !== undefined && e.value !== null && typeof e.value !== 'string') {
        c.add([...ePath, 'value'], `must be a string, got ${describe(e.value)} (quote it in YAML)`);
      }
    });
  }
  if (value.ports !== undefined && value.ports !== null && c.array(value.ports, [...path, 'ports'])) {
    value.ports.forEach((p, i) => {
      const pPath = [...path, 'ports', i];
      if (!c.record(p, pPath)) return;
      c.unknownFields(p, pPath, CONTAINER_PORT_FIELDS);
      checkPortNumber(c, p.containerPort, [...pPath, 'containerPort']);
      checkProtocol(c, p.protocol, [...pPath, 'protocol']);
      if (p.name !== undefined && p.name !== null && p.name !== '') {
        checkPortName(c, p.name, [...pPath, 'name']);
        if (typeof p.name === 'string') {
          if (seenPortNames.has(p.name)) c.add([...pPath, 'name'], `Duplicate value: "${p.name}"`);
          seenPortNames.add(p.name);
        }
      }
    });
  }
}

export function checkPodSpec(c: ProblemCollector, value: unknown, path: FieldPath): void {
  if (value === undefined || value === null) {
    c.add(path, 'Required value');
    return;
  }
  if (!c.record(value, path)) return;
  c.unknownFields(value, path, POD_SPEC_FIELDS);
  const names = new Set<string>();
  const portNames = new Set<string>();
  const containers = value.containers;
  if (
    containers === undefined ||
    containers === null ||
    (Array.isArray(containers) && containers.length === 0)
  ) {
    c.add([...path, 'containers'], 'Required value');
  } else if (c.array(containers, [...path, 'containers'])) {
    containers.forEach((ct, i) => checkContainer(c, ct, [...path, 'containers', i], names, portNames));
  }
  if (
    value.initContainers !== undefined &&
    value.initContainers !== null &&
    c.array(value.initContainers, [...path, 'initContainers'])
  ) {
    value.initContainers.forEach((ct, i) =>
      checkContainer(c, ct, [...path, 'initContainers', i], names, portNames),
    );
  }
  if (
    value.hostNetwork !== undefined &&
    value.hostNetwork !== null &&
    typeof value.hostNetwork !== 'boolean'
  ) {
    c.add([...path, 'hostNetwork'], `must be true or false, got ${describe(value.hostNetwork)}`);
  }
  for (const field of ['hostname', 'subdomain'] as const) {
    const v = value[field];
    if (v === undefined || v === null || v === '') continue;
    if (c.string(v, [...path, field]))
      for (const m of dns1123LabelProblems(v)) c.add([...path, field], `Invalid value: "${v}": ${m}`);
  }
}

function checkWorkload(c: ProblemCollector, obj: Record<string, unknown>, kind: string): void {
  const spec = obj.spec;
  if (spec === undefined || spec === null) {
    c.add(['spec'], 'Required value');
    return;
  }
  if (!c.record(spec, ['spec'])) return;
  c.unknownFields(spec, ['spec'], WORKLOAD_SPEC_FIELDS[kind] ?? []);
  if (kind !== 'DaemonSet' && spec.replicas !== undefined && spec.replicas !== null) {
    const r = spec.replicas;
    if (typeof r !== 'number' || !Number.isInteger(r) || r < 0) {
      c.add(['spec', 'replicas'], `Invalid value: ${describe(r)}: must be greater than or equal to 0`);
    } else if (r > MAX_SIMULATED_REPLICAS) {
      c.add(
        ['spec', 'replicas'],
        `Invalid value: ${r}: the simulated cluster runs at most ${MAX_SIMULATED_REPLICAS} replicas per workload`,
      );
    }
  }
  let selector: LabelSelector | undefined;
  if (spec.selector === undefined || spec.selector === null) c.add(['spec', 'selector'], 'Required value');
  else {
    selector = validateLabelSelector(c, spec.selector, ['spec', 'selector']);
    if (selector && isEmptySelector(selector)) {
      c.add(['spec', 'selector'], `Invalid value: {}: empty selector is invalid for ${kind.toLowerCase()}`);
      selector = undefined;
    }
  }
  const template = spec.template;
  if (template === undefined || template === null) {
    c.add(['spec', 'template'], 'Required value');
    return;
  }
  if (!c.record(template, ['spec', 'template'])) return;
  let labels: Record<string, string> | undefined = {};
  const tMeta = template.metadata;
  if (tMeta !== undefined && tMeta !== null && c.record(tMeta, ['spec', 'template', 'metadata'])) {
    labels = validateLabels(c, tMeta.labels, ['spec', 'template', 'metadata', 'labels']);
  }
  if (selector && labels && !matchesSelector(selector, labels)) {
    c.add(
      ['spec', 'template', 'metadata', 'labels'],
      `Invalid value: ${JSON.stringify(labels)}: \`selector\` does not match template \`labels\``,
    );
  }
  checkPodSpec(c, template.spec, ['spec', 'template', 'spec']);
  if (
    kind === 'StatefulSet' &&
    spec.serviceName !== undefined &&
    spec.serviceName !== null &&
    spec.serviceName !== ''
  ) {
    if (c.string(spec.serviceName, ['spec', 'serviceName'])) {
      for (const m of dns1035LabelProblems(spec.serviceName))
        c.add(['spec', 'serviceName'], `Invalid value: "${spec.serviceName}": ${m}`);
    }
  }
}

function checkService(c: ProblemCollector, obj: Record<string, unknown>): void {
  const spec = obj.spec;
  if (spec === undefined || spec === null) {
    c.add(['spec'], 'Required value');
    return;
  }
  if (!c.record(spec, ['spec'])) return;
  c.unknownFields(spec, ['spec'], SERVICE_SPEC_FIELDS);
  const type = spec.type ?? 'ClusterIP';
  if (!(SERVICE_TYPES as readonly unknown[]).includes(type))
    c.add(['spec', 'type'], unsupported(type, SERVICE_TYPES));
  validateLabels(c, spec.selector, ['spec', 'selector']);
  const clusterIP = spec.clusterIP;
  if (clusterIP !== undefined && clusterIP !== null && clusterIP !== '' && clusterIP !== 'None') {
    if (typeof clusterIP !== 'string' || (!isIPv4(clusterIP) && !isIPv6(clusterIP))) {
      c.add(
        ['spec', 'clusterIP'],
        `Invalid value: ${describe(clusterIP)}: must be empty, 'None', or a valid IP address`,
      );
    }
  }
  if (spec.publishNotReadyAddresses !== undefined && typeof spec.publishNotReadyAddresses !== 'boolean') {
    c.add(
      ['spec', 'publishNotReadyAddresses'],
      `must be true or false, got ${describe(spec.publishNotReadyAddresses)}`,
    );
  }
  if (type === 'ExternalName') {
    const en = spec.externalName;
    if (en === undefined || en === null || en === '') c.add(['spec', 'externalName'], 'Required value');
    else if (c.string(en, ['spec', 'externalName'])) {
      for (const m of dns1123SubdomainProblems(en.replace(/\.$/, '')))
        c.add(['spec', 'externalName'], `Invalid value: "${en}": ${m}`);
    }
  }
  const ports = spec.ports;
  const headless = clusterIP === 'None';
  if (ports === undefined || ports === null || (Array.isArray(ports) && ports.length === 0)) {
    if (type !== 'ExternalName' && !headless) c.add(['spec', 'ports'], 'Required value');
    return;
  }
  if (!c.array(ports, ['spec', 'ports'])) return;
  const names = new Set<string>();
  const seen = new Set<string>();
  ports.forEach((p, i) => {
    const path = ['spec', 'ports', i];
    if (!c.record(p, path)) return;
    c.unknownFields(p, path, SERVICE_PORT_FIELDS);
    if (p.name === undefined || p.name === null || p.name === '') {
      if (ports.length > 1) c.add([...path, 'name'], 'Required value');
    } else if (c.string(p.name, [...path, 'name'])) {
      for (const m of dns1123LabelProblems(p.name))
        c.add([...path, 'name'], `Invalid value: "${p.name}": ${m}`);
      if (names.has(p.name)) c.add([...path, 'name'], `Duplicate value: "${p.name}"`);
      names.add(p.name);
    }
    checkPortNumber(c, p.port, [...path, 'port']);
    checkProtocol(c, p.protocol, [...path, 'protocol']);
    const tp = p.targetPort;
    // A quoted number is a string to the API server, so it must be a valid port NAME (and is not).
    if (typeof tp === 'string') checkPortName(c, tp, [...path, 'targetPort']);
    else if (tp !== undefined && tp !== null && !isPortNumber(tp)) {
      c.add(
        [...path, 'targetPort'],
        `Invalid value: ${describe(tp)}: must be between 1 and 65535, inclusive`,
      );
    }
    if (p.nodePort !== undefined && p.nodePort !== null) {
      const np = p.nodePort;
      if (typeof np !== 'number' || !Number.isInteger(np) || np < 30000 || np > 32767) {
        c.add(
          [...path, 'nodePort'],
          `Invalid value: ${describe(np)}: provided port is not in the valid range. The range of valid ports is 30000-32767`,
        );
      } else if (type === 'ClusterIP') {
        c.add([...path, 'nodePort'], "Forbidden: may not be used when `type` is 'ClusterIP'");
      }
    }
    const key = `${String(p.port)}/${String(p.protocol ?? 'TCP')}`;
    if (seen.has(key))
      c.add(path, `Duplicate value: {"port":${String(p.port)},"protocol":"${String(p.protocol ?? 'TCP')}"}`);
    seen.add(key);
  });
}

/** RBAC object names need only be valid path segments (`system:controller:x` is a role name). */
function pathSegmentProblems(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  return /[/%]/.test(name) ? [`may not contain '/' or '%'`] : [];
}

function nameCheckFor(kind: string): (name: string) => string[] {
  if (kind === 'Service') return dns1035LabelProblems;
  if (kind === 'Namespace') return dns1123LabelProblems;
  return dns1123SubdomainProblems;
}

/**
 * Checks one object the way the API server would before storing it. Returns every problem (field
 * paths relative to the object) and, when the kind is served, what the kind is.
 */
export function validateKubeObject(obj: unknown): { problems: LocatedFieldProblem[]; info?: KindInfo } {
  const c = new ProblemCollector();
  if (!isRecord(obj)) {
    c.add(
      [],
      `expected a Kubernetes object (a mapping with apiVersion, kind and metadata), got ${describe(obj)}`,
    );
    return { problems: c.problems };
  }
  const { apiVersion, kind } = obj;
  if (apiVersion === undefined || apiVersion === null || apiVersion === '')
    c.add(['apiVersion'], 'Required value: every object needs an apiVersion');
  else c.string(apiVersion, ['apiVersion']);
  if (kind === undefined || kind === null || kind === '')
    c.add(['kind'], 'Required value: every object needs a kind');
  else c.string(kind, ['kind']);
  if (typeof kind !== 'string' || typeof apiVersion !== 'string') {
    validateObjectMeta(c, obj.metadata, { namespaced: false });
    return { problems: c.problems };
  }
  const info = kindInfo(kind);
  if (!info || info.kind !== kind) {
    const hint = info ? ` (did you mean kind "${info.kind}"?)` : '';
    c.add(['kind'], `no matches for kind "${kind}" in version "${apiVersion}"${hint}`);
    validateObjectMeta(c, obj.metadata, { namespaced: false });
    return { problems: c.problems };
  }
  if (apiVersion !== info.apiVersion) {
    c.add(
      ['apiVersion'],
      `no matches for kind "${kind}" in version "${apiVersion}" (${kind} is served as "${info.apiVersion}")`,
    );
  }
  if (kind === 'NetworkPolicy') {
    // The engine's validator checks metadata and the whole spec; its apiVersion message would repeat ours.
    const { problems } = validateNetworkPolicy(obj);
    for (const p of problems) if (p.path !== 'apiVersion') c.problems.push(p);
    return { problems: c.problems, info };
  }
  if (isRbacKind(kind)) {
    // The RBAC engine reads these objects as the API server validates them.
    validateObjectMeta(c, obj.metadata, { namespaced: info.namespaced, nameCheck: pathSegmentProblems });
    for (const p of buildRbacModel([obj]).problems) if (p.path !== 'apiVersion') c.problems.push(p);
    return { problems: c.problems, info };
  }
  const fields = OBJECT_FIELDS[kind];
  if (fields) c.unknownFields(obj, [], fields);
  validateObjectMeta(c, obj.metadata, { namespaced: info.namespaced, nameCheck: nameCheckFor(kind) });
  if (kind === 'Pod') checkPodSpec(c, obj.spec, ['spec']);
  else if (isWorkloadKind(kind)) checkWorkload(c, obj, kind);
  else if (kind === 'Service') checkService(c, obj);
  return { problems: c.problems, info };
}
