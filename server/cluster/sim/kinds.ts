/**
 * The built-in kinds the simulated API server serves: which apiVersion each is served under and
 * whether it lives in a namespace. Anything else is refused as the API server does
 * (`no matches for kind ...`): custom resources need their CRDs, which the simulation does not run.
 */

export interface KindInfo {
  kind: string;
  apiVersion: string;
  namespaced: boolean;
  /** Lower-case plural, as `kubectl get` and error messages name it. */
  resource: string;
  /** Group for error messages (`NetworkPolicy.networking.k8s.io "x" is invalid`); empty for core. */
  group: string;
}

const TABLE: Array<[kind: string, apiVersion: string, namespaced: boolean, resource: string]> = [
  ['Namespace', 'v1', false, 'namespaces'],
  ['Node', 'v1', false, 'nodes'],
  ['Pod', 'v1', true, 'pods'],
  ['Service', 'v1', true, 'services'],
  ['Endpoints', 'v1', true, 'endpoints'],
  ['ConfigMap', 'v1', true, 'configmaps'],
  ['Secret', 'v1', true, 'secrets'],
  ['ServiceAccount', 'v1', true, 'serviceaccounts'],
  ['PersistentVolumeClaim', 'v1', true, 'persistentvolumeclaims'],
  ['PersistentVolume', 'v1', false, 'persistentvolumes'],
  ['LimitRange', 'v1', true, 'limitranges'],
  ['ResourceQuota', 'v1', true, 'resourcequotas'],
  ['Deployment', 'apps/v1', true, 'deployments'],
  ['ReplicaSet', 'apps/v1', true, 'replicasets'],
  ['StatefulSet', 'apps/v1', true, 'statefulsets'],
  ['DaemonSet', 'apps/v1', true, 'daemonsets'],
  ['Job', 'batch/v1', true, 'jobs'],
  ['CronJob', 'batch/v1', true, 'cronjobs'],
  ['NetworkPolicy', 'networking.k8s.io/v1', true, 'networkpolicies'],
  ['Ingress', 'networking.k8s.io/v1', true, 'ingresses'],
  ['IngressClass', 'networking.k8s.io/v1', false, 'ingressclasses'],
  ['EndpointSlice', 'discovery.k8s.io/v1', true, 'endpointslices'],
  ['Role', 'rbac.authorization.k8s.io/v1', true, 'roles'],
  ['RoleBinding', 'rbac.authorization.k8s.io/v1', true, 'rolebindings'],
  ['ClusterRole', 'rbac.authorization.k8s.io/v1', false, 'clusterroles'],
  ['ClusterRoleBinding', 'rbac.authorization.k8s.io/v1', false, 'clusterrolebindings'],
  ['PodDisruptionBudget', 'policy/v1', true, 'poddisruptionbudgets'],
  ['HorizontalPodAutoscaler', 'autoscaling/v2', true, 'horizontalpodautoscalers'],
  ['PriorityClass', 'scheduling.k8s.io/v1', false, 'priorityclasses'],
  ['StorageClass', 'storage.k8s.io/v1', false, 'storageclasses'],
];

const BY_KIND = new Map<string, KindInfo>(
  TABLE.map(([kind, apiVersion, namespaced, resource]) => [
    kind,
    {
      kind,
      apiVersion,
      namespaced,
      resource,
      group: apiVersion.includes('/') ? apiVersion.split('/')[0]! : '',
    },
  ]),
);

/** Lower-case lookups so `delete('deployment', ...)` and `delete('deployments', ...)` work too. */
const BY_ALIAS = new Map<string, KindInfo>();
for (const info of BY_KIND.values()) {
  BY_ALIAS.set(info.kind.toLowerCase(), info);
  BY_ALIAS.set(info.resource, info);
}

/** Every served kind, in the order of the table above. */
export function allKinds(): KindInfo[] {
  return [...BY_KIND.values()];
}

export function kindInfo(kind: string): KindInfo | undefined {
  return BY_KIND.get(kind) ?? BY_ALIAS.get(kind.toLowerCase());
}

/** `NetworkPolicy.networking.k8s.io "np-backend"` / `Service "db1"`, as the API server names objects. */
export function qualifiedName(info: KindInfo, name: string): string {
  return `${info.kind}${info.group ? `.${info.group}` : ''} "${name}"`;
}

export const WORKLOAD_KINDS = ['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

export function isWorkloadKind(kind: string): kind is WorkloadKind {
  return (WORKLOAD_KINDS as readonly string[]).includes(kind);
}

/** Subresources the simulation answers, per resource. */
export const SUBRESOURCES: Record<string, string[]> = {
  pods: ['exec', 'log', 'status'],
  deployments: ['scale', 'status'],
  replicasets: ['scale', 'status'],
  statefulsets: ['scale', 'status'],
};

/** The verbs discovery lists for every served resource. */
export const RESOURCE_VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];

export function subresourceVerbs(sub: string): string[] {
  return sub === 'exec' ? ['create', 'get'] : sub === 'log' ? ['get'] : ['get', 'patch', 'update'];
}
