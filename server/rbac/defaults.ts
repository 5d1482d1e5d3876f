/**
 * The default ClusterRoles and ClusterRoleBindings a learner meets, as the API server creates
 * them at start-up (its bootstrap policy): `cluster-admin`, and the user-facing `admin`, `edit`
 * and `view`, which are AGGREGATED: they hold no rules of their own but collect the rules of
 * every ClusterRole labelled `rbac.authorization.k8s.io/aggregate-to-{admin,edit,view}: "true"`.
 * `view` carries aggregate-to-edit and `edit` carries aggregate-to-admin, so admin > edit > view,
 * and any ClusterRole a learner labels the same way joins them.
 *
 * Not in view: Secrets, and pods/exec, pods/attach, pods/portforward (they let you read what you
 * could not). Not in edit: Roles and RoleBindings (that is admin), ResourceQuotas and
 * LimitRanges writes, Namespaces.
 *
 * Also the discovery roles bound to every authenticated user (and for public info, everyone),
 * so `/healthz`, `/version`, `/api` and self access reviews answer as on a real cluster.
 */
import type { BindingModel, PolicyRule, RoleModel } from './types.js';
import { rule } from './rules.js';
import { AUTHENTICATED, MASTERS, UNAUTHENTICATED } from './subjects.js';

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const AGGREGATE = 'rbac.authorization.k8s.io/aggregate-to-';
const BOOTSTRAP = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };

function clusterRole(
  name: string,
  rules: PolicyRule[],
  labels: Record<string, string> = {},
  aggregateFrom?: string,
): RoleModel {
  const role: RoleModel = {
    kind: 'ClusterRole',
    name,
    labels: { ...BOOTSTRAP, ...labels },
    rules,
    builtIn: true,
  };
  if (aggregateFrom)
    role.aggregationRule = {
      clusterRoleSelectors: [{ matchLabels: { [AGGREGATE + aggregateFrom]: 'true' } }],
    };
  return role;
}

