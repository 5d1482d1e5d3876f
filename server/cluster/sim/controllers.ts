/**
 * The controllers of the simulated cluster, run to completion after every change: Deployments
 * own ReplicaSets, ReplicaSets / StatefulSets / DaemonSets own pods, the scheduler and kubelet
 * place pods and report their status, the endpoints controller fills Endpoints, and the garbage
 * collector removes what lost its owner. Everything settles at once (no rollout in progress).
 */
import type { KubeObject } from '../types.js';
import { matchesSelector, resolveNamedPort, isProtocol } from '../../netpol/index.js';
import type { ContainerPortModel, LabelSelector, Protocol } from '../../netpol/types.js';
import { podRejection } from './admission.js';
import { fnv32a, nameSuffix, safeEncodeHash, stableStringify } from './random.js';
import {
  NODES,
  allocatePodIp,
  defaultPodSpec,
  stampNew,
  templateSpecOf,
  timestamp,
  type SimNode,
} from './objects.js';
import { deepCopy } from '../../copy.js';
import {
  asArray,
  asRecord,
  controllerOf,
  getObject,
  isPodReady,
  keyOf,
  labelsOf,
  listObjects,
  nodeNameOf,
  objectKey,
  podIps,
  putObject,
  revised,
  removeObject,
  specOf,
  type Json,
  type SimState,
} from './state.js';

export interface ControllerContext {
  now(): Date;
  /** Why a pod cannot become ready (an injected fault), or undefined when it can. */
  notReadyReason(namespace: string, name: string): string | undefined;
}

// ---- pods ----------------------------------------------------------------------------------------

function tolerates(spec: Json, taintKey: string): boolean {
  return asArray(spec.tolerations).some((t) => {
    const tol = asRecord(t);
    if (!tol) return false;
    if (tol.operator === 'Exists' && (tol.key === undefined || tol.key === '')) return true;
    return tol.key === taintKey;
  });
}

export function eligibleNodes(spec: Json): SimNode[] {
  return NODES.filter((n) => !n.controlPlane || tolerates(spec, 'node-role.kubernetes.io/control-plane'));
}

function schedule(state: SimState, spec: Json): SimNode | undefined {
  if (typeof spec.nodeName === 'string') return NODES.find((n) => n.name === spec.nodeName);
  const candidates = eligibleNodes(spec);
  const load = (n: SimNode) => listObjects(state, 'Pod').filter((p) => nodeNameOf(p) === n.name).length;
  let best: SimNode | undefined;
  for (const n of candidates) if (!best || load(n) < load(best)) best = n;
  return best;
}

function containerNames(spec: Json): string[] {
  return asArray(spec.containers)
    .map((c) => asRecord(c)?.name)
    .filter((n): n is string => typeof n === 'string');
}

/** A pod's status as the kubelet reports it: Running and Ready, or stuck pulling its image. */
export function podStatus(
  pod: KubeObject,
  ctx: ControllerContext,
  ips: string[],
  node: SimNode | undefined,
): Json {
  const spec = specOf(pod);
  const reason = ctx.notReadyReason(pod.metadata.namespace ?? '', pod.metadata.name) ?? kubeletRefusal(spec);
  const started = String(pod.metadata.creationTimestamp ?? timestamp(ctx.now()));
  const names = containerNames(spec);
  const condition = (type: string, ok: boolean, extra: Json = {}) => ({
    type,
    status: ok ? 'True' : 'False',
    lastProbeTime: null,
    lastTransitionTime: started,
    ...extra,
  });
  const notReadyExtra = reason
    ? { reason: 'ContainersNotReady', message: `containers with unready status: [${names.join(' ')}]` }
    : {};
  const waitingMessage = (image: string) =>
    reason === 'CreateContainerConfigError'
      ? 'container has runAsNonRoot and image will run as root'
      : `Back-off pulling image "${image}"`;
  const containerStatuses = asArray(spec.containers).map((c) => {
    const container = asRecord(c) ?? {};
    const name = String(container.name ?? '');
    const image = String(container.image ?? '');
    const id = fnv32a(`${String(pod.metadata.uid)}/${name}`)
      .toString(16)
      .padStart(8, '0')
      .repeat(8);
    return reason
      ? {
          name,
          image,
          imageID: '',
          ready: false,
          started: false,
          restartCount: 0,
          state: { waiting: { reason, message: waitingMessage(image) } },
        }
      : {
          name,
          image,
          imageID: `${image.split(':')[0] ?? image}@sha256:${id}`,
          containerID: `containerd://${id}`,
          ready: true,
          started: true,
          restartCount: 0,
          state: { running: { startedAt: started } },
        };
  });
  return {
    phase: reason ? 'Pending' : 'Running',
    conditions: [
      condition('PodReadyToStartContainers', true),
      condition('Initialized', true),
      condition('Ready', !reason, notReadyExtra),
      condition('ContainersReady', !reason, notReadyExtra),
      condition('PodScheduled', node !== undefined),
    ],
    ...(node ? { hostIP: node.ip, hostIPs: [{ ip: node.ip }] } : {}),
    ...(ips.length > 0 ? { podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) } : {}),
    startTime: started,
    qosClass: qosClassOf(spec),
    containerStatuses,
  };
}

