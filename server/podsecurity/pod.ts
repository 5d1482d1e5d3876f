/**
 * readPodSpec: the parts of a pod (or a workload's pod template) that Pod Security looks at,
 * read from the object as written, each value with the field path it came from.
 *
 * Only the fields the checks read are examined; a field of the wrong type is a problem with its
 * path (the API server would refuse the object), anything else is left alone. Containers are
 * listed in the order the API server visits them: initContainers, containers,
 * ephemeralContainers.
 */
import { formatPath, isRecord, type FieldPath } from '../manifests/load.js';

export interface PodProblem {
  path: string;
  fieldPath: FieldPath;
  message: string;
}

export interface SeLinuxModel {
  type: string;
  user: string;
  role: string;
}

/** Security settings a container and the pod both may carry (a subset of each). */
export interface SecurityContextModel {
  path: FieldPath;
  runAsNonRoot?: boolean;
  runAsUser?: number;
  seccompProfileType?: string;
  appArmorProfileType?: string;
  seLinuxOptions?: SeLinuxModel;
  windowsHostProcess?: boolean;
}

export interface ContainerSecurityModel extends SecurityContextModel {
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  procMount?: string;
  /** Present when securityContext.capabilities is set (even empty). */
  capabilities?: { add: string[]; drop: string[] };
}

export interface ProbeHost {
  path: FieldPath;
  host: string;
}

export interface ContainerModel {
  name: string;
  path: FieldPath;
  securityContext?: ContainerSecurityModel;
  hostPorts: Array<{ port: number; path: FieldPath }>;
  probeHosts: ProbeHost[];
}

export interface VolumeModel {
  name: string;
  path: FieldPath;
  /** The volume source keys set on this volume (hostPath, emptyDir, ...). */
  sources: string[];
}

export interface PodSecurityContextModel extends SecurityContextModel {
  sysctls: Array<{ name: string; path: FieldPath }>;
}

export interface PodSpecModel {
  metadataPath: FieldPath;
  specPath: FieldPath;
  annotations: Record<string, string>;
  hostNetwork: boolean;
  hostPID: boolean;
  hostIPC: boolean;
  /** undefined when not set (the default is true). */
  hostUsers?: boolean;
  osName?: string;
  runtimeClassName?: string;
  securityContext?: PodSecurityContextModel;
  volumes: VolumeModel[];
  containers: ContainerModel[];
}

class Reader {
  readonly problems: PodProblem[] = [];

  add(path: FieldPath, message: string): void {
    this.problems.push({ path: formatPath(path), fieldPath: [...path], message });
  }

  private typeName(v: unknown): string {
    if (v === null) return 'null';
    if (Array.isArray(v)) return 'a list';
    if (typeof v === 'object') return 'an object';
    if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
    return `${typeof v} ${String(v)}`;
  }

  bool(obj: Record<string, unknown>, key: string, path: FieldPath): boolean | undefined {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'boolean') return v;
    this.add([...path, key], `must be true or false, got ${this.typeName(v)}`);
    return undefined;
  }

  str(obj: Record<string, unknown>, key: string, path: FieldPath): string | undefined {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return v;
    this.add([...path, key], `must be a string, got ${this.typeName(v)}`);
    return undefined;
  }

  int(obj: Record<string, unknown>, key: string, path: FieldPath): number | undefined {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'number' && Number.isInteger(v)) return v;
    this.add([...path, key], `must be an integer, got ${this.typeName(v)}`);
    return undefined;
  }

  record(obj: Record<string, unknown>, key: string, path: FieldPath): Record<string, unknown> | undefined {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    if (isRecord(v)) return v;
    this.add([...path, key], `must be an object (a mapping), got ${this.typeName(v)}`);
    return undefined;
  }

  list(obj: Record<string, unknown>, key: string, path: FieldPath): unknown[] {
    const v = obj[key];
    if (v === undefined || v === null) return [];
    if (Array.isArray(v)) return v;
    this.add([...path, key], `must be a list, got ${this.typeName(v)}`);
    return [];
  }

  strings(obj: Record<string, unknown>, key: string, path: FieldPath): string[] {
    const out: string[] = [];
    this.list(obj, key, path).forEach((item, i) => {
      if (typeof item === 'string') out.push(item);
      else this.add([...path, key, i], `must be a string, got ${this.typeName(item)}`);
    });
    return out;
  }
}

