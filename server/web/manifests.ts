/**
 * The YAML a learner types into the editor: parsed with positions and limits, and narrowed to
 * NetworkPolicy objects (the only kind the lab editor applies), so every mistake comes back with a
 * line and column instead of a vague failure later in the cluster.
 */
import type { KubeObject } from '../cluster/types.js';
import { KubelabError, badInput, isKubelabError, type Problem } from '../errors.js';
import type { Lab } from '../labs/model.js';
import { capProblems, isRecord, objectsOf, parseYamlDocuments, problemAt } from '../manifests/load.js';

export const EDITOR_FILE = 'your manifests';
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * The kinds a lab's editor applies, with their apiVersions: NetworkPolicies for NetworkPolicy labs;
 * for the other domains also what their tasks change (namespace labels, workloads, Services,
 * ServiceAccounts). The scenario's own objects stay protected by the grader's guard, except those
 * the lab lists as changeable.
 */
export function editorKinds(lab: Lab): Record<string, string> {
  const kinds: Record<string, string> = { NetworkPolicy: 'networking.k8s.io/v1' };
  if ((lab.domain ?? 'networkpolicy') === 'networkpolicy') return kinds;
  return {
    ...kinds,
    Namespace: 'v1',
    Pod: 'v1',
    Service: 'v1',
    ServiceAccount: 'v1',
    Deployment: 'apps/v1',
    StatefulSet: 'apps/v1',
    DaemonSet: 'apps/v1',
  };
}

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
    const kinds = editorKinds(lab);
    const apiVersion = typeof o.kind === 'string' ? kinds[o.kind] : undefined;
    if (apiVersion === undefined) {
      problems.push(
        problemAt(
          loaded,
          ['kind'],
          Object.keys(kinds).length === 1
            ? `kind must be NetworkPolicy (got ${JSON.stringify(o.kind ?? null)}); the editor applies NetworkPolicies only`
            : `kind must be one of ${Object.keys(kinds).join(', ')} (got ${JSON.stringify(o.kind ?? null)}); the editor of this lab applies those only`,
        ),
      );
    }
    // For a NetworkPolicy-only editor an unknown kind still gets the apiVersion it should have had.
    const wantedVersion = apiVersion ?? (Object.keys(kinds).length === 1 ? kinds.NetworkPolicy : undefined);
    if (wantedVersion !== undefined && o.apiVersion !== wantedVersion) {
      problems.push(
        problemAt(
          loaded,
          ['apiVersion'],
          `apiVersion must be ${wantedVersion} (got ${JSON.stringify(o.apiVersion ?? null)})`,
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
    const clusterScoped = o.kind === 'Namespace';
    const namespace = clusterScoped ? '' : meta.namespace === undefined ? lab.namespace : meta.namespace;
    if (!clusterScoped && (typeof namespace !== 'string' || !NAME.test(namespace))) {
      problems.push(
        problemAt(loaded, ['metadata', 'namespace'], 'metadata.namespace must be a namespace name'),
      );
    }
    if (problems.length > before || typeof name !== 'string' || typeof namespace !== 'string') continue;
    const key = `${String(o.kind)} ${clusterScoped ? '' : `${namespace}/`}${name}`;
    if (seen.has(key)) {
      problems.push(problemAt(loaded, ['metadata', 'name'], `${key} appears twice`));
      continue;
    }
    seen.add(key);
    out.push({
      ...(o as KubeObject),
      metadata: { ...(meta as KubeObject['metadata']), name, ...(clusterScoped ? {} : { namespace }) },
    });
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
