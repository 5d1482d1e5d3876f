/**
 * The baseline profile, check by check (ids as upstream), each with the versions at which its
 * behaviour changed. Baseline forbids the known privilege escalations: host namespaces,
 * privileged containers, added capabilities beyond the default set, hostPath volumes, host ports,
 * unconfined AppArmor/seccomp, custom SELinux users/roles/types, unmasked /proc, unsafe sysctls,
 * Windows HostProcess, and (from v1.34) probe or lifecycle hosts.
 */
import type { FieldPath } from '../manifests/load.js';
import {
  ALLOWED,
  containersText,
  fail,
  inUserNamespace,
  joinQuote,
  pluralize,
  scPath,
  sortedSet,
  type CheckDefinition,
  type CheckFn,
} from './check-kit.js';
import type { PodSpecModel, SecurityContextModel } from './pod.js';

const hostNamespaces: CheckFn = (pod) => {
  const set: string[] = [];
  const paths: FieldPath[] = [];
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
    if (pod[field]) {
      set.push(`${field}=true`);
      paths.push([...pod.specPath, field]);
    }
  }
  return set.length > 0 ? fail('host namespaces', set.join(', '), paths) : ALLOWED;
};

const privileged: CheckFn = (pod) => {
  const bad = pod.containers.filter((c) => c.securityContext?.privileged === true);
  if (bad.length === 0) return ALLOWED;
  return fail(
    'privileged',
    `${containersText(bad.map((c) => c.name))} must not set securityContext.privileged=true`,
    bad.map((c) => scPath(c, 'privileged')),
  );
};

export const DEFAULT_CAPABILITIES = [
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
];

const capabilitiesBaseline: CheckFn = (pod) => {
  const badNames: string[] = [];
  const caps: string[] = [];
  const paths: FieldPath[] = [];
  for (const c of pod.containers) {
    const added = c.securityContext?.capabilities?.add ?? [];
    let valid = true;
    added.forEach((cap, i) => {
      if (DEFAULT_CAPABILITIES.includes(cap)) return;
      valid = false;
      caps.push(cap);
      paths.push([...scPath(c, 'capabilities'), 'add', i]);
    });
    if (!valid) badNames.push(c.name);
  }
  if (badNames.length === 0) return ALLOWED;
  return fail(
    'non-default capabilities',
    `${containersText(badNames)} must not include ${joinQuote(sortedSet(caps))} in securityContext.capabilities.add`,
    paths,
  );
};

const hostPathVolumes: CheckFn = (pod) => {
  const bad = pod.volumes.filter((v) => v.sources.includes('hostPath'));
  if (bad.length === 0) return ALLOWED;
  return fail(
    'hostPath volumes',
    `${pluralize('volume', 'volumes', bad.length)} ${joinQuote(bad.map((v) => v.name))}`,
    bad.map((v) => [...v.path, 'hostPath']),
  );
};

const hostPorts: CheckFn = (pod) => {
  const badNames: string[] = [];
  const ports: string[] = [];
  const paths: FieldPath[] = [];
  for (const c of pod.containers) {
    if (c.hostPorts.length === 0) continue;
    badNames.push(c.name);
    for (const p of c.hostPorts) {
      ports.push(String(p.port));
      paths.push(p.path);
    }
  }
  if (badNames.length === 0) return ALLOWED;
  const unique = sortedSet(ports);
  return fail(
    'hostPort',
    `${containersText(badNames)} ${pluralize('uses', 'use', badNames.length)} ${pluralize('hostPort', 'hostPorts', unique.length)} ${unique.join(', ')}`,
    paths,
  );
};

const APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

