/**
 * The restricted profile's own checks (restricted also runs every baseline check it does not
 * replace; see registry.ts). Restricted requires hardening to be written out: only safe volume
 * types, runAsNonRoot, no root UID, allowPrivilegeEscalation=false, a RuntimeDefault or Localhost
 * seccomp profile, capabilities dropped to ALL (NET_BIND_SERVICE may be added back), and from
 * v1.35 the default /proc mount even in a user namespace.
 *
 * From v1.25 a pod with `spec.os.name: windows` is exempt from the Linux-only checks
 * (allowPrivilegeEscalation, seccomp, capabilities); from v1.35 a pod with `hostUsers: false`
 * is exempt from runAsNonRoot and runAsUser.
 */
import type { FieldPath } from '../manifests/load.js';
import {
  ALLOWED,
  containersText,
  fail,
  inUserNamespace,
  isWindows,
  joinQuote,
  pluralize,
  scPath,
  sortedSet,
  type CheckDefinition,
  type CheckFn,
} from './check-kit.js';
import { procMountDefaultOnly, validSeccompType } from './checks-baseline.js';

/** Volume sources restricted allows; every other source is reported by its field name. */
export const RESTRICTED_VOLUME_SOURCES = [
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'image',
  'persistentVolumeClaim',
  'projected',
  'secret',
];

/** The volume sources the API server knows; anything else is reported as "unknown". */
const KNOWN_RESTRICTED_SOURCES = [
  'hostPath',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'gitRepo',
  'nfs',
  'iscsi',
  'glusterfs',
  'rbd',
  'flexVolume',
  'cinder',
  'cephfs',
  'flocker',
  'fc',
  'azureFile',
  'vsphereVolume',
  'quobyte',
  'azureDisk',
  'photonPersistentDisk',
  'portworxVolume',
  'scaleIO',
  'storageos',
];

const restrictedVolumes: CheckFn = (pod) => {
  const badNames: string[] = [];
  const types: string[] = [];
  const paths: FieldPath[] = [];
  for (const v of pod.volumes) {
    if (v.sources.some((s) => RESTRICTED_VOLUME_SOURCES.includes(s))) continue;
    badNames.push(v.name);
    const known = KNOWN_RESTRICTED_SOURCES.find((s) => v.sources.includes(s));
    types.push(known ?? 'unknown');
    paths.push(known ? [...v.path, known] : v.path);
  }
  if (badNames.length === 0) return ALLOWED;
  const typeList = sortedSet(types);
  return fail(
    'restricted volume types',
    `${pluralize('volume', 'volumes', badNames.length)} ${joinQuote(badNames)} ${pluralize('uses', 'use', badNames.length)} ${pluralize('restricted volume type', 'restricted volume types', typeList.length)} ${joinQuote(typeList)}`,
    paths,
  );
};

const runAsNonRoot: CheckFn = (pod) => {
  const setters: string[] = [];
  const paths: FieldPath[] = [];
  let podNonRoot = false;
  const podValue = pod.securityContext?.runAsNonRoot;
  if (podValue === false) {
    setters.push('pod');
    paths.push([...pod.securityContext!.path, 'runAsNonRoot']);
  } else if (podValue === true) podNonRoot = true;
  const explicit: string[] = [];
  const implicit: string[] = [];
  const implicitPaths: FieldPath[] = [];
  for (const c of pod.containers) {
    const v = c.securityContext?.runAsNonRoot;
    if (v === false) {
      explicit.push(c.name);
      paths.push(scPath(c, 'runAsNonRoot'));
    } else if (v === undefined && !podNonRoot) {
      implicit.push(c.name);
      implicitPaths.push(scPath(c, 'runAsNonRoot'));
    }
  }
  if (explicit.length > 0) setters.push(containersText(explicit));
  if (setters.length > 0) {
    return fail(
      'runAsNonRoot != true',
      `${setters.join(' and ')} must not set securityContext.runAsNonRoot=false`,
      paths,
    );
  }
  if (implicit.length > 0) {
    return fail(
      'runAsNonRoot != true',
      `pod or ${containersText(implicit)} must set securityContext.runAsNonRoot=true`,
      [[...pod.specPath, 'securityContext', 'runAsNonRoot'], ...implicitPaths],
    );
  }
  return ALLOWED;
};

const runAsUser: CheckFn = (pod) => {
  const setters: string[] = [];
  const paths: FieldPath[] = [];
  if (pod.securityContext?.runAsUser === 0) {
    setters.push('pod');
    paths.push([...pod.securityContext.path, 'runAsUser']);
  }
  const bad = pod.containers.filter((c) => c.securityContext?.runAsUser === 0);
  if (bad.length > 0) setters.push(containersText(bad.map((c) => c.name)));
  for (const c of bad) paths.push(scPath(c, 'runAsUser'));
  if (setters.length === 0) return ALLOWED;
  return fail('runAsUser=0', `${setters.join(' and ')} must not set runAsUser=0`, paths);
};

const allowPrivilegeEscalation: CheckFn = (pod) => {
  const bad = pod.containers.filter((c) => c.securityContext?.allowPrivilegeEscalation !== false);
  if (bad.length === 0) return ALLOWED;
  return fail(
    'allowPrivilegeEscalation != false',
    `${containersText(bad.map((c) => c.name))} must set securityContext.allowPrivilegeEscalation=false`,
    bad.map((c) => scPath(c, 'allowPrivilegeEscalation')),
  );
};

