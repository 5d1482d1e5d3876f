/**
 * parseResourceRequest: `kubectl auth can-i VERB RESOURCE[/SUB] [NAME]` to an AccessRequest, with
 * the discovery kubectl does: short names and kinds (`po`, `deploy`, `Deployment`) become the
 * plural resource and its API group, `RESOURCE.GROUP` names the group itself, and a cluster-scoped
 * resource is asked about cluster-wide whatever the namespace. A path starting with `/` is a
 * non-resource URL. A resource this table does not know is asked about in the core group, as
 * kubectl does after warning that the server has no such resource type.
 */
import type { AccessRequest } from './types.js';

interface ResourceInfo {
  resource: string;
  group: string;
  namespaced: boolean;
  aliases: string[];
}

const R = (resource: string, group: string, namespaced: boolean, ...aliases: string[]): ResourceInfo => ({
  resource,
  group,
  namespaced,
  aliases,
});

/** The resources of a kind cluster learners meet, with the short names kubectl accepts. */
export const KNOWN_RESOURCES: readonly ResourceInfo[] = [
  R('pods', '', true, 'po', 'pod'),
  R('services', '', true, 'svc', 'service'),
  R('endpoints', '', true, 'ep'),
  R('configmaps', '', true, 'cm', 'configmap'),
  R('secrets', '', true, 'secret'),
  R('serviceaccounts', '', true, 'sa', 'serviceaccount'),
  R('persistentvolumeclaims', '', true, 'pvc', 'persistentvolumeclaim'),
  R('events', '', true, 'ev', 'event'),
  R('limitranges', '', true, 'limits', 'limitrange'),
  R('resourcequotas', '', true, 'quota', 'resourcequota'),
  R('replicationcontrollers', '', true, 'rc', 'replicationcontroller'),
  R('namespaces', '', false, 'ns', 'namespace'),
  R('nodes', '', false, 'no', 'node'),
  R('persistentvolumes', '', false, 'pv', 'persistentvolume'),
  R('deployments', 'apps', true, 'deploy', 'deployment'),
  R('replicasets', 'apps', true, 'rs', 'replicaset'),
  R('statefulsets', 'apps', true, 'sts', 'statefulset'),
  R('daemonsets', 'apps', true, 'ds', 'daemonset'),
  R('controllerrevisions', 'apps', true, 'controllerrevision'),
  R('jobs', 'batch', true, 'job'),
  R('cronjobs', 'batch', true, 'cj', 'cronjob'),
  R('horizontalpodautoscalers', 'autoscaling', true, 'hpa', 'horizontalpodautoscaler'),
  R('ingresses', 'networking.k8s.io', true, 'ing', 'ingress'),
  R('networkpolicies', 'networking.k8s.io', true, 'netpol', 'networkpolicy'),
  R('ingressclasses', 'networking.k8s.io', false, 'ingressclass'),
  R('endpointslices', 'discovery.k8s.io', true, 'endpointslice'),
  R('poddisruptionbudgets', 'policy', true, 'pdb', 'poddisruptionbudget'),
  R('roles', 'rbac.authorization.k8s.io', true, 'role'),
  R('rolebindings', 'rbac.authorization.k8s.io', true, 'rolebinding'),
  R('clusterroles', 'rbac.authorization.k8s.io', false, 'clusterrole'),
  R('clusterrolebindings', 'rbac.authorization.k8s.io', false, 'clusterrolebinding'),
  R('storageclasses', 'storage.k8s.io', false, 'sc', 'storageclass'),
  R('leases', 'coordination.k8s.io', true, 'lease'),
  R('customresourcedefinitions', 'apiextensions.k8s.io', false, 'crd', 'crds', 'customresourcedefinition'),
  R('selfsubjectaccessreviews', 'authorization.k8s.io', false),
  R('selfsubjectrulesreviews', 'authorization.k8s.io', false),
  R('subjectaccessreviews', 'authorization.k8s.io', false),
  R('localsubjectaccessreviews', 'authorization.k8s.io', true),
  R('tokenreviews', 'authentication.k8s.io', false),
  R('selfsubjectreviews', 'authentication.k8s.io', false),
  R('certificatesigningrequests', 'certificates.k8s.io', false, 'csr', 'certificatesigningrequest'),
];

export interface ParsedRequest {
  request: AccessRequest;
  /** What kubectl would warn about (unknown resource, namespace ignored). */
  warnings: string[];
}

export function parseResourceRequest(
  verb: string,
  resourceArg: string,
  name: string | undefined,
  namespace: string,
): ParsedRequest {
  const warnings: string[] = [];
  if (resourceArg.startsWith('/')) {
    return { request: { kind: 'nonResource', verb, path: resourceArg }, warnings };
  }
  const slash = resourceArg.indexOf('/');
  const resourcePart = slash < 0 ? resourceArg : resourceArg.slice(0, slash);
  const subresource = slash < 0 ? undefined : resourceArg.slice(slash + 1);
  const dot = resourcePart.indexOf('.');
  const bare = (dot < 0 ? resourcePart : resourcePart.slice(0, dot)).toLowerCase();
  const explicitGroup = dot < 0 ? undefined : resourcePart.slice(dot + 1);
  const info = KNOWN_RESOURCES.find(
    (r) =>
      (r.resource === bare || r.aliases.includes(bare)) &&
      (explicitGroup === undefined || r.group === explicitGroup),
  );
  let resource = bare;
  let group = explicitGroup ?? '';
  let namespaced = true;
  if (info) {
    resource = info.resource;
    group = info.group;
    namespaced = info.namespaced;
  } else if (explicitGroup === undefined) {
    warnings.push(
      `the server doesn't have a resource type '${bare}' known to kubelab; asking about it in the core API group`,
    );
  }
  const request: AccessRequest = { kind: 'resource', verb, apiGroup: group, resource };
  if (subresource) request.subresource = subresource;
  if (name) request.name = name;
  if (namespaced) request.namespace = namespace;
  else warnings.push(`resource '${resource}' is not namespace scoped: asking cluster-wide`);
  return { request, warnings };
}