/** Images the simulation knows to run as root (uid 0) unless told otherwise. */
const ROOT_IMAGES = /(^|\/)(agnhost|nginx|httpd|busybox|alpine|netshoot)(:|@|$)/;

/**
 * What the kubelet refuses before starting a container: `runAsNonRoot: true` without a non-zero
 * `runAsUser` on an image whose user is root. Pod Security's restricted level asks for
 * runAsNonRoot, so a pod admitted by it may still not start: the lesson is to set runAsUser too.
 */
function kubeletRefusal(spec: Json): string | undefined {
  const podCtx = asRecord(spec.securityContext) ?? {};
  for (const c of [...asArray(spec.initContainers), ...asArray(spec.containers)]) {
    const container = asRecord(c) ?? {};
    const ctx = asRecord(container.securityContext) ?? {};
    const nonRoot = ctx.runAsNonRoot ?? podCtx.runAsNonRoot;
    const user = ctx.runAsUser ?? podCtx.runAsUser;
    if (nonRoot === true && user === undefined && ROOT_IMAGES.test(String(container.image ?? '')))
      return 'CreateContainerConfigError';
  }
  return undefined;
}

/** Guaranteed: every container limits and requests CPU and memory alike; BestEffort: none sets any. */
function qosClassOf(spec: Json): string {
  const containers = asArray(spec.containers).map((c) => asRecord(asRecord(c)?.resources) ?? {});
  let any = false;
  let guaranteed = containers.length > 0;
  for (const r of containers) {
    const requests = asRecord(r.requests) ?? {};
    const limits = asRecord(r.limits) ?? {};
    if (Object.keys(requests).length > 0 || Object.keys(limits).length > 0) any = true;
    for (const res of ['cpu', 'memory']) {
      const limit = limits[res];
      const request = requests[res] ?? limit;
      if (limit === undefined || String(request) !== String(limit)) guaranteed = false;
    }
  }
  return guaranteed ? 'Guaranteed' : any ? 'Burstable' : 'BestEffort';
}

export interface NewPod {
  namespace: string;
  name: string;
  generateName?: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  spec: Json;
  owner?: KubeObject;
}

/** Creates, schedules and starts a pod (IP from the node's block, status from the kubelet). */
export function createPod(state: SimState, ctx: ControllerContext, p: NewPod): KubeObject {
  const spec = defaultPodSpec(deepCopy(p.spec));
  mountServiceAccountToken(state, p.namespace, spec);
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: p.name,
      ...(p.generateName ? { generateName: p.generateName } : {}),
      namespace: p.namespace,
      labels: { ...p.labels },
      ...(p.annotations && Object.keys(p.annotations).length > 0
        ? { annotations: { ...p.annotations } }
        : {}),
      ...(p.owner
        ? {
            ownerReferences: [
              {
                apiVersion: p.owner.apiVersion,
                kind: p.owner.kind,
                name: p.owner.metadata.name,
                uid: p.owner.metadata.uid,
                controller: true,
                blockOwnerDeletion: true,
              },
            ],
          }
        : {}),
    },
    spec,
  };
  stampNew(state, pod, ctx.now());
  delete pod.metadata.generation;
  const node = schedule(state, spec);
  if (node) spec.nodeName = node.name;
  const ips = node ? [spec.hostNetwork === true ? node.ip : allocatePodIp(state, node.name)] : [];
  pod.status = podStatus(pod, ctx, ips, node);
  state.podSerial.set(keyOf(pod), state.nextSerial++);
  putObject(state, pod);
  return pod;
}