const aggregateToView: PolicyRule[] = [
  rule({
    verbs: READ,
    apiGroups: [''],
    resources: [
      'configmaps',
      'endpoints',
      'persistentvolumeclaims',
      'persistentvolumeclaims/status',
      'pods',
      'replicationcontrollers',
      'replicationcontrollers/scale',
      'serviceaccounts',
      'services',
      'services/status',
    ],
  }),
  rule({
    verbs: READ,
    apiGroups: [''],
    resources: [
      'bindings',
      'events',
      'limitranges',
      'namespaces/status',
      'pods/log',
      'pods/status',
      'replicationcontrollers/status',
      'resourcequotas',
      'resourcequotas/status',
    ],
  }),
  rule({ verbs: READ, apiGroups: [''], resources: ['namespaces'] }),
  rule({ verbs: READ, apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'] }),
  rule({
    verbs: READ,
    apiGroups: ['apps'],
    resources: [
      'controllerrevisions',
      'daemonsets',
      'daemonsets/status',
      'deployments',
      'deployments/scale',
      'deployments/status',
      'replicasets',
      'replicasets/scale',
      'replicasets/status',
      'statefulsets',
      'statefulsets/scale',
      'statefulsets/status',
    ],
  }),
  rule({
    verbs: READ,
    apiGroups: ['autoscaling'],
    resources: ['horizontalpodautoscalers', 'horizontalpodautoscalers/status'],
  }),
  rule({
    verbs: READ,
    apiGroups: ['batch'],
    resources: ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status'],
  }),
  rule({
    verbs: READ,
    apiGroups: ['extensions'],
    resources: [
      'daemonsets',
      'daemonsets/status',
      'deployments',
      'deployments/scale',
      'deployments/status',
      'ingresses',
      'ingresses/status',
      'networkpolicies',
      'replicasets',
      'replicasets/scale',
      'replicasets/status',
      'replicationcontrollers/scale',
    ],
  }),
  rule({
    verbs: READ,
    apiGroups: ['policy'],
    resources: ['poddisruptionbudgets', 'poddisruptionbudgets/status'],
  }),
  rule({
    verbs: READ,
    apiGroups: ['networking.k8s.io'],
    resources: ['ingresses', 'ingresses/status', 'networkpolicies'],
  }),
];

const aggregateToEdit: PolicyRule[] = [
  rule({
    verbs: READ,
    apiGroups: [''],
    resources: ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy'],
  }),
  rule({ verbs: ['impersonate'], apiGroups: [''], resources: ['serviceaccounts'] }),
  rule({
    verbs: WRITE,
    apiGroups: [''],
    resources: ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy'],
  }),
  rule({ verbs: ['create'], apiGroups: [''], resources: ['pods/eviction'] }),
  rule({
    verbs: WRITE,
    apiGroups: [''],
    resources: [
      'configmaps',
      'events',
      'persistentvolumeclaims',
      'replicationcontrollers',
      'replicationcontrollers/scale',
      'secrets',
      'serviceaccounts',
      'services',
      'services/proxy',
    ],
  }),
  rule({ verbs: ['create'], apiGroups: [''], resources: ['serviceaccounts/token'] }),
  rule({
    verbs: WRITE,
    apiGroups: ['apps'],
    resources: [
      'daemonsets',
      'deployments',
      'deployments/rollback',
      'deployments/scale',
      'replicasets',
      'replicasets/scale',
      'statefulsets',
      'statefulsets/scale',
    ],
  }),
  rule({ verbs: WRITE, apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'] }),
  rule({ verbs: WRITE, apiGroups: ['batch'], resources: ['cronjobs', 'jobs'] }),
  rule({
    verbs: WRITE,
    apiGroups: ['extensions'],
    resources: [
      'daemonsets',
      'deployments',
      'deployments/rollback',
      'deployments/scale',
      'ingresses',
      'networkpolicies',
      'replicasets',
      'replicasets/scale',
      'replicationcontrollers/scale',
    ],
  }),
  rule({ verbs: WRITE, apiGroups: ['policy'], resources: ['poddisruptionbudgets'] }),
  rule({ verbs: WRITE, apiGroups: ['networking.k8s.io'], resources: ['ingresses', 'networkpolicies'] }),
  rule({ verbs: [...WRITE, ...READ].sort(), apiGroups: ['coordination.k8s.io'], resources: ['leases'] }),
];

const aggregateToAdmin: PolicyRule[] = [
  rule({ verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['localsubjectaccessreviews'] }),
  rule({
    verbs: [...WRITE, ...READ].sort(),
    apiGroups: ['rbac.authorization.k8s.io'],
    resources: ['rolebindings', 'roles'],
  }),
];

export const DEFAULT_CLUSTER_ROLES: readonly RoleModel[] = [
  clusterRole('cluster-admin', [
    rule({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }),
    rule({ verbs: ['*'], nonResourceURLs: ['*'] }),
  ]),
  clusterRole('admin', [], {}, 'admin'),
  clusterRole('edit', [], { [`${AGGREGATE}admin`]: 'true' }, 'edit'),
  clusterRole('view', [], { [`${AGGREGATE}edit`]: 'true' }, 'view'),
  clusterRole('system:aggregate-to-admin', aggregateToAdmin, { [`${AGGREGATE}admin`]: 'true' }),
  clusterRole('system:aggregate-to-edit', aggregateToEdit, { [`${AGGREGATE}edit`]: 'true' }),
  clusterRole('system:aggregate-to-view', aggregateToView, { [`${AGGREGATE}view`]: 'true' }),
  clusterRole('system:discovery', [
    rule({
      verbs: ['get'],
      nonResourceURLs: [
        '/api',
        '/api/*',
        '/apis',
        '/apis/*',
        '/healthz',
        '/livez',
        '/openapi',
        '/openapi/*',
        '/readyz',
        '/version',
        '/version/',
      ],
    }),
  ]),
  clusterRole('system:basic-user', [
    rule({
      verbs: ['create'],
      apiGroups: ['authorization.k8s.io'],
      resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'],
    }),
    rule({ verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'] }),
  ]),
  clusterRole('system:public-info-viewer', [
    rule({ verbs: ['get'], nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'] }),
  ]),
];

function clusterBinding(name: string, groups: string[]): BindingModel {
  return {
    kind: 'ClusterRoleBinding',
    name,
    roleRef: { kind: 'ClusterRole', name },
    subjects: groups.map((g) => ({ kind: 'Group', name: g })),
    builtIn: true,
  };
}

export const DEFAULT_CLUSTER_ROLE_BINDINGS: readonly BindingModel[] = [
  clusterBinding('cluster-admin', [MASTERS]),
  clusterBinding('system:discovery', [AUTHENTICATED]),
  clusterBinding('system:basic-user', [AUTHENTICATED]),
  clusterBinding('system:public-info-viewer', [AUTHENTICATED, UNAUTHENTICATED]),
];
