/**
 * Checks on live objects, the same on both clusters:
 * - `admission`: would the API server admit this? Asked with a server-side dry run, so Pod
 *   Security (and any other admission plugin) answers, not a copy of its rules. Workloads are
 *   judged by their pods: the workload object is always accepted, its pods are refused when the
 *   controller creates them, so each workload's pod template is asked about as a Pod.
 * - `state`: fields of live objects (a namespace label, a ServiceAccount's automount, a
 *   Deployment's ready replicas, every pod of a set).
 * A dry run or a read that fails is an environment problem, never a pass and never the learner's
 * fault; a workload or object that does not exist is a fail (deleting it fixes nothing).
 */
import type { AdmissionAnswer, Cluster, KubeObject, ListableKind } from '../cluster/types.js';
import { isKubelabError } from '../errors.js';
import { readManifestFile } from '../labs/index.js';
import type { AdmissionCheck, StateAssertion, StateCheck } from '../labs/model.js';
import { isRecord } from '../manifests/load.js';
import { formatSelector, matchesSelector } from '../netpol/index.js';
import type { CheckResult } from './report.js';

type Json = Record<string, unknown>;

const TEMPLATE_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'] as const;

function result(
  check: AdmissionCheck | StateCheck,
  status: CheckResult['status'],
  messages: string[],
): CheckResult {
  return { id: check.id, title: check.title, kind: check.kind, status, messages, probes: [] };
}

function errorText(e: unknown): string {
  if (isKubelabError(e)) return e.message;
  throw e;
}

/** The pod metadata and spec a workload's controller would create (a bare Pod: its own). */
function podTemplateOf(obj: KubeObject): { metadata: Json; spec: Json } | undefined {
  const spec = isRecord(obj.spec) ? obj.spec : {};
  if (obj.kind === 'Pod') {
    const { nodeName: _node, ...rest } = spec;
    return {
      metadata: { labels: obj.metadata.labels ?? {}, annotations: obj.metadata.annotations ?? {} },
      spec: rest,
    };
  }
  const template =
    obj.kind === 'CronJob'
      ? (spec.jobTemplate as { spec?: { template?: unknown } } | undefined)?.spec?.template
      : spec.template;
  if (!isRecord(template) || !isRecord(template.spec)) return undefined;
  return { metadata: isRecord(template.metadata) ? template.metadata : {}, spec: template.spec };
}

/** A Pod as the controller of `obj` would ask the API server to create it. */
function podFor(obj: KubeObject, namespace: string): KubeObject | undefined {
  const t = podTemplateOf(obj);
  if (!t) return undefined;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `kubelab-admission-${obj.kind.toLowerCase()}-${obj.metadata.name}`
        .slice(0, 63)
        .replace(/-+$/, ''),
      namespace,
      ...(isRecord(t.metadata.labels) ? { labels: t.metadata.labels as Record<string, string> } : {}),
      ...(isRecord(t.metadata.annotations)
        ? { annotations: t.metadata.annotations as Record<string, string> }
        : {}),
    },
    spec: t.spec,
  };
}

const controlled = (o: KubeObject) =>
  Array.isArray(o.metadata.ownerReferences) &&
  o.metadata.ownerReferences.some((r) => isRecord(r) && r.controller === true);