/**
 * What the ServiceAccount admission plugin adds to a new pod: unless the pod or its ServiceAccount
 * turns automount off (the pod's field wins), a projected volume with the account's token, mounted
 * in every container. Pods keep what they were created with: changing the ServiceAccount later
 * does not touch running pods.
 */
function mountServiceAccountToken(state: SimState, namespace: string, spec: Json): void {
  const account = getObject(state, 'ServiceAccount', namespace, String(spec.serviceAccountName));
  const fromAccount = account ? (account as unknown as Json).automountServiceAccountToken : undefined;
  const automount =
    typeof spec.automountServiceAccountToken === 'boolean'
      ? spec.automountServiceAccountToken
      : typeof fromAccount === 'boolean'
        ? fromAccount
        : true;
  if (!automount) return;
  const volumes = asArray(spec.volumes);
  const name = `kube-api-access-${safeEncodeHash(fnv32a(`${namespace}/${String(spec.serviceAccountName)}/${volumes.length}`)).slice(0, 5)}`;
  spec.volumes = [
    ...volumes,
    {
      name,
      projected: {
        defaultMode: 420,
        sources: [
          { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          {
            downwardAPI: {
              items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
            },
          },
        ],
      },
    },
  ];
  for (const list of ['containers', 'initContainers']) {
    if (!Array.isArray(spec[list])) continue;
    spec[list] = (spec[list] as unknown[]).map((c) => {
      const container = asRecord(c) ?? {};
      return {
        ...container,
        volumeMounts: [
          ...asArray(container.volumeMounts),
          { name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' },
        ],
      };
    });
  }
}

function uniquePodName(state: SimState, namespace: string, prefix: string): string {
  for (;;) {
    const name = `${prefix}${nameSuffix(state.random)}`;
    if (!getObject(state, 'Pod', namespace, name)) return name;
  }
}

function ownedBy(state: SimState, kind: string, owner: KubeObject): KubeObject[] {
  return listObjects(state, kind, owner.metadata.namespace).filter(
    (o) => controllerOf(o)?.uid === owner.metadata.uid,
  );
}

function newestFirst(state: SimState, pods: KubeObject[]): KubeObject[] {
  return [...pods].sort(
    (a, b) => (state.podSerial.get(keyOf(b)) ?? 0) - (state.podSerial.get(keyOf(a)) ?? 0),
  );
}

function replicasOf(obj: KubeObject): number {
  const r = specOf(obj).replicas;
  return typeof r === 'number' ? r : 1;
}

/**
 * Stores a new status only when it changed, so resourceVersions do not churn. Statuses are built
 * by this file in a fixed key order, so plain JSON comparison is exact (and much cheaper).
 */
function setStatus(state: SimState, obj: KubeObject, status: Json): KubeObject {
  if (JSON.stringify(obj.status ?? {}) === JSON.stringify(status)) return obj;
  const updated = revised(obj, { status });
  putObject(state, updated);
  return updated;
}

/** Hashes by template object: reconcile runs after every change and templates rarely change. */
const templateHashes = new WeakMap<object, string>();

function templateHash(workload: KubeObject): string {
  const template = asRecord(specOf(workload).template) ?? {};
  let hash = templateHashes.get(template);
  if (hash === undefined) {
    hash = safeEncodeHash(fnv32a(stableStringify(template)));
    templateHashes.set(template, hash);
  }
  return hash;
}

// ---- workload controllers --------------------------------------------------------------------

function reconcileDeployment(state: SimState, ctx: ControllerContext, d: KubeObject): void {
  const namespace = d.metadata.namespace ?? '';
  const hash = templateHash(d);
  const rsName = `${d.metadata.name}-${hash}`;
  const spec = specOf(d);
  const template = deepCopy(asRecord(spec.template) ?? {});
  const tMeta = asRecord(template.metadata) ?? {};
  template.metadata = { ...tMeta, labels: { ...(asRecord(tMeta.labels) ?? {}), 'pod-template-hash': hash } };
  const selector = deepCopy(asRecord(spec.selector) ?? {});
  selector.matchLabels = { ...(asRecord(selector.matchLabels) ?? {}), 'pod-template-hash': hash };

  for (const old of ownedBy(state, 'ReplicaSet', d)) {
    if (old.metadata.name !== rsName) deleteCascade(state, old);
  }
  let rs = getObject(state, 'ReplicaSet', namespace, rsName);
  const desiredSpec = { replicas: replicasOf(d), selector, template };
  if (!rs) {
    rs = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: rsName,
        namespace,
        labels: {
          ...((asRecord(tMeta.labels) as Record<string, string> | undefined) ?? {}),
          'pod-template-hash': hash,
        },
        annotations: {
          'deployment.kubernetes.io/desired-replicas': String(replicasOf(d)),
          'deployment.kubernetes.io/revision': '1',
        },
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            name: d.metadata.name,
            uid: d.metadata.uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: desiredSpec,
    };
    stampNew(state, rs, ctx.now());
    putObject(state, rs);
  } else if (specOf(rs).replicas !== desiredSpec.replicas) {
    // Same name, same template hash: only the replica count can differ.
    rs = revised(rs, {
      spec: desiredSpec,
      metadata: {
        ...rs.metadata,
        annotations: {
          ...(rs.metadata.annotations ?? {}),
          'deployment.kubernetes.io/desired-replicas': String(replicasOf(d)),
        },
      },
    });
    putObject(state, rs);
  }
  rs = reconcileReplicaSet(state, ctx, rs);
  const rsFailure = asArray(asRecord(rs.status)?.conditions)
    .map((c) => asRecord(c) ?? {})
    .find((c) => c.type === 'ReplicaFailure');
  const pods = ownedBy(state, 'Pod', rs);
  const ready = pods.filter(isPodReady).length;
  const want = replicasOf(d);
  setStatus(state, d, {
    observedGeneration: d.metadata.generation,
    replicas: pods.length,
    updatedReplicas: pods.length,
    ...(ready > 0 ? { readyReplicas: ready, availableReplicas: ready } : {}),
    ...(pods.length - ready > 0 ? { unavailableReplicas: pods.length - ready } : {}),
    conditions: [
      {
        type: 'Available',
        status: ready >= want ? 'True' : 'False',
        reason: ready >= want ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
        message:
          ready >= want
            ? 'Deployment has minimum availability.'
            : 'Deployment does not have minimum availability.',
      },
      {
        type: 'Progressing',
        status: 'True',
        reason: 'NewReplicaSetAvailable',
        message: `ReplicaSet "${rsName}" has successfully progressed.`,
      },
      ...(rsFailure ? [rsFailure] : []),
    ],
  });
}

function reconcileReplicaSet(state: SimState, ctx: ControllerContext, rs: KubeObject): KubeObject {
  const namespace = rs.metadata.namespace ?? '';
  const { labels, annotations, spec } = templateSpecOf(rs);
  const pods = ownedBy(state, 'Pod', rs);
  const want = replicasOf(rs);
  let failedCreate: string | undefined;
  for (let i = pods.length; i < want; i++) {
    const prefix = `${rs.metadata.name}-`;
    const name = uniquePodName(state, namespace, prefix);
    // The API server refuses the controller's pod as it would a user's: the ReplicaSet says why
    // and keeps fewer pods than it wants (kubectl describe shows FailedCreate).
    failedCreate = podRejection(state, namespace, name, labels, annotations, spec);
    if (failedCreate) break;
    createPod(state, ctx, {
      namespace,
      name,
      generateName: prefix,
      labels,
      annotations,
      spec,
      owner: rs,
    });
  }
  for (const extra of newestFirst(state, pods).slice(0, Math.max(0, pods.length - want))) {
    removeObject(state, 'Pod', namespace, extra.metadata.name);
  }
  const now = ownedBy(state, 'Pod', rs);
  const ready = now.filter(isPodReady).length;
  return setStatus(state, rs, {
    replicas: now.length,
    fullyLabeledReplicas: now.length,
    ...(ready > 0 ? { readyReplicas: ready, availableReplicas: ready } : {}),
    observedGeneration: rs.metadata.generation,
    ...(failedCreate
      ? { conditions: [failureCondition(failedCreate, String(rs.metadata.creationTimestamp))] }
      : {}),
  });
}

function reconcileStatefulSet(state: SimState, ctx: ControllerContext, sts: KubeObject): void {
  const namespace = sts.metadata.namespace ?? '';
  const revision = `${sts.metadata.name}-${templateHash(sts)}`;
  const { labels, annotations, spec } = templateSpecOf(sts);
  const serviceName = specOf(sts).serviceName;
  const want = replicasOf(sts);
  for (const pod of ownedBy(state, 'Pod', sts)) {
    const ordinal = Number(pod.metadata.name.slice(sts.metadata.name.length + 1));
    if (!(ordinal < want) || labelsOf(pod)['controller-revision-hash'] !== revision)
      removeObject(state, 'Pod', namespace, pod.metadata.name);
  }
  for (let i = 0; i < want; i++) {
    const name = `${sts.metadata.name}-${i}`;
    if (getObject(state, 'Pod', namespace, name)) continue;
    const podSpec: Json = { ...spec, hostname: name };
    if (typeof serviceName === 'string' && serviceName !== '') podSpec.subdomain = serviceName;
    // A StatefulSet creates pods in order: a refused pod stops the ones after it.
    if (podRejection(state, namespace, name, labels, annotations, podSpec)) break;
    createPod(state, ctx, {
      namespace,
      name,
      labels: {
        ...labels,
        'controller-revision-hash': revision,
        'statefulset.kubernetes.io/pod-name': name,
        'apps.kubernetes.io/pod-index': String(i),
      },
      annotations,
      spec: podSpec,
      owner: sts,
    });
  }
  const pods = ownedBy(state, 'Pod', sts);
  const ready = pods.filter(isPodReady).length;
  setStatus(state, sts, {
    observedGeneration: sts.metadata.generation,
    replicas: pods.length,
    readyReplicas: ready,
    currentReplicas: pods.length,
    updatedReplicas: pods.length,
    availableReplicas: ready,
    currentRevision: revision,
    updateRevision: revision,
  });
}

function reconcileDaemonSet(state: SimState, ctx: ControllerContext, ds: KubeObject): void {
  const namespace = ds.metadata.namespace ?? '';
  const revision = templateHash(ds);
  const { labels, annotations, spec } = templateSpecOf(ds);
  const nodes = eligibleNodes(spec);
  const pods = ownedBy(state, 'Pod', ds);
  for (const pod of pods) {
    const onEligible = nodes.some((n) => n.name === nodeNameOf(pod));
    if (!onEligible || labelsOf(pod)['controller-revision-hash'] !== revision)
      removeObject(state, 'Pod', namespace, pod.metadata.name);
  }
  for (const node of nodes) {
    if (ownedBy(state, 'Pod', ds).some((p) => nodeNameOf(p) === node.name)) continue;
    const prefix = `${ds.metadata.name}-`;
    if (podRejection(state, namespace, prefix, labels, annotations, { ...spec, nodeName: node.name })) break;
    createPod(state, ctx, {
      namespace,
      name: uniquePodName(state, namespace, prefix),
      generateName: prefix,
      labels: {
        ...labels,
        'controller-revision-hash': revision,
        'pod-template-generation': String(ds.metadata.generation ?? 1),
      },
      annotations,
      spec: { ...spec, nodeName: node.name },
      owner: ds,
    });
  }
  const now = ownedBy(state, 'Pod', ds);
  const ready = now.filter(isPodReady).length;
  setStatus(state, ds, {
    currentNumberScheduled: now.length,
    desiredNumberScheduled: nodes.length,
    numberMisscheduled: 0,
    numberReady: ready,
    numberAvailable: ready,
    updatedNumberScheduled: now.length,
    observedGeneration: ds.metadata.generation,
  });
}

/** The condition a ReplicaSet (and its Deployment) shows when the API server refuses its pods. */
function failureCondition(message: string, since: string): Json {
  return {
    type: 'ReplicaFailure',
    status: 'True',
    lastTransitionTime: since,
    reason: 'FailedCreate',
    message,
  };
}

// ---- deletion ----------------------------------------------------------------------------------

/** Deletes an object and, like foreground cascading deletion, everything it controls. */
export function deleteCascade(state: SimState, obj: KubeObject): void {
  for (const kind of ['ReplicaSet', 'Pod']) {
    for (const child of ownedBy(state, kind, obj)) deleteCascade(state, child);
  }
  removeObject(state, obj.kind, obj.metadata.namespace, obj.metadata.name);
  if (obj.kind === 'Service') removeObject(state, 'Endpoints', obj.metadata.namespace, obj.metadata.name);
}

function collectGarbage(state: SimState): void {
  const uids = new Set([...state.objects.values()].map((o) => o.metadata.uid));
  for (const obj of [...state.objects.values()]) {
    const owner = controllerOf(obj);
    if (owner && !uids.has(owner.uid)) deleteCascade(state, obj);
  }
}

// ---- endpoints -----------------------------------------------------------------------------------

export interface ServicePortSpec {
  name?: string;
  port: number;
  protocol: Protocol;
  targetPort: number | string;
}

export function servicePorts(svc: KubeObject): ServicePortSpec[] {
  return asArray(specOf(svc).ports).flatMap((p) => {
    const port = asRecord(p);
    if (!port || typeof port.port !== 'number') return [];
    const protocol = isProtocol(port.protocol) ? port.protocol : 'TCP';
    const tp = port.targetPort;
    const targetPort = typeof tp === 'number' || typeof tp === 'string' ? tp : port.port;
    const number = port.port;
    // Two literals rather than a conditional spread (many times slower in V8): every connection
    // through a Service reads these.
    return [
      typeof port.name === 'string' && port.name !== ''
        ? { name: port.name, port: number, protocol, targetPort }
        : { port: number, protocol, targetPort },
    ];
  });
}

/** Every container port of a pod, for resolving a Service's named targetPort. */
export function declaredPorts(pod: KubeObject): ContainerPortModel[] {
  return asArray(specOf(pod).containers).flatMap((c) =>
    asArray(asRecord(c)?.ports).flatMap((p) => {
      const port = asRecord(p);
      if (!port || typeof port.containerPort !== 'number') return [];
      const protocol = isProtocol(port.protocol) ? port.protocol : 'TCP';
      return [
        { port: port.containerPort, protocol, ...(typeof port.name === 'string' ? { name: port.name } : {}) },
      ];
    }),
  );
}

/** The pod port a Service port lands on, or undefined when a named targetPort is not on the pod. */
export function resolveTargetPort(pod: KubeObject, sp: ServicePortSpec): number | undefined {
  if (typeof sp.targetPort === 'number') return sp.targetPort;
  return resolveNamedPort({ ports: declaredPorts(pod) }, sp.targetPort, sp.protocol)?.port;
}

export function serviceSelector(svc: KubeObject): LabelSelector | undefined {
  const sel = asRecord(specOf(svc).selector);
  if (!sel || Object.keys(sel).length === 0) return undefined;
  return { matchLabels: sel as Record<string, string> };
}

/** The Endpoints object the endpoints controller writes for a Service with a selector. */
export function endpointsFor(state: SimState, svc: KubeObject): KubeObject | undefined {
  const selector = serviceSelector(svc);
  if (!selector || specOf(svc).type === 'ExternalName') return undefined;
  const namespace = svc.metadata.namespace ?? '';
  const publishNotReady = specOf(svc).publishNotReadyAddresses === true;
  const ports = servicePorts(svc);
  const subsets = new Map<string, { ports: Json[]; addresses: Json[]; notReadyAddresses: Json[] }>();
  for (const pod of listObjects(state, 'Pod', namespace)) {
    if (!matchesSelector(selector, labelsOf(pod))) continue;
    const ip = podIps(pod)[0];
    if (!ip) continue;
    const resolved = ports.flatMap((sp) => {
      const port = resolveTargetPort(pod, sp);
      return port === undefined
        ? []
        : [{ ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol }];
    });
    if (ports.length > 0 && resolved.length === 0) continue;
    const key = stableStringify(resolved);
    let subset = subsets.get(key);
    if (!subset) {
      subset = { ports: resolved, addresses: [], notReadyAddresses: [] };
      subsets.set(key, subset);
    }
    const address = {
      ip,
      nodeName: nodeNameOf(pod),
      targetRef: { kind: 'Pod', name: pod.metadata.name, namespace, uid: pod.metadata.uid },
    };
    if (isPodReady(pod) || publishNotReady) subset.addresses.push(address);
    else subset.notReadyAddresses.push(address);
  }
  const byIp = (a: Json, b: Json) => (String(a.ip) < String(b.ip) ? -1 : 1);
  const list = [...subsets.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([, s]) => ({
      ...(s.addresses.length > 0 ? { addresses: s.addresses.sort(byIp) } : {}),
      ...(s.notReadyAddresses.length > 0 ? { notReadyAddresses: s.notReadyAddresses.sort(byIp) } : {}),
      ...(s.ports.length > 0 ? { ports: s.ports } : {}),
    }));
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: {
      name: svc.metadata.name,
      namespace,
      ...(svc.metadata.labels ? { labels: { ...svc.metadata.labels } } : {}),
    },
    ...(list.length > 0 ? { subsets: list } : {}),
  };
}