const appArmorProfile: CheckFn = (pod) => {
  const okType = (t: string) => t === 'RuntimeDefault' || t === 'Localhost';
  const setters: string[] = [];
  const values: string[] = [];
  const paths: FieldPath[] = [];
  const podType = pod.securityContext?.appArmorProfileType;
  if (podType !== undefined && !okType(podType)) {
    setters.push('pod');
    values.push(podType);
    paths.push([...pod.securityContext!.path, 'appArmorProfile', 'type']);
  }
  const badContainers: string[] = [];
  for (const c of pod.containers) {
    const t = c.securityContext?.appArmorProfileType;
    if (t !== undefined && !okType(t)) {
      badContainers.push(c.name);
      values.push(t);
      paths.push([...scPath(c, 'appArmorProfile'), 'type']);
    }
  }
  if (badContainers.length > 0) setters.push(containersText(badContainers));
  const valueList = sortedSet(values);
  const badAnnotations: string[] = [];
  for (const [k, v] of Object.entries(pod.annotations)) {
    if (!k.startsWith(APPARMOR_ANNOTATION_PREFIX)) continue;
    if (v === '' || v === 'runtime/default' || v.startsWith('localhost/')) continue;
    badAnnotations.push(`${k}=${JSON.stringify(v)}`);
    paths.push([...pod.metadataPath, 'annotations', k]);
  }
  if (badAnnotations.length > 0) {
    valueList.push(...sortedSet(badAnnotations));
    setters.push(pluralize('annotation', 'annotations', badAnnotations.length));
  }
  if (setters.length === 0) return ALLOWED;
  return fail(
    pluralize('forbidden AppArmor profile', 'forbidden AppArmor profiles', valueList.length),
    `${setters.join(' and ')} must not set AppArmor profile type to ${joinQuote(valueList)}`,
    paths,
  );
};

function seLinuxCheck(allowedTypes: readonly string[]): CheckFn {
  return (pod) => {
    const badTypes: string[] = [];
    let setUser = false;
    let setRole = false;
    const paths: FieldPath[] = [];
    const valid = (sc: SecurityContextModel): boolean => {
      const o = sc.seLinuxOptions!;
      const base = [...sc.path, 'seLinuxOptions'];
      let ok = true;
      if (!allowedTypes.includes(o.type)) {
        ok = false;
        badTypes.push(o.type);
        paths.push([...base, 'type']);
      }
      if (o.user.length > 0) {
        ok = false;
        setUser = true;
        paths.push([...base, 'user']);
      }
      if (o.role.length > 0) {
        ok = false;
        setRole = true;
        paths.push([...base, 'role']);
      }
      return ok;
    };
    const setters: string[] = [];
    if (pod.securityContext?.seLinuxOptions && !valid(pod.securityContext)) setters.push('pod');
    const badContainers = pod.containers.filter(
      (c) => c.securityContext?.seLinuxOptions && !valid(c.securityContext),
    );
    if (badContainers.length > 0) setters.push(containersText(badContainers.map((c) => c.name)));
    if (setters.length === 0) return ALLOWED;
    const data: string[] = [];
    const types = sortedSet(badTypes);
    if (types.length > 0) data.push(`${pluralize('type', 'types', types.length)} ${joinQuote(types)}`);
    if (setUser) data.push('user may not be set');
    if (setRole) data.push('role may not be set');
    return fail(
      'seLinuxOptions',
      `${setters.join(' and ')} set forbidden securityContext.seLinuxOptions: ${data.join('; ')}`,
      paths,
    );
  };
}

/** procMount must be Default (or unset); shared with the restricted procMount check. */
export const procMountDefaultOnly: CheckFn = (pod) => {
  const bad = pod.containers.filter(
    (c) => c.securityContext?.procMount !== undefined && c.securityContext.procMount !== 'Default',
  );
  if (bad.length === 0) return ALLOWED;
  return fail(
    'procMount',
    `${containersText(bad.map((c) => c.name))} must not set securityContext.procMount to ${joinQuote(
      sortedSet(bad.map((c) => c.securityContext!.procMount!)),
    )}`,
    bad.map((c) => scPath(c, 'procMount')),
  );
};

const SECCOMP_POD_ANNOTATION = 'seccomp.security.alpha.kubernetes.io/pod';
const SECCOMP_CONTAINER_ANNOTATION_PREFIX = 'container.seccomp.security.alpha.kubernetes.io/';

