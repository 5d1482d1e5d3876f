/**
 * The YAML a learner types into the editor: parsed with positions and limits, and narrowed to
 * the kinds the lab editor applies, so every mistake comes back with a
 * line and column instead of a vague failure later in the cluster. Besides NetworkPolicies it takes
 * the RBAC objects and ServiceAccounts the RBAC labs need.
 */
import type { KubeObject } from '../cluster/types.js';
import { KubelabError, badInput, isKubelabError, type Problem } from '../errors.js';
import type { Lab } from '../labs/model.js';
import { capProblems, isRecord, objectsOf, parseYamlDocuments, problemAt } from '../manifests/load.js';

export const EDITOR_FILE = 'your manifests';

/** The kinds the editor applies, with their apiVersion and whether they live in a namespace. */
const EDITOR_KINDS: Record<string, { apiVersion: string; namespaced: boolean }> = {
  NetworkPolicy: { apiVersion: 'networking.k8s.io/v1', namespaced: true },
  Role: { apiVersion: 'rbac.authorization.k8s.io/v1', namespaced: true },
  RoleBinding: { apiVersion: 'rbac.authorization.k8s.io/v1', namespaced: true },
  ClusterRole: { apiVersion: 'rbac.authorization.k8s.io/v1', namespaced: false },
  ClusterRoleBinding: { apiVersion: 'rbac.authorization.k8s.io/v1', namespaced: false },
  ServiceAccount: { apiVersion: 'v1', namespaced: true },
};
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function parseLearnerManifests(
  text: string,
  lab: Lab,
  limits: { maxBytes: number; maxAliasCount: number },
): KubeObject[] {
  let docs;
  try {
    docs = parseYamlDocuments(text, EDITOR_FILE, {
      maxBytes: limits.maxBytes,
      maxAliasCount: limits.maxAliasCount,
    });
  } catch (e) {
    // The loader's headline names a file ("f.yaml is not valid YAML"); here it is a plural.
    if (isKubelabError(e) && e.message.startsWith(`${EDITOR_FILE} is `)) {
      throw new KubelabError(e.code, `${EDITOR_FILE} are ${e.message.slice(EDITOR_FILE.length + 4)}`, {
        problems: e.problems,
        ...(e.hint ? { hint: e.hint } : {}),
      });
    }
    throw e;
  }
  const { objects, problems } = objectsOf(docs);
  const out: KubeObject[] = [];
  const seen = new Set<string>();
  for (const loaded of objects) {
    const o = loaded.object;
    const before = problems.length;
    const known = typeof o.kind === 'string' ? EDITOR_KINDS[o.kind] : undefined;
    if (!known) {
      problems.push(
        problemAt(
          loaded,
          ['kind'],
          `kind must be one of ${Object.keys(EDITOR_KINDS).join(', ')} (got ${JSON.stringify(o.kind ?? null)}); the editor applies these kinds only`,
        ),
      );
    } else if (o.apiVersion !== known.apiVersion) {
      problems.push(
        problemAt(
          loaded,
          ['apiVersion'],
          `apiVersion must be ${known.apiVersion} for a ${String(o.kind)} (got ${JSON.stringify(o.apiVersion ?? null)})`,
        ),
      );
    }
    const meta = o.metadata;
    if (!isRecord(meta)) {
      problems.push(problemAt(loaded, ['metadata'], 'metadata with a name is required'));
      continue;
    }
    const name = meta.name;
    if (typeof name !== 'string' || !NAME.test(name) || name.length > 253) {
      problems.push(
        problemAt(
          loaded,
          ['metadata', 'name'],
          'metadata.name must be a lowercase DNS name such as np-backend',
        ),
      );
    }
    const clusterScoped = known !== undefined && !known.namespaced;
    const namespace = clusterScoped ? '' : meta.namespace === undefined ? lab.namespace : meta.namespace;
    if (!clusterScoped && (typeof namespace !== 'string' || !NAME.test(namespace))) {
      problems.push(
        problemAt(loaded, ['metadata', 'namespace'], 'metadata.namespace must be a namespace name'),
      );
    }
    if (problems.length > before || typeof name !== 'string' || typeof namespace !== 'string') continue;
    const key = `${String(o.kind)} ${namespace ? `${namespace}/` : ''}${name}`;
    if (seen.has(key)) {
      problems.push(problemAt(loaded, ['metadata', 'name'], `${key} appears twice`));
      continue;
    }
    seen.add(key);
    const metadata = { ...(meta as KubeObject['metadata']), name };
    if (clusterScoped) delete metadata.namespace;
    else metadata.namespace = namespace;
    out.push({ ...(o as KubeObject), metadata });
  }
  if (problems.length > 0) {
    problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
    throw badInput(
      `${EDITOR_FILE} cannot be applied`,
      capProblems(problems as Problem[]),
      'Fix the lines shown and check again.',
    );
  }
  return out;
}
