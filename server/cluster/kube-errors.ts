/**
 * What the Kubernetes client's failures mean for a person: pure functions from an error (or an
 * exec status) to a KubelabError or an exit code, so every mapping is unit-tested with fixtures.
 */
import { badInput, environmentError, KubelabError, notFound, type Problem } from '../errors.js';
import { isRecord } from '../manifests/load.js';

/** The parts of a Kubernetes `Status` kubelab reads. */
export interface StatusBody {
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: {
    name?: string;
    kind?: string;
    causes?: Array<{ reason?: string; message?: string; field?: string }>;
  };
}

/** ApiException bodies arrive as JSON text (sometimes already parsed): read them as a Status. */
export function parseStatusBody(body: unknown): StatusBody | undefined {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return body.trim().length > 0 ? { message: body.trim().slice(0, 500) } : undefined;
    }
  }
  if (!isRecord(value)) return undefined;
  const out: StatusBody = {};
  if (typeof value.status === 'string') out.status = value.status;
  if (typeof value.message === 'string') out.message = value.message;
  if (typeof value.reason === 'string') out.reason = value.reason;
  if (typeof value.code === 'number') out.code = value.code;
  if (isRecord(value.details)) {
    const d = value.details;
    out.details = {};
    if (typeof d.name === 'string') out.details.name = d.name;
    if (typeof d.kind === 'string') out.details.kind = d.kind;
    if (Array.isArray(d.causes)) {
      out.details.causes = d.causes.filter(isRecord).map((c) => ({
        ...(typeof c.reason === 'string' ? { reason: c.reason } : {}),
        ...(typeof c.message === 'string' ? { message: c.message } : {}),
        ...(typeof c.field === 'string' ? { field: c.field } : {}),
      }));
    }
  }
  return out;
}

/** True for the client's ApiException (duck-typed: it is not exported under a stable name for instanceof everywhere). */
function apiExceptionOf(e: unknown): { code: number; body: unknown } | undefined {
  if (e instanceof Error && isRecord(e) && typeof e.code === 'number' && 'body' in e)
    return { code: e.code, body: e.body };
  return undefined;
}

/** Network-level failures (node-fetch FetchError / Node system errors / WebSocket errors). */
function networkCodeOf(e: unknown): string | undefined {
  if (!isRecord(e)) return undefined;
  for (const key of ['code', 'errno']) {
    const v = e[key];
    if (typeof v === 'string' && /^[A-Z_]+$/.test(v)) return v;
  }
  const cause = e.cause ?? e.error;
  if (cause && cause !== e) return networkCodeOf(cause);
  return undefined;
}

export interface ErrorContext {
  /** What kubelab was doing, e.g. `apply NetworkPolicy np-lab/np-backend`. */
  action: string;
  /** The API server URL, for connection errors. */
  server?: string;
}

const UNREACHABLE_HINT =
  'Is the cluster running? `kubelab cluster status` and `kubelab doctor` check it; for the kind cluster, start Docker and run `kubelab cluster up`.';

/** Maps anything the Kubernetes client threw to a KubelabError with a next step. */
export function mapKubeError(e: unknown, ctx: ErrorContext): KubelabError {
  if (e instanceof KubelabError) return e;
  const where = ctx.server ? ` at ${ctx.server}` : '';
  const api = apiExceptionOf(e);
  if (api) {
    // KubernetesObjectApi looks the kind up in the API group's discovery document first; a 404
    // there means the cluster does not serve that apiVersion at all (a CRD that is not installed),
    // not that the object is missing.
    const unserved =
      api.code === 404 && e instanceof Error
        ? /^Failed to fetch resource metadata for (.+)\/([^/:\s]+):/.exec(e.message)
        : null;
    if (unserved) return unservedKind(ctx, unserved[1]!, unserved[2]!);
    return mapApiStatus(api.code, parseStatusBody(api.body), ctx);
  }

  const err = e instanceof Error ? e : new Error(String(e));
  if (err.name === 'AbortError' || /aborted/i.test(err.message)) {
    return environmentError(
      `could not ${ctx.action}: the Kubernetes API server${where} did not answer in time.`,
      UNREACHABLE_HINT,
      e,
    );
  }
  const code = networkCodeOf(e);
  if (code) {
    if (/CERT|SELF_SIGNED|TLS|SSL|UNABLE_TO_(GET|VERIFY)/.test(code)) {
      return environmentError(
        `could not ${ctx.action}: the TLS certificate of the API server${where} was rejected (${code}).`,
        'The kubeconfig may belong to an older cluster with the same address; for kind, `kubelab cluster up` writes a fresh one.',
        e,
      );
    }
    const words: Record<string, string> = {
      ECONNREFUSED: 'connection refused',
      ENOTFOUND: 'host name not found',
      EAI_AGAIN: 'host name lookup failed',
      ETIMEDOUT: 'connection timed out',
      ECONNRESET: 'connection reset',
      EHOSTUNREACH: 'host unreachable',
      ENETUNREACH: 'network unreachable',
    };
    return environmentError(
      `could not ${ctx.action}: cannot reach the Kubernetes API server${where} (${words[code] ?? code}).`,
      UNREACHABLE_HINT,
      e,
    );
  }
  const unknownKind = /Unrecognized API version and kind: (\S+) (\S+)/.exec(err.message);
  if (unknownKind) return unservedKind(ctx, unknownKind[1]!, unknownKind[2]!);
  return environmentError(`could not ${ctx.action}: ${err.message.split('\n')[0]}`, UNREACHABLE_HINT, e);
}