/** Before v1.19 seccomp was set with annotations. */
const seccompBaselineAnnotations: CheckFn = (pod) => {
  const valid = (v: string) =>
    v === 'runtime/default' || v === 'docker/default' || v.startsWith('localhost/');
  const forbidden: string[] = [];
  const paths: FieldPath[] = [];
  const consider = (key: string) => {
    const v = pod.annotations[key];
    if (v === undefined || valid(v)) return;
    forbidden.push(`${key}=${JSON.stringify(v)}`);
    paths.push([...pod.metadataPath, 'annotations', key]);
  };
  consider(SECCOMP_POD_ANNOTATION);
  for (const c of pod.containers) consider(SECCOMP_CONTAINER_ANNOTATION_PREFIX + c.name);
  if (forbidden.length === 0) return ALLOWED;
  const list = sortedSet(forbidden);
  return fail(
    'seccompProfile',
    `forbidden ${pluralize('annotation', 'annotations', list.length)} ${list.join(', ')}`,
    paths,
  );
};

export const validSeccompType = (t: string) => t === 'RuntimeDefault' || t === 'Localhost';

const seccompBaselineFields: CheckFn = (pod) => {
  const setters: string[] = [];
  const values: string[] = [];
  const paths: FieldPath[] = [];
  const podType = pod.securityContext?.seccompProfileType;
  if (podType !== undefined && !validSeccompType(podType)) {
    setters.push('pod');
    values.push(podType);
    paths.push([...pod.securityContext!.path, 'seccompProfile', 'type']);
  }
  const bad = pod.containers.filter((c) => {
    const t = c.securityContext?.seccompProfileType;
    return t !== undefined && !validSeccompType(t);
  });
  for (const c of bad) {
    values.push(c.securityContext!.seccompProfileType!);
    paths.push([...scPath(c, 'seccompProfile'), 'type']);
  }
  if (bad.length > 0) setters.push(containersText(bad.map((c) => c.name)));
  if (setters.length === 0) return ALLOWED;
  return fail(
    'seccompProfile',
    `${setters.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote(sortedSet(values))}`,
    paths,
  );
};

const SYSCTLS_1_0 = [
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start',
];
const SYSCTLS_1_27 = [...SYSCTLS_1_0, 'net.ipv4.ip_local_reserved_ports'];
const SYSCTLS_1_29 = [
  ...SYSCTLS_1_27,
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
];
const SYSCTLS_1_32 = [...SYSCTLS_1_29, 'net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem'];
const SYSCTLS_1_37 = [...SYSCTLS_1_32, 'net.ipv4.tcp_slow_start_after_idle', 'net.ipv4.tcp_notsent_lowat'];

function sysctlsCheck(allowed: readonly string[]): CheckFn {
  return (pod) => {
    const bad = (pod.securityContext?.sysctls ?? []).filter((s) => !allowed.includes(s.name));
    if (bad.length === 0) return ALLOWED;
    return fail(
      'forbidden sysctls',
      bad.map((s) => s.name).join(', '),
      bad.map((s) => s.path),
    );
  };
}

const windowsHostProcess: CheckFn = (pod) => {
  const setters: string[] = [];
  const paths: FieldPath[] = [];
  const bad = pod.containers.filter((c) => c.securityContext?.windowsHostProcess === true);
  if (pod.securityContext?.windowsHostProcess === true) {
    setters.push('pod');
    paths.push([...pod.securityContext.path, 'windowsOptions', 'hostProcess']);
  }
  if (bad.length > 0) setters.push(containersText(bad.map((c) => c.name)));
  for (const c of bad) paths.push([...scPath(c, 'windowsOptions'), 'hostProcess']);
  if (setters.length === 0) return ALLOWED;
  return fail(
    'hostProcess',
    `${setters.join(' and ')} must not set securityContext.windowsOptions.hostProcess=true`,
    paths,
  );
};

