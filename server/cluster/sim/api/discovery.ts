/**
 * Discovery documents (`/api`, `/apis`, `/api/v1`, `/apis/GROUP/VERSION`, `/version`), built from
 * the kinds the simulation serves (../kinds.ts). kubectl reads these to turn `deploy`, `netpol` or
 * `pods,svc` into URLs, and `kubectl api-resources` prints them.
 *
 * Aggregated discovery (apidiscovery.k8s.io/v2) is not offered: kubectl asks for it first and
 * falls back to these plain documents when the answer is a plain APIGroupList.
 */
import { allKinds, RESOURCE_VERBS, SUBRESOURCES, subresourceVerbs, type KindInfo } from '../kinds.js';

export const SIM_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0' };

const SHORT_NAMES: Record<string, string[]> = {
  namespaces: ['ns'],
  nodes: ['no'],
  pods: ['po'],
  services: ['svc'],
  endpoints: ['ep'],
  configmaps: ['cm'],
  serviceaccounts: ['sa'],
  persistentvolumeclaims: ['pvc'],
  persistentvolumes: ['pv'],
  limitranges: ['limits'],
  resourcequotas: ['quota'],
  deployments: ['deploy'],
  replicasets: ['rs'],
  statefulsets: ['sts'],
  daemonsets: ['ds'],
  cronjobs: ['cj'],
  networkpolicies: ['netpol'],
  ingresses: ['ing'],
  poddisruptionbudgets: ['pdb'],
  horizontalpodautoscalers: ['hpa'],
  priorityclasses: ['pc'],
  storageclasses: ['sc'],
  events: ['ev'],
};

/** `kubectl get all` lists the resources in category `all`. */
const IN_ALL = new Set([
  'pods',
  'services',
  'deployments',
  'replicasets',
  'statefulsets',
  'daemonsets',
  'jobs',
  'cronjobs',
]);

export { SUBRESOURCES };

const VERBS = RESOURCE_VERBS;

function groupVersion(info: KindInfo): string {
  return info.apiVersion;
}

export function groupVersions(): Map<string, KindInfo[]> {
  const out = new Map<string, KindInfo[]>();
  for (const info of allKinds()) {
    const gv = groupVersion(info);
    out.set(gv, [...(out.get(gv) ?? []), info]);
  }
  return out;
}

/**
 * Review resources that only answer a question (`kubectl auth can-i`): created, never stored,
 * answered by the RBAC engine (see server.ts).
 */
export const AUTHORIZATION_GV = 'authorization.k8s.io/v1';
const REVIEWS = [
  { name: 'selfsubjectaccessreviews', kind: 'SelfSubjectAccessReview' },
  { name: 'selfsubjectrulesreviews', kind: 'SelfSubjectRulesReview' },
  { name: 'subjectaccessreviews', kind: 'SubjectAccessReview' },
];

export function apiVersions(serverAddress: string): unknown {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

export function apiGroupList(): unknown {
  const groups = [...groupVersions().keys()]
    .filter((gv) => gv.includes('/'))
    .map((gv) => {
      const [name, version] = gv.split('/') as [string, string];
      const v = { groupVersion: gv, version };
      return { name, versions: [v], preferredVersion: v };
    });
  const v = { groupVersion: AUTHORIZATION_GV, version: 'v1' };
  groups.push({ name: 'authorization.k8s.io', versions: [v], preferredVersion: v });
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

export function apiGroup(name: string): unknown | undefined {
  const gv = [...groupVersions().keys(), AUTHORIZATION_GV].find((k) => k.startsWith(`${name}/`));
  if (!gv) return undefined;
  const v = { groupVersion: gv, version: gv.split('/')[1]! };
  return { kind: 'APIGroup', apiVersion: 'v1', name, versions: [v], preferredVersion: v };
}

export function apiResourceList(gv: string): unknown | undefined {
  if (gv === AUTHORIZATION_GV)
    return {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: gv,
      resources: REVIEWS.map((r) => ({
        name: r.name,
        singularName: r.kind.toLowerCase(),
        namespaced: false,
        kind: r.kind,
        verbs: ['create'],
      })),
    };
  const kinds = groupVersions().get(gv);
  if (!kinds) return undefined;
  const resources: unknown[] = [];
  for (const info of kinds) {
    resources.push({
      name: info.resource,
      singularName: info.kind.toLowerCase(),
      namespaced: info.namespaced,
      kind: info.kind,
      verbs: VERBS,
      ...(SHORT_NAMES[info.resource] ? { shortNames: SHORT_NAMES[info.resource] } : {}),
      ...(IN_ALL.has(info.resource) ? { categories: ['all'] } : {}),
    });
    for (const sub of SUBRESOURCES[info.resource] ?? []) {
      resources.push({
        name: `${info.resource}/${sub}`,
        singularName: '',
        namespaced: info.namespaced,
        kind: sub === 'scale' ? 'Scale' : sub === 'exec' ? 'PodExecOptions' : info.kind,
        ...(sub === 'scale' ? { group: 'autoscaling', version: 'v1' } : {}),
        verbs: subresourceVerbs(sub),
      });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv, resources };
}

export function versionInfo(): unknown {
  return {
    ...SIM_VERSION,
    gitCommit: 'kubelab-simulated-cluster',
    gitTreeState: 'clean',
    buildDate: '2024-12-11T00:00:00Z',
    goVersion: 'go1.23.3',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

/**
 * OpenAPI v3, only as far as kubectl reads it before a write: the PATCH operation of each kind,
 * tagged with its group/version/kind, listing the query parameters the simulation honours
 * (`fieldValidation`, `dryRun`, `fieldManager`). kubectl then lets the server validate
 * (fieldValidation=Strict) and asks for server dry runs. No schemas are published, and the PATCH
 * operations do not offer strategic merge patch here, so kubectl builds its client-side apply
 * patches from its own compiled-in types, the most faithful source for built-in kinds.
 */
export function openApiV3Root(): unknown {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const gv of groupVersions().keys()) {
    const p = gv === 'v1' ? 'api/v1' : `apis/${gv}`;
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=kubelab-sim` };
  }
  return { paths };
}

export function openApiV3Doc(gvPath: string): unknown | undefined {
  const gv = gvPath === 'api/v1' ? 'v1' : gvPath.startsWith('apis/') ? gvPath.slice(5) : undefined;
  const kinds = gv ? groupVersions().get(gv) : undefined;
  if (!gv || !kinds) return undefined;
  const [group, version] = gv.includes('/') ? (gv.split('/') as [string, string]) : ['', gv];
  const paths: Record<string, unknown> = {};
  for (const info of kinds) {
    const base = `/${gvPath}${info.namespaced ? '/namespaces/{namespace}' : ''}/${info.resource}/{name}`;
    paths[base] = {
      patch: {
        operationId: `patch${info.kind}`,
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': { group, version, kind: info.kind },
        parameters: ['dryRun', 'fieldManager', 'fieldValidation', 'force'].map((name) => ({
          name,
          in: 'query',
          schema: { type: name === 'force' ? 'boolean' : 'string', uniqueItems: true },
        })),
        requestBody: {
          content: {
            'application/apply-patch+yaml': { schema: { type: 'object' } },
            'application/json-patch+json': { schema: { type: 'object' } },
            'application/merge-patch+json': { schema: { type: 'object' } },
          },
        },
        responses: { '200': { description: 'OK' } },
      },
    };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes (kubelab simulated cluster)', version: SIM_VERSION.gitVersion },
    paths,
  };
}
