/**
 * Errors as the API server sends them: `meta/v1 Status` objects. kubectl prints their `message`
 * (and, for `Invalid`, rebuilds "The Kind "name" is invalid: field: message" from `details`), so
 * the wording here is what the learner reads.
 */
import { isKubelabError } from '../../../errors.js';
import type { KindInfo } from '../kinds.js';

export interface StatusCause {
  reason?: string;
  message: string;
  field?: string;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { name?: string; group?: string; kind?: string; causes?: StatusCause[] };
  code: number;
}

/** An error that the HTTP face answers with a Status and its code. */
export class ApiError extends Error {
  constructor(readonly status: Status) {
    super(status.message ?? status.reason ?? 'error');
  }
}

export function failure(
  code: number,
  reason: string,
  message: string,
  details?: Status['details'],
): ApiError {
  return new ApiError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  });
}

/** `pods "x" not found`, named by resource (plural) as the API server does. */
export function notFoundError(info: KindInfo, name: string): ApiError {
  return failure(404, 'NotFound', `${resourceWithGroup(info)} "${name}" not found`, {
    name,
    ...(info.group ? { group: info.group } : {}),
    kind: info.resource,
  });
}

export function alreadyExists(info: KindInfo, name: string): ApiError {
  return failure(409, 'AlreadyExists', `${resourceWithGroup(info)} "${name}" already exists`, {
    name,
    ...(info.group ? { group: info.group } : {}),
    kind: info.resource,
  });
}

export function conflict(info: KindInfo, name: string): ApiError {
  return failure(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${resourceWithGroup(info)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, ...(info.group ? { group: info.group } : {}), kind: info.resource },
  );
}

export function badRequest(message: string): ApiError {
  return failure(400, 'BadRequest', message);
}

/** What the simulation does not do: said plainly, never answered with something that looks right. */
export function unsupported(code: 404 | 405 | 415 | 406, what: string): ApiError {
  const reason = {
    404: 'NotFound',
    405: 'MethodNotAllowed',
    415: 'UnsupportedMediaType',
    406: 'NotAcceptable',
  }[code];
  return failure(code, reason, `the simulated cluster (kubelab) does not support ${what}`);
}

export function resourceWithGroup(info: KindInfo): string {
  return info.group ? `${info.resource}.${info.group}` : info.resource;
}

/**
 * An apply the simulation refused (BAD_INPUT with field problems) as a 422 Invalid Status. Other
 * kubelab errors become 400 (bad input), 404 or 500 with their own message.
 */
export function fromKubelabError(e: unknown, info?: KindInfo, name?: string): ApiError {
  if (e instanceof ApiError) return e;
  if (!isKubelabError(e)) {
    const message = e instanceof Error ? e.message : String(e);
    return failure(500, 'InternalError', `Internal error occurred: ${message}`);
  }
  if (e.code === 'BAD_INPUT' && info && name && e.problems.length > 0) {
    const causes = e.problems.map((p) => ({
      reason: causeReason(p.message),
      message: stripNamespaceNote(p.message),
      ...(p.path ? { field: p.path } : {}),
    }));
    const text = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message)).join(', ');
    return failure(
      422,
      'Invalid',
      `${info.kind}${info.group ? `.${info.group}` : ''} "${name}" is invalid: ${text}`,
      { name, ...(info.group ? { group: info.group } : {}), kind: info.kind, causes },
    );
  }
  const missingNamespace = /^namespaces "([^"]+)" not found/.exec(e.problems[0]?.message ?? '');
  if (missingNamespace)
    return failure(404, 'NotFound', `namespaces "${missingNamespace[1]}" not found`, {
      name: missingNamespace[1]!,
      kind: 'namespaces',
    });
  const code =
    e.code === 'NOT_FOUND' ? 404 : e.code === 'FORBIDDEN' ? 403 : e.code === 'BAD_INPUT' ? 400 : 500;
  const reason = { 404: 'NotFound', 403: 'Forbidden', 400: 'BadRequest', 500: 'InternalError' }[code]!;
  const detail = e.problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message));
  return failure(code, reason, [e.message, ...detail].join(': '));
}

function causeReason(message: string): string {
  if (message.startsWith('Required value')) return 'FieldValueRequired';
  if (message.startsWith('Unsupported value')) return 'FieldValueNotSupported';
  if (message.startsWith('Forbidden')) return 'FieldValueForbidden';
  if (message.startsWith('Duplicate value')) return 'FieldValueDuplicate';
  if (message.startsWith('unknown field')) return 'FieldValueInvalid';
  return 'FieldValueInvalid';
}

/** The simulation's own advice ("create the Namespace first") is for kubelab's CLI, not the API. */
function stripNamespaceNote(message: string): string {
  return message.replace(/: create the Namespace first \(or apply it in the same batch\)$/, '');
}