const seccompRestricted: CheckFn = (pod) => {
  const setters: string[] = [];
  const values: string[] = [];
  const paths: FieldPath[] = [];
  let podSet = false;
  const podType = pod.securityContext?.seccompProfileType;
  if (podType !== undefined) {
    if (!validSeccompType(podType)) {
      setters.push('pod');
      values.push(podType);
      paths.push([...pod.securityContext!.path, 'seccompProfile', 'type']);
    } else podSet = true;
  }
  const explicit: string[] = [];
  const implicit: string[] = [];
  const implicitPaths: FieldPath[] = [];
  for (const c of pod.containers) {
    const t = c.securityContext?.seccompProfileType;
    if (t !== undefined) {
      if (!validSeccompType(t)) {
        explicit.push(c.name);
        values.push(t);
        paths.push([...scPath(c, 'seccompProfile'), 'type']);
      }
    } else if (!podSet) {
      implicit.push(c.name);
      implicitPaths.push([...scPath(c, 'seccompProfile'), 'type']);
    }
  }
  if (explicit.length > 0) setters.push(containersText(explicit));
  if (setters.length > 0) {
    return fail(
      'seccompProfile',
      `${setters.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote(sortedSet(values))}`,
      paths,
    );
  }
  if (implicit.length > 0) {
    return fail(
      'seccompProfile',
      `pod or ${containersText(implicit)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`,
      [[...pod.specPath, 'securityContext', 'seccompProfile', 'type'], ...implicitPaths],
    );
  }
  return ALLOWED;
};

const capabilitiesRestricted: CheckFn = (pod) => {
  const missingDrop: string[] = [];
  const missingPaths: FieldPath[] = [];
  const adding: string[] = [];
  const forbidden: string[] = [];
  const addPaths: FieldPath[] = [];
  for (const c of pod.containers) {
    const caps = c.securityContext?.capabilities;
    if (!caps) {
      missingDrop.push(c.name);
      missingPaths.push([...scPath(c, 'capabilities'), 'drop']);
      continue;
    }
    if (!caps.drop.includes('ALL')) {
      missingDrop.push(c.name);
      missingPaths.push([...scPath(c, 'capabilities'), 'drop']);
    }
    let addsForbidden = false;
    caps.add.forEach((cap, i) => {
      if (cap === 'NET_BIND_SERVICE') return;
      addsForbidden = true;
      forbidden.push(cap);
      addPaths.push([...scPath(c, 'capabilities'), 'add', i]);
    });
    if (addsForbidden) adding.push(c.name);
  }
  const details: string[] = [];
  if (missingDrop.length > 0) {
    details.push(`${containersText(missingDrop)} must set securityContext.capabilities.drop=["ALL"]`);
  }
  if (adding.length > 0) {
    details.push(
      `${containersText(adding)} must not include ${joinQuote(sortedSet(forbidden))} in securityContext.capabilities.add`,
    );
  }
  if (details.length === 0) return ALLOWED;
  return fail('unrestricted capabilities', details.join('; '), [...missingPaths, ...addPaths]);
};

const exceptWindows =
  (check: CheckFn): CheckFn =>
  (pod) =>
    isWindows(pod) ? ALLOWED : check(pod);
const exceptUserNamespace =
  (check: CheckFn): CheckFn =>
  (pod) =>
    inUserNamespace(pod) ? ALLOWED : check(pod);

export const RESTRICTED_CHECKS: CheckDefinition[] = [
  {
    id: 'restrictedVolumes',
    level: 'restricted',
    summary: `only these volume types: ${RESTRICTED_VOLUME_SOURCES.join(', ')}`,
    versions: [{ minimumMinor: 0, check: restrictedVolumes, overrides: ['hostPathVolumes'] }],
  },
  {
    id: 'runAsNonRoot',
    level: 'restricted',
    summary: 'containers must run as a non-root user (runAsNonRoot: true)',
    versions: [
      { minimumMinor: 0, check: runAsNonRoot },
      { minimumMinor: 35, check: exceptUserNamespace(runAsNonRoot) },
    ],
  },
  {
    id: 'runAsUser',
    level: 'restricted',
    summary: 'containers may not set runAsUser: 0',
    versions: [
      { minimumMinor: 23, check: runAsUser },
      { minimumMinor: 35, check: exceptUserNamespace(runAsUser) },
    ],
  },
  {
    id: 'allowPrivilegeEscalation',
    level: 'restricted',
    summary: 'containers must set allowPrivilegeEscalation: false',
    versions: [
      { minimumMinor: 8, check: allowPrivilegeEscalation },
      { minimumMinor: 25, check: exceptWindows(allowPrivilegeEscalation) },
    ],
  },
  {
    id: 'seccompProfile_restricted',
    level: 'restricted',
    summary: 'a RuntimeDefault or Localhost seccomp profile must be set',
    versions: [
      { minimumMinor: 19, check: seccompRestricted, overrides: ['seccompProfile_baseline'] },
      { minimumMinor: 25, check: exceptWindows(seccompRestricted), overrides: ['seccompProfile_baseline'] },
    ],
  },
  {
    id: 'capabilities_restricted',
    level: 'restricted',
    summary: 'containers must drop ALL capabilities and may add back only NET_BIND_SERVICE',
    versions: [
      { minimumMinor: 22, check: capabilitiesRestricted, overrides: ['capabilities_baseline'] },
      {
        minimumMinor: 25,
        check: exceptWindows(capabilitiesRestricted),
        overrides: ['capabilities_baseline'],
      },
    ],
  },
  {
    id: 'procMount_restricted',
    level: 'restricted',
    summary: 'the default /proc mount is required, also in a user namespace',
    versions: [{ minimumMinor: 35, check: procMountDefaultOnly, overrides: ['procMount'] }],
  },
];