/**
 * Reads `metadata` at metadataPath and `spec` at specPath of `root`. A missing spec reads as an
 * empty pod (no containers): the API server's own validation reports that, not Pod Security.
 */
export function readPodSpec(
  root: Record<string, unknown>,
  metadataPath: FieldPath,
  specPath: FieldPath,
): { pod: PodSpecModel; problems: PodProblem[] } {
  const r = new Reader();
  const metadata = recordAt(r, root, metadataPath) ?? {};
  const spec = recordAt(r, root, specPath) ?? {};

  const annotations: Record<string, string> = {};
  const rawAnnotations = r.record(metadata, 'annotations', metadataPath);
  if (rawAnnotations) {
    for (const [k, v] of Object.entries(rawAnnotations)) {
      if (typeof v === 'string') annotations[k] = v;
      else r.add([...metadataPath, 'annotations', k], 'annotation values must be strings');
    }
  }

  const pod: PodSpecModel = {
    metadataPath,
    specPath,
    annotations,
    hostNetwork: r.bool(spec, 'hostNetwork', specPath) ?? false,
    hostPID: r.bool(spec, 'hostPID', specPath) ?? false,
    hostIPC: r.bool(spec, 'hostIPC', specPath) ?? false,
    volumes: [],
    containers: [],
  };
  const hostUsers = r.bool(spec, 'hostUsers', specPath);
  if (hostUsers !== undefined) pod.hostUsers = hostUsers;
  const runtimeClassName = r.str(spec, 'runtimeClassName', specPath);
  if (runtimeClassName !== undefined) pod.runtimeClassName = runtimeClassName;
  const os = r.record(spec, 'os', specPath);
  if (os) {
    const name = r.str(os, 'name', [...specPath, 'os']);
    if (name !== undefined) pod.osName = name;
  }

  const podSc = r.record(spec, 'securityContext', specPath);
  if (podSc) {
    const path = [...specPath, 'securityContext'];
    const sc: PodSecurityContextModel = { ...readCommonSecurity(r, podSc, path), sysctls: [] };
    r.list(podSc, 'sysctls', path).forEach((item, i) => {
      const itemPath = [...path, 'sysctls', i];
      if (!isRecord(item)) return r.add(itemPath, 'must be an object with a name');
      const name = r.str(item, 'name', itemPath);
      if (name !== undefined) sc.sysctls.push({ name, path: [...itemPath, 'name'] });
    });
    pod.securityContext = sc;
  }

  r.list(spec, 'volumes', specPath).forEach((item, i) => {
    const path = [...specPath, 'volumes', i];
    if (!isRecord(item)) return r.add(path, 'must be an object (a volume)');
    const name = r.str(item, 'name', path) ?? '';
    const sources = Object.keys(item).filter(
      (k) => k !== 'name' && item[k] !== null && item[k] !== undefined,
    );
    // The API server defaults a volume without a source to an emptyDir before admission sees it.
    pod.volumes.push({ name, path, sources: sources.length > 0 ? sources : ['emptyDir'] });
  });

  for (const field of ['initContainers', 'containers', 'ephemeralContainers']) {
    r.list(spec, field, specPath).forEach((item, i) => {
      const path = [...specPath, field, i];
      if (!isRecord(item)) return r.add(path, 'must be an object (a container)');
      pod.containers.push(readContainer(r, item, path));
    });
  }
  return { pod, problems: r.problems };
}

function recordAt(
  r: Reader,
  root: Record<string, unknown>,
  path: FieldPath,
): Record<string, unknown> | undefined {
  let cur: unknown = root;
  for (let i = 0; i < path.length; i++) {
    if (!isRecord(cur)) return undefined;
    const next: unknown = cur[path[i] as string];
    if (next === undefined || next === null) return undefined;
    if (!isRecord(next)) {
      r.add(path.slice(0, i + 1), 'must be an object (a mapping)');
      return undefined;
    }
    cur = next;
  }
  return isRecord(cur) ? cur : undefined;
}