function unservedKind(ctx: ErrorContext, apiVersion: string, kind: string): KubelabError {
  return badInput(
    `could not ${ctx.action}: the cluster does not serve kind ${kind} in apiVersion ${apiVersion}.`,
    [],
    'Check apiVersion and kind; for a custom resource, its CustomResourceDefinition must be installed first.',
  );
}

export function mapApiStatus(code: number, status: StatusBody | undefined, ctx: ErrorContext): KubelabError {
  const said = status?.message ? `: ${status.message}` : '';
  const what = `could not ${ctx.action}`;
  if (code === 401) {
    return environmentError(
      `${what}: the API server rejected kubelab's credentials (401 Unauthorized).`,
      'The kubeconfig credentials are wrong or expired. For the kind cluster, run `kubelab cluster up` again (it re-reads them); otherwise log in to your cluster again.',
    );
  }
  if (code === 403) {
    if (
      /being terminated|NamespaceTerminating/i.test(
        `${status?.message ?? ''} ${JSON.stringify(status?.details ?? {})}`,
      )
    ) {
      return environmentError(
        `${what}: the namespace is still being deleted${said}.`,
        'Wait a few seconds for the previous reset to finish, then try again.',
      );
    }
    return environmentError(
      `${what}: forbidden (403)${said}.`,
      "The kubeconfig user lacks permission. kubelab needs to create and delete namespaces, workloads, Services and NetworkPolicies, and to exec into pods: use an admin context (the kind cluster's is).",
    );
  }
  if (code === 404)
    return notFound(
      `${what}: not found${said}.`,
      'Check the name and namespace; `kubelab lab reset` re-creates the lab environment.',
    );
  if (code === 409)
    return environmentError(
      `${what}: conflict (409)${said}.`,
      'Something else changed the object at the same time; try again.',
    );
  if (code === 400 || code === 422) {
    const causes = status?.details?.causes ?? [];
    const problems: Problem[] = causes.map((c) => ({
      ...(c.field ? { path: c.field } : {}),
      message: c.message ?? c.reason ?? 'invalid',
    }));
    return badInput(
      `${what}: the API server rejected it as invalid${problems.length === 0 ? said : ''}.`,
      problems,
      'Fix the fields listed and apply again.',
    );
  }
  if (code === 429)
    return environmentError(
      `${what}: the API server is overloaded (429 Too Many Requests).`,
      'Wait a moment and try again.',
    );
  if (code >= 500) {
    return environmentError(
      `${what}: the API server failed (${code})${said}.`,
      'The cluster may still be starting or be unhealthy; `kubelab cluster status` shows its state.',
    );
  }
  return environmentError(
    `${what}: unexpected answer from the API server (${code})${said}.`,
    UNREACHABLE_HINT,
  );
}

export type ExecStatusOutcome = { kind: 'exit'; exitCode: number } | { kind: 'failure'; message: string };

/**
 * The exit status of an exec, from the V1Status the API server sends on the status channel:
 * Success -> 0; Failure with a cause of reason ExitCode -> that code; any other Failure means the
 * command did not run (binary missing, container gone...): an environment problem, never a result.
 */
export function interpretExecStatus(status: unknown): ExecStatusOutcome {
  const s = parseStatusBody(status);
  if (!s) return { kind: 'failure', message: 'the exec status could not be read' };
  if (s.status === 'Success') return { kind: 'exit', exitCode: 0 };
  const exitCause = s.details?.causes?.find((c) => c.reason === 'ExitCode');
  if (exitCause) {
    const n = Number(exitCause.message);
    if (Number.isInteger(n) && n >= 0) return { kind: 'exit', exitCode: n };
  }
  return { kind: 'failure', message: s.message ?? s.reason ?? 'the command could not be run' };
}

/**
 * Errors from opening the exec websocket. The upgrade fails with the HTTP status in the message
 * (`Unexpected server response: 404`); the `ws` library wraps errors in an ErrorEvent.
 */
export function mapExecOpenError(e: unknown, pod: string, server?: string): KubelabError {
  const inner = isRecord(e) && e.error instanceof Error ? e.error : e;
  const message =
    inner instanceof Error
      ? inner.message
      : isRecord(e) && typeof e.message === 'string'
        ? e.message
        : String(e);
  const http = /Unexpected server response: (\d{3})/.exec(message);
  if (http) {
    const code = Number(http[1]);
    if (code === 404)
      return environmentError(
        `cannot exec in pod ${pod}: the pod does not exist (any more).`,
        'It may have been replaced; `kubelab lab reset` re-creates the lab environment.',
      );
    if (code === 403)
      return environmentError(
        `cannot exec in pod ${pod}: forbidden (403).`,
        'The kubeconfig user needs the pods/exec permission.',
      );
    if (code === 401) return mapApiStatus(401, undefined, { action: `exec in pod ${pod}` });
    if (code === 400)
      return environmentError(
        `cannot exec in pod ${pod}: the API server refused the exec (400); the pod may not be running yet.`,
        'Wait until the pod is Running and Ready (`kubelab lab status`).',
      );
    return environmentError(`cannot exec in pod ${pod}: the API server answered ${code}.`, UNREACHABLE_HINT);
  }
  return mapKubeError(inner, { action: `exec in pod ${pod}`, ...(server ? { server } : {}) });
}