function reconcileEndpoints(state: SimState, ctx: ControllerContext): void {
  for (const svc of listObjects(state, 'Service')) {
    const desired = endpointsFor(state, svc);
    if (!desired) continue;
    const existing = getObject(state, 'Endpoints', svc.metadata.namespace, svc.metadata.name);
    if (existing && JSON.stringify(existing.subsets ?? null) === JSON.stringify(desired.subsets ?? null))
      continue;
    if (existing) {
      const updated = revised(existing, {});
      if (desired.subsets) updated.subsets = desired.subsets;
      else delete updated.subsets;
      putObject(state, updated);
    } else {
      stampNew(state, desired, ctx.now());
      putObject(state, desired);
    }
  }
}

// ---- the loop --------------------------------------------------------------------------------------

function refreshPodStatuses(state: SimState, ctx: ControllerContext): void {
  for (const pod of listObjects(state, 'Pod')) {
    const shouldBeReady =
      (ctx.notReadyReason(pod.metadata.namespace ?? '', pod.metadata.name) ?? kubeletRefusal(specOf(pod))) ===
      undefined;
    if (isPodReady(pod) === shouldBeReady) continue;
    const node = NODES.find((n) => n.name === nodeNameOf(pod));
    setStatus(state, pod, podStatus(pod, ctx, podIps(pod), node));
  }
}