async function subjectsOf(
  cluster: Cluster,
  check: AdmissionCheck,
): Promise<{ subjects: Array<{ what: string; object: KubeObject }>; missing: string[] }> {
  const ns = check.namespace;
  const subjects: Array<{ what: string; object: KubeObject }> = [];
  const missing: string[] = [];
  if (check.manifest !== undefined) {
    const [obj] = await readManifestFile(check.manifest);
    if (!obj) throw new Error(`${check.manifest} holds no object`);
    const object: KubeObject = {
      ...obj,
      metadata: {
        ...obj.metadata,
        name: `kubelab-admission-${obj.metadata.name}`.slice(0, 63),
        namespace: ns,
      },
    };
    if (object.kind !== 'Pod') {
      // A workload is always accepted: what matters is whether its pods would be.
      const pod = podFor(object, ns);
      if (pod)
        subjects.push({ what: `${obj.kind} ${obj.metadata.name} (as the pods it creates)`, object: pod });
      else subjects.push({ what: `${obj.kind} ${obj.metadata.name}`, object });
    } else subjects.push({ what: `Pod ${obj.metadata.name}`, object });
    return { subjects, missing };
  }
  const kinds =
    check.workloads === 'all'
      ? [...TEMPLATE_KINDS, 'CronJob', 'Pod']
      : [...new Set(check.workloads!.map((w) => w.kind))];
  const live = new Map<string, KubeObject[]>();
  for (const kind of kinds) live.set(kind, await cluster.list(kind as ListableKind, ns));
  const wanted =
    check.workloads === 'all'
      ? [...live.entries()].flatMap(([kind, list]) =>
          // Pods and ReplicaSets a controller made are judged through that controller.
          list
            .filter((o) => !((kind === 'Pod' || kind === 'ReplicaSet' || kind === 'Job') && controlled(o)))
            .map((o) => ({ kind, name: o.metadata.name })),
        )
      : check.workloads!;
  for (const w of wanted) {
    const obj = live.get(w.kind)?.find((o) => o.metadata.name === w.name);
    if (!obj) {
      missing.push(
        `${w.kind} ${ns}/${w.name} does not exist: the task is to make it admissible, not to remove it.`,
      );
      continue;
    }
    const pod = podFor(obj, ns);
    if (pod)
      subjects.push({ what: `${w.kind} ${w.name}${w.kind === 'Pod' ? '' : ' (its pods)'}`, object: pod });
  }
  if (check.workloads === 'all' && wanted.length === 0)
    missing.push(`namespace ${ns} has no workloads or pods: there is nothing to admit (were they deleted?).`);
  return { subjects, missing };
}

export async function runAdmissionCheck(cluster: Cluster, check: AdmissionCheck): Promise<CheckResult> {
  if (!cluster.dryRunCreate)
    return result(check, 'error', [
      `${cluster.description} cannot answer admission questions (no server-side dry run).`,
    ]);
  let found;
  try {
    found = await subjectsOf(cluster, check);
  } catch (e) {
    return result(check, 'error', [`could not read the objects to judge: ${errorText(e)}`]);
  }
  const answers: Array<{ what: string; answer: AdmissionAnswer }> = [];
  for (const s of found.subjects) {
    try {
      answers.push({ what: s.what, answer: await cluster.dryRunCreate(s.object) });
    } catch (e) {
      return result(check, 'error', [`${s.what}: the dry run could not answer: ${errorText(e)}`]);
    }
  }
  const fails: string[] = [...found.missing];
  const passes: string[] = [];
  for (const { what, answer } of answers) {
    const warned = answer.warnings.length > 0 ? ` with warning: ${answer.warnings.join('; ')}` : '';
    if (check.expect === 'rejected') {
      if (answer.admitted)
        fails.push(`${what} is admitted in namespace ${check.namespace}${warned}, but it must be refused.`);
      else passes.push(`${what} is refused: ${answer.message ?? ''}`);
      continue;
    }
    if (!answer.admitted) {
      fails.push(`${what} would be refused: ${answer.message ?? ''}`);
    } else if (check.warnings === 'none' && answer.warnings.length > 0) {
      fails.push(`${what} is admitted but warned about: ${answer.warnings.join('; ')}`);
    } else if (check.warnings === 'some' && answer.warnings.length === 0) {
      fails.push(`${what} is admitted without any warning, but the namespace should warn about it.`);
    } else passes.push(`${what} is admitted${warned}.`);
  }
  return fails.length > 0 ? result(check, 'fail', fails) : result(check, 'pass', passes);
}

// ---- state -----------------------------------------------------------------------------------

type Segment = { key: string } | { index: number } | { any: true };

