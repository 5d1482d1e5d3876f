/**
 * RBAC in the simulated cluster: the authorizer (server/rbac, with the API server's default
 * ClusterRoles and bindings underneath the stored objects), the clusterrole-aggregation controller,
 * and who the requests come from.
 *
 * Identities, as on a kind cluster: the learner's kubeconfig is the cluster's admin, user
 * `kubernetes-admin` in group `system:masters` (kind's admin.conf is a client certificate for that
 * user; system:masters is bound to cluster-admin and skips the escalation checks). Impersonation
 * (`kubectl --as/--as-group`, the Impersonate-User/Impersonate-Group headers) makes every request,
 * SelfSubjectAccessReviews included, be authorized as that user.
 */
import {
  AUTHENTICATED,
  buildRbacModel,
  compileRbac,
  impersonatedUser,
  isRbacKind,
  MASTERS,
  type AccessRequest,
  type CompiledRbac,
  type UserInfo,
} from '../../rbac/index.js';
import type { KubeObject } from '../types.js';

export const ADMIN_USER: UserInfo = { name: 'kubernetes-admin', groups: [MASTERS, AUTHENTICATED] };

/** The roles and bindings of these objects (any other kind is ignored), defaults included. */
export function compileClusterRbac(objects: readonly KubeObject[]): CompiledRbac {
  const { model } = buildRbacModel(objects.filter((o) => isRbacKind(o.kind)));
  return compileRbac(model);
}

/**
 * The clusterrole-aggregation controller: every ClusterRole with an aggregationRule gets, as its
 * `rules`, the rules of the ClusterRoles its selectors match. Returns the roles whose rules changed.
 */
export function aggregatedRules(
  clusterRoles: readonly KubeObject[],
  rbac: CompiledRbac,
): Array<{ name: string; rules: unknown[] }> {
  const out: Array<{ name: string; rules: unknown[] }> = [];
  for (const role of clusterRoles) {
    if (role.aggregationRule === undefined || role.aggregationRule === null) continue;
    const rules = (rbac.rulesOf('ClusterRole', role.metadata.name) ?? []).map((r) => ({
      ...(r.apiGroups.length > 0 || r.resources.length > 0 ? { apiGroups: r.apiGroups } : {}),
      ...(r.resources.length > 0 ? { resources: r.resources } : {}),
      ...(r.resourceNames.length > 0 ? { resourceNames: r.resourceNames } : {}),
      ...(r.nonResourceURLs.length > 0 ? { nonResourceURLs: r.nonResourceURLs } : {}),
      verbs: r.verbs,
    }));
    if (JSON.stringify(rules) !== JSON.stringify(role.rules ?? []))
      out.push({ name: role.metadata.name, rules });
  }
  return out;
}

type Headers = Record<string, string | string[] | undefined>;

const list = (v: string | string[] | undefined): string[] =>
  v === undefined
    ? []
    : (Array.isArray(v) ? v : [v])
        .flatMap((x) => x.split(','))
        .map((x) => x.trim())
        .filter(Boolean);

/**
 * Who a request comes from: the admin, or whom it impersonates. Returns an error text for an
 * Impersonate-Group without an Impersonate-User (the API server refuses that too).
 */
export function requestUser(headers: Headers): UserInfo | { error: string } {
  const user = list(headers['impersonate-user'])[0];
  const groups = list(headers['impersonate-group']);
  if (user === undefined) {
    if (groups.length > 0)
      return {
        error: `requested [${groups.map((g) => `{Kind=Group Name=${g}}`).join(' ')}] without impersonating a user`,
      };
    return ADMIN_USER;
  }
  return impersonatedUser(user, groups);
}

/** The API server's verb for an HTTP request on a resource URL. */
export function requestVerb(method: string, hasName: boolean, watch: boolean): string {
  switch (method) {
    case 'GET':
      return watch ? 'watch' : hasName ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return hasName ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}

/** `pods "x" is forbidden: User "u" cannot get resource "pods" in API group "" in the namespace "n"`. */
export function forbiddenMessage(user: UserInfo, req: AccessRequest): string {
  if (req.kind === 'nonResource')
    return `forbidden: User "${user.name}" cannot ${req.verb} path "${req.path}"`;
  const resource = req.subresource ? `${req.resource}/${req.subresource}` : req.resource;
  const what = req.apiGroup ? `${req.resource}.${req.apiGroup}` : req.resource;
  const named = req.name ? `${what} "${req.name}"` : what;
  const scope = req.namespace ? `in the namespace "${req.namespace}"` : 'at the cluster scope';
  return `${named} is forbidden: User "${user.name}" cannot ${req.verb} resource "${resource}" in API group "${req.apiGroup}" ${scope}`;
}