/**
 * Whether storing or removing this object can give a controller work. Every change leaves the state
 * reconciled, so a change no controller reads cannot make the next reconcile do anything. No
 * controller reads NetworkPolicies (only the data plane does), and the garbage collector looks at
 * one only when it names a controlling owner (it may be an orphan) or is named as one (its
 * dependents would be).
 */
export function controllersWatch(state: SimState, obj: KubeObject): boolean {
  if (obj.kind !== 'NetworkPolicy' || controllerOf(obj)) return true;
  const uid = obj.metadata.uid;
  for (const other of state.objects.values()) if (controllerOf(other)?.uid === uid) return true;
  return false;
}

/** Brings every controller's objects in line with their owners' specs. Idempotent. */
export function reconcile(state: SimState, ctx: ControllerContext): void {
  collectGarbage(state);
  refreshPodStatuses(state, ctx);
  for (const d of listObjects(state, 'Deployment')) reconcileDeployment(state, ctx, d);
  for (const rs of listObjects(state, 'ReplicaSet')) {
    if (!controllerOf(rs)) reconcileReplicaSet(state, ctx, rs);
  }
  for (const sts of listObjects(state, 'StatefulSet')) reconcileStatefulSet(state, ctx, sts);
  for (const ds of listObjects(state, 'DaemonSet')) reconcileDaemonSet(state, ctx, ds);
  reconcileEndpoints(state, ctx);
}

export { objectKey };