/** `spec.containers[*].image`, `metadata.labels["a.b/c"]` -> segments. */
export function parseFieldPath(path: string): Segment[] {
  const out: Segment[] = [];
  const re = /([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[\*\]|\["([^"]+)"\]|\./g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(path)) !== null) {
    if (m[1] !== undefined) out.push({ key: m[1] });
    else if (m[2] !== undefined) out.push({ index: Number(m[2]) });
    else if (m[3] !== undefined) out.push({ key: m[3] });
    else if (m[0] === '[*]') out.push({ any: true });
  }
  return out;
}

/** Every value at the path (wildcards expand); absent fields contribute nothing. */
export function valuesAt(obj: unknown, path: string): unknown[] {
  let current: unknown[] = [obj];
  for (const seg of parseFieldPath(path)) {
    const next: unknown[] = [];
    for (const v of current) {
      if ('key' in seg) {
        if (isRecord(v) && v[seg.key] !== undefined) next.push(v[seg.key]);
      } else if ('index' in seg) {
        if (Array.isArray(v) && seg.index < v.length) next.push(v[seg.index]);
      } else if (Array.isArray(v)) next.push(...v);
    }
    current = next;
  }
  return current;
}

const show = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? 'nothing'));

/** Undefined when the assertion holds, else what was found instead. */
export function assertionProblem(values: unknown[], a: StateAssertion): string | undefined {
  const found = values.length === 0 ? 'absent' : values.map(show).join(', ');
  if (a.absent) return values.length === 0 ? undefined : `is ${found}, expected it to be absent`;
  if (a.exists) return values.length > 0 ? undefined : 'is absent, expected it to be set';
  if (a.equals !== undefined)
    return values.length > 0 && values.every((v) => v === a.equals)
      ? undefined
      : `is ${found}, expected ${show(a.equals)}`;
  const allowed = a.oneOf ?? [];
  if (values.length === 0)
    return allowed.includes(null) ? undefined : `is absent, expected one of ${allowed.map(show).join(', ')}`;
  return values.every((v) => allowed.includes(v as string | number | boolean))
    ? undefined
    : `is ${found}, expected one of ${allowed.map((x) => (x === null ? 'absent' : show(x))).join(', ')}`;
}

export async function runStateCheck(cluster: Cluster, check: StateCheck): Promise<CheckResult> {
  let targets: Array<{ what: string; object: KubeObject }>;
  try {
    if (check.object) {
      const { kind, name, namespace } = check.object;
      const list = await cluster.list(kind as ListableKind, kind === 'Namespace' ? undefined : namespace);
      const obj = list.find((o) => o.metadata.name === name);
      const what = kind === 'Namespace' ? `Namespace ${name}` : `${kind} ${namespace}/${name}`;
      if (!obj) return result(check, 'fail', [`${what} does not exist.`]);
      targets = [{ what, object: obj }];
    } else {
      const set = check.pods!;
      const pods = (await cluster.list('Pod', set.namespace)).filter((p) =>
        matchesSelector(set.podSelector, p.metadata.labels ?? {}),
      );
      if (pods.length === 0)
        return result(check, 'fail', [
          `no pod in ${set.namespace} matches ${formatSelector(set.podSelector)}: with no pods there is nothing that holds (were they deleted or refused?).`,
        ]);
      targets = pods.map((p) => ({ what: `pod ${set.namespace}/${p.metadata.name}`, object: p }));
    }
  } catch (e) {
    return result(check, 'error', [`could not read the cluster: ${errorText(e)}`]);
  }
  const fails: string[] = [];
  for (const t of targets) {
    for (const a of check.assert) {
      const problem = assertionProblem(valuesAt(t.object, a.path), a);
      if (problem) fails.push(`${t.what}: ${a.path} ${problem}${a.why ? ` (${a.why})` : ''}.`);
    }
  }
  if (fails.length > 0) return result(check, 'fail', fails);
  return result(check, 'pass', [
    targets.length === 1
      ? `${targets[0]!.what}: every assertion holds.`
      : `every assertion holds for each of ${targets.length} objects.`,
  ]);
}
