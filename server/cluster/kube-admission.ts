/**
 * Reading a server-side dry-run create as an admission answer (the seams of KubeCluster.dryRunCreate,
 * kept pure so they are tested without a cluster). The API server says "refused by admission" with
 * 403 Forbidden (Pod Security) and adds `Warning: 299 - "..."` headers for warn mode; anything
 * else that fails is not an answer about admission and must not be read as one.
 */
import { environmentError, badInput } from '../errors.js';
import type { AdmissionAnswer, KubeObject } from './types.js';
import { parseStatusBody } from './kube-errors.js';

/** The messages of `Warning` header values (`299 - "text"`, several per header possible). */
export function parseWarningHeaders(values: ReadonlyArray<string | undefined>): string[] {
  const out: string[] = [];
  for (const value of values) {
    if (!value) continue;
    const re = /\d{3}\s+\S+\s+"((?:[^"\\]|\\.)*)"/g;
    let m: RegExpExecArray | null;
    let found = false;
    while ((m = re.exec(value)) !== null) {
      found = true;
      out.push(m[1]!.replace(/\\(.)/g, '$1'));
    }
    if (!found && value.trim() !== '') out.push(value.trim());
  }
  return out;
}

/** The answer for a dry run that returned (admitted) or failed with `code` and `body`. */
export function admissionAnswerOf(
  object: KubeObject,
  outcome: { ok: true; warnings: string[] } | { ok: false; code: number; body: unknown; warnings: string[] },
): AdmissionAnswer {
  const base = {
    kind: object.kind,
    ...(object.metadata.namespace ? { namespace: object.metadata.namespace } : {}),
    name: object.metadata.name,
    warnings: outcome.warnings,
  };
  if (outcome.ok) return { ...base, admitted: true };
  const status = parseStatusBody(outcome.body);
  const message = status?.message ?? `HTTP ${outcome.code}`;
  // A 403 is also what RBAC answers ("cannot create resource"): only an admission plugin's refusal
  // is an answer about admission.
  if (outcome.code === 403 && /violates PodSecurity|denied the request/.test(message))
    return { ...base, admitted: false, message };
  const what = `${object.kind} ${object.metadata.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata.name}`;
  if (outcome.code === 422 || outcome.code === 400)
    throw badInput(
      `the API server refused the dry run of ${what} as invalid, so its admission cannot be judged: ${message}`,
      [],
      'The object the lab asks about is broken: fix the lab (or the object) and check again.',
    );
  throw environmentError(
    `the dry run of ${what} failed (HTTP ${outcome.code}: ${message}), so its admission is unknown`,
    'Check that you may create this kind of object in the namespace, then check again.',
  );
}
