/**
 * A cluster's access question (what a SubjectAccessReview asks) as the RBAC engine's request, for
 * the simulated cluster that answers from the engine and for the grader that explains with it.
 */
import type { AccessRequest } from '../rbac/index.js';
import type { AccessQuery } from './types.js';

export function accessRequestOf(q: AccessQuery): AccessRequest {
  return {
    kind: 'resource',
    verb: q.verb,
    apiGroup: q.group,
    resource: q.resource,
    ...(q.subresource ? { subresource: q.subresource } : {}),
    ...(q.name ? { name: q.name } : {}),
    ...(q.namespace ? { namespace: q.namespace } : {}),
  };
}