const hostProbesAndHostLifecycle: CheckFn = (pod) => {
  const bad = pod.containers.filter((c) => c.probeHosts.length > 0);
  if (bad.length === 0) return ALLOWED;
  const names = sortedSet(bad.map((c) => c.name));
  const hosts = sortedSet(bad.flatMap((c) => c.probeHosts.map((h) => h.host)));
  return fail(
    'probe or lifecycle host',
    `${containersText(names)} ${pluralize('uses', 'use', names.length)} ${pluralize('probe or lifecycle host', 'probe or lifecycle hosts', hosts.length)} ${joinQuote(hosts)}`,
    bad.flatMap((c) => c.probeHosts.map((h) => h.path)),
  );
};

export const BASELINE_CHECKS: CheckDefinition[] = [
  {
    id: 'hostNamespaces',
    level: 'baseline',
    summary: 'sharing the host network, PID or IPC namespace is forbidden',
    versions: [{ minimumMinor: 0, check: hostNamespaces }],
  },
  {
    id: 'privileged',
    level: 'baseline',
    summary: 'privileged containers are forbidden',
    versions: [{ minimumMinor: 0, check: privileged }],
  },
  {
    id: 'capabilities_baseline',
    level: 'baseline',
    summary: `containers may add only the default capabilities (${DEFAULT_CAPABILITIES.join(', ')})`,
    versions: [{ minimumMinor: 0, check: capabilitiesBaseline }],
  },
  {
    id: 'hostPathVolumes',
    level: 'baseline',
    summary: 'hostPath volumes are forbidden',
    versions: [{ minimumMinor: 0, check: hostPathVolumes }],
  },
  {
    id: 'hostPorts',
    level: 'baseline',
    summary: 'host ports are forbidden',
    versions: [{ minimumMinor: 0, check: hostPorts }],
  },
  {
    id: 'appArmorProfile',
    level: 'baseline',
    summary: 'AppArmor may not be turned off (Unconfined)',
    versions: [{ minimumMinor: 0, check: appArmorProfile }],
  },
  {
    id: 'seLinuxOptions',
    level: 'baseline',
    summary: 'SELinux user and role may not be set, and only container types are allowed',
    versions: [
      { minimumMinor: 0, check: seLinuxCheck(['', 'container_t', 'container_init_t', 'container_kvm_t']) },
      {
        minimumMinor: 31,
        check: seLinuxCheck(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']),
      },
    ],
  },
  {
    id: 'procMount',
    level: 'baseline',
    summary: 'the default /proc masks may not be removed (except in a user namespace, from v1.35)',
    versions: [
      { minimumMinor: 0, check: procMountDefaultOnly },
      { minimumMinor: 35, check: (pod) => (inUserNamespace(pod) ? ALLOWED : procMountDefaultOnly(pod)) },
    ],
  },
  {
    id: 'seccompProfile_baseline',
    level: 'baseline',
    summary: 'seccomp may not be turned off (Unconfined)',
    versions: [
      { minimumMinor: 0, check: seccompBaselineAnnotations },
      { minimumMinor: 19, check: seccompBaselineFields },
    ],
  },
  {
    id: 'sysctls',
    level: 'baseline',
    summary: 'only the safe sysctls may be set',
    versions: [
      { minimumMinor: 0, check: sysctlsCheck(SYSCTLS_1_0) },
      { minimumMinor: 27, check: sysctlsCheck(SYSCTLS_1_27) },
      { minimumMinor: 29, check: sysctlsCheck(SYSCTLS_1_29) },
      { minimumMinor: 32, check: sysctlsCheck(SYSCTLS_1_32) },
      { minimumMinor: 37, check: sysctlsCheck(SYSCTLS_1_37) },
    ],
  },
  {
    id: 'windowsHostProcess',
    level: 'baseline',
    summary: 'Windows HostProcess containers are forbidden',
    versions: [{ minimumMinor: 0, check: windowsHostProcess }],
  },
  {
    id: 'hostProbesAndHostLifecycle',
    level: 'baseline',
    summary: 'probes and lifecycle handlers may not name a host',
    versions: [{ minimumMinor: 34, check: hostProbesAndHostLifecycle }],
  },
];

export type { PodSpecModel };
