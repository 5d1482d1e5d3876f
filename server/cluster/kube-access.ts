/**
 * Access questions on a real cluster: SubjectAccessReviews (authorization.k8s.io/v1) and the
 * discovery documents, behind two small injected functions so the seams are tested without a
 * cluster. A review that could not be made is an ENVIRONMENT error, never an answer.
 */
import pLimit from 'p-limit';
import { environmentError } from '../errors.js';
import { isRecord } from '../manifests/load.js';
import type { AccessAnswer, AccessQuery, ServedResource } from './types.js';

/** Creates one SubjectAccessReview (its JSON shape) and returns the created object. */
export type CreateReview = (body: Record<string, unknown>) => Promise<unknown>;
/** GETs an API path (`/api/v1`, `/apis`, ...) and returns the parsed JSON. */
export type GetJson = (path: string) => Promise<unknown>;

export function subjectAccessReviewOf(q: AccessQuery): Record<string, unknown> {
  return {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: {
      user: q.user,
      groups: q.groups,
      resourceAttributes: {
        verb: q.verb,
        group: q.group,
        resource: q.resource,
        ...(q.subresource ? { subresource: q.subresource } : {}),
        ...(q.name ? { name: q.name } : {}),
        ...(q.namespace ? { namespace: q.namespace } : {}),
      },
    },
  };
}

export function answerOf(review: unknown, q: AccessQuery): AccessAnswer {
  const status = isRecord(review) && isRecord(review.status) ? review.status : undefined;
  if (!status || typeof status.allowed !== 'boolean')
    throw environmentError(
      `the SubjectAccessReview for ${describeQuery(q)} came back without status.allowed`,
      'Check that the API server serves authorization.k8s.io/v1 and that your user may create subjectaccessreviews.',
    );
  return {
    allowed: status.allowed,
    reason: typeof status.reason === 'string' ? status.reason : '',
    ...(typeof status.evaluationError === 'string' && status.evaluationError !== ''
      ? { evaluationError: status.evaluationError }
      : {}),
  };
}

export function describeQuery(q: AccessQuery): string {
  const res = q.subresource ? `${q.resource}/${q.subresource}` : q.resource;
  return `${q.user}: ${q.verb} ${res}${q.group ? `.${q.group}` : ''}${q.name ? ` "${q.name}"` : ''}${q.namespace ? ` in ${q.namespace}` : ' (cluster-wide)'}`;
}

export async function reviewAccessWith(
  create: CreateReview,
  queries: AccessQuery[],
  concurrency = 16,
): Promise<AccessAnswer[]> {
  const limit = pLimit(concurrency);
  return Promise.all(
    queries.map((q) =>
      limit(async () => {
        let review: unknown;
        try {
          review = await create(subjectAccessReviewOf(q));
        } catch (e) {
          throw environmentError(
            `the SubjectAccessReview for ${describeQuery(q)} failed: ${e instanceof Error ? e.message : String(e)}`,
            'Your user needs `create subjectaccessreviews` (cluster-admin has it); check the connection to the cluster.',
          );
        }
        return answerOf(review, q);
      }),
    ),
  );
}

/** Every resource and subresource of the preferred version of every group, from discovery. */
export async function servedResourcesWith(get: GetJson): Promise<ServedResource[]> {
  const lists: Array<{ gv: string; doc: unknown }> = [{ gv: 'v1', doc: await get('/api/v1') }];
  const groups = await get('/apis');
  const entries = isRecord(groups) && Array.isArray(groups.groups) ? groups.groups : [];
  const gvs = entries
    .map((g) => (isRecord(g) && isRecord(g.preferredVersion) ? g.preferredVersion.groupVersion : undefined))
    .filter((gv): gv is string => typeof gv === 'string');
  for (const gv of gvs) lists.push({ gv, doc: await get(`/apis/${gv}`) });
  const out: ServedResource[] = [];
  for (const { gv, doc } of lists) {
    const [group, version] = gv.includes('/') ? (gv.split('/') as [string, string]) : ['', gv];
    const resources = isRecord(doc) && Array.isArray(doc.resources) ? doc.resources : [];
    for (const r of resources) {
      if (!isRecord(r) || typeof r.name !== 'string') continue;
      const [resource, subresource] = r.name.split('/') as [string, string | undefined];
      out.push({
        group,
        version,
        resource,
        ...(subresource ? { subresource } : {}),
        namespaced: r.namespaced === true,
        verbs: Array.isArray(r.verbs) ? r.verbs.filter((v): v is string => typeof v === 'string') : [],
      });
    }
  }
  if (out.length === 0)
    throw environmentError(
      'discovery listed no resources',
      'Check that the API server answers /api/v1 and /apis.',
    );
  return out;
}