function readCommonSecurity(r: Reader, sc: Record<string, unknown>, path: FieldPath): SecurityContextModel {
  const out: SecurityContextModel = { path };
  const runAsNonRoot = r.bool(sc, 'runAsNonRoot', path);
  if (runAsNonRoot !== undefined) out.runAsNonRoot = runAsNonRoot;
  const runAsUser = r.int(sc, 'runAsUser', path);
  if (runAsUser !== undefined) out.runAsUser = runAsUser;
  const seccomp = r.record(sc, 'seccompProfile', path);
  if (seccomp) out.seccompProfileType = r.str(seccomp, 'type', [...path, 'seccompProfile']) ?? '';
  const appArmor = r.record(sc, 'appArmorProfile', path);
  if (appArmor) out.appArmorProfileType = r.str(appArmor, 'type', [...path, 'appArmorProfile']) ?? '';
  const seLinux = r.record(sc, 'seLinuxOptions', path);
  if (seLinux) {
    const p = [...path, 'seLinuxOptions'];
    out.seLinuxOptions = {
      type: r.str(seLinux, 'type', p) ?? '',
      user: r.str(seLinux, 'user', p) ?? '',
      role: r.str(seLinux, 'role', p) ?? '',
    };
  }
  const windows = r.record(sc, 'windowsOptions', path);
  if (windows) {
    const hostProcess = r.bool(windows, 'hostProcess', [...path, 'windowsOptions']);
    if (hostProcess !== undefined) out.windowsHostProcess = hostProcess;
  }
  return out;
}

const PROBES = ['livenessProbe', 'readinessProbe', 'startupProbe'] as const;
const LIFECYCLE_HANDLERS = ['postStart', 'preStop'] as const;

function readContainer(r: Reader, c: Record<string, unknown>, path: FieldPath): ContainerModel {
  const container: ContainerModel = {
    name: r.str(c, 'name', path) ?? '',
    path,
    hostPorts: [],
    probeHosts: [],
  };
  const sc = r.record(c, 'securityContext', path);
  if (sc) {
    const scPath = [...path, 'securityContext'];
    const model: ContainerSecurityModel = readCommonSecurity(r, sc, scPath);
    const privileged = r.bool(sc, 'privileged', scPath);
    if (privileged !== undefined) model.privileged = privileged;
    const ape = r.bool(sc, 'allowPrivilegeEscalation', scPath);
    if (ape !== undefined) model.allowPrivilegeEscalation = ape;
    const procMount = r.str(sc, 'procMount', scPath);
    if (procMount !== undefined) model.procMount = procMount;
    const caps = r.record(sc, 'capabilities', scPath);
    if (caps) {
      const capsPath = [...scPath, 'capabilities'];
      model.capabilities = { add: r.strings(caps, 'add', capsPath), drop: r.strings(caps, 'drop', capsPath) };
    }
    container.securityContext = model;
  }
  r.list(c, 'ports', path).forEach((item, i) => {
    const portPath = [...path, 'ports', i];
    if (!isRecord(item)) return r.add(portPath, 'must be an object (a container port)');
    const hostPort = r.int(item, 'hostPort', portPath);
    if (hostPort !== undefined && hostPort !== 0)
      container.hostPorts.push({ port: hostPort, path: [...portPath, 'hostPort'] });
  });
  const handlerHosts = (handler: Record<string, unknown>, handlerPath: FieldPath) => {
    for (const kind of ['httpGet', 'tcpSocket']) {
      const action = r.record(handler, kind, handlerPath);
      if (!action) continue;
      const host = r.str(action, 'host', [...handlerPath, kind]);
      if (host) container.probeHosts.push({ host, path: [...handlerPath, kind, 'host'] });
    }
  };
  for (const probe of PROBES) {
    const p = r.record(c, probe, path);
    if (p) handlerHosts(p, [...path, probe]);
  }
  const lifecycle = r.record(c, 'lifecycle', path);
  if (lifecycle) {
    for (const h of LIFECYCLE_HANDLERS) {
      const handler = r.record(lifecycle, h, [...path, 'lifecycle']);
      if (handler) handlerHosts(handler, [...path, 'lifecycle', h]);
    }
  }
  return container;
}
