/**
 * Mutants of the objects a Pod Security, ServiceAccount or Service lab's solution changes: a
 * namespace's Pod Security labels, a workload's securityContext and token automount, a
 * ServiceAccount's automount, a Service's selector and targetPort. Each is one plausible slip at
 * one place (a setting dropped, a boolean flipped, a level one step off, a port off by one).
 */
import type { KubeObject } from '../cluster/types.js';
import { isRecord } from '../manifests/load.js';

type Json = Record<string, unknown>;
export interface ObjectEdit {
  where: string;
  apply: (obj: KubeObject) => void;
}

const LEVELS = ['privileged', 'baseline', 'restricted'];
const PS = 'pod-security.kubernetes.io/';

function podSpecPath(kind: string): string[] | undefined {
  if (kind === 'Pod') return ['spec'];
  if (['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'].includes(kind))
    return ['spec', 'template', 'spec'];
  if (kind === 'CronJob') return ['spec', 'jobTemplate', 'spec', 'template', 'spec'];
  return undefined;
}

function at(obj: unknown, path: Array<string | number>): unknown {
  return path.reduce<unknown>(
    (cur, k) => (isRecord(cur) || Array.isArray(cur) ? (cur as Json)[k as string] : undefined),
    obj,
  );
}

/** Every leaf of a securityContext, as paths relative to it. */
function leaves(v: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (isRecord(v)) return Object.entries(v).flatMap(([k, x]) => leaves(x, [...prefix, k]));
  if (Array.isArray(v)) return v.length === 0 ? [prefix] : v.flatMap((x, i) => leaves(x, [...prefix, i]));
  return [prefix];
}

function setAt(root: unknown, path: Array<string | number>, value: unknown): void {
  const parent = at(root, path.slice(0, -1)) as Json;
  const last = path[path.length - 1]!;
  if (value === undefined) {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last as string];
  } else parent[last as string] = value;
}

export function objectEdits(obj: KubeObject): ObjectEdit[] {
  const edits: ObjectEdit[] = [];
  if (obj.kind === 'Namespace') {
    for (const [key, value] of Object.entries(obj.metadata.labels ?? {})) {
      if (!key.startsWith(PS)) continue;
      edits.push({ where: `drop label ${key}`, apply: (o) => delete o.metadata.labels![key] });
      if (LEVELS.includes(value))
        for (const other of LEVELS.filter((l) => l !== value))
          edits.push({ where: `label ${key}=${other}`, apply: (o) => (o.metadata.labels![key] = other) });
      const mode = key.slice(PS.length);
      for (const otherMode of ['enforce', 'warn', 'audit'].filter(
        (m) => m !== mode && LEVELS.includes(value),
      ))
        edits.push({
          where: `label ${PS}${otherMode} instead of ${key}`,
          apply: (o) => {
            delete o.metadata.labels![key];
            o.metadata.labels![`${PS}${otherMode}`] = value;
          },
        });
    }
    return edits;
  }
  if (obj.kind === 'ServiceAccount' && typeof (obj as Json).automountServiceAccountToken === 'boolean') {
    const v = (obj as Json).automountServiceAccountToken as boolean;
    edits.push({
      where: 'drop automountServiceAccountToken',
      apply: (o) => delete (o as Json).automountServiceAccountToken,
    });
    edits.push({
      where: `automountServiceAccountToken ${v} -> ${!v}`,
      apply: (o) => ((o as Json).automountServiceAccountToken = !v),
    });
    return edits;
  }
  if (obj.kind === 'Service' && isRecord(obj.spec)) {
    const selector = isRecord(obj.spec.selector) ? obj.spec.selector : {};
    for (const key of Object.keys(selector)) {
      edits.push({
        where: `drop spec.selector.${key}`,
        apply: (o) => delete ((o.spec as Json).selector as Json)[key],
      });
      edits.push({
        where: `change spec.selector.${key}`,
        apply: (o) => (((o.spec as Json).selector as Json)[key] = `${String(selector[key])}x`),
      });
    }
    (Array.isArray(obj.spec.ports) ? obj.spec.ports : []).forEach((p, i) => {
      if (!isRecord(p)) return;
      const port = () => (o: KubeObject) => ((o.spec as Json).ports as Json[])[i]!;
      if (p.targetPort !== undefined)
        edits.push({ where: `drop spec.ports[${i}].targetPort`, apply: (o) => delete port()(o).targetPort });
      if (typeof p.targetPort === 'number')
        edits.push({
          where: `spec.ports[${i}].targetPort + 1`,
          apply: (o) => (port()(o).targetPort = (p.targetPort as number) + 1),
        });
      if (typeof p.targetPort === 'string')
        edits.push({
          where: `spec.ports[${i}].targetPort by a wrong name`,
          apply: (o) => (port()(o).targetPort = `${p.targetPort as string}x`),
        });
    });
    return edits;
  }
  const specPath = podSpecPath(obj.kind);
  if (!specPath) return edits;
  const spec = at(obj, specPath);
  if (!isRecord(spec)) return edits;
  const sp = specPath.join('.');
  if (typeof spec.automountServiceAccountToken === 'boolean') {
    const v = spec.automountServiceAccountToken;
    edits.push({
      where: `drop ${sp}.automountServiceAccountToken`,
      apply: (o) => delete (at(o, specPath) as Json).automountServiceAccountToken,
    });
    edits.push({
      where: `${sp}.automountServiceAccountToken -> ${!v}`,
      apply: (o) => ((at(o, specPath) as Json).automountServiceAccountToken = !v),
    });
  }
  const contexts: Array<Array<string | number>> = [];
  if (isRecord(spec.securityContext)) contexts.push([...specPath, 'securityContext']);
  for (const list of ['initContainers', 'containers'])
    (Array.isArray(spec[list]) ? (spec[list] as unknown[]) : []).forEach((c, i) => {
      if (isRecord(c) && isRecord(c.securityContext))
        contexts.push([...specPath, list, i, 'securityContext']);
    });
  for (const ctxPath of contexts) {
    const name = ctxPath.join('.');
    edits.push({ where: `drop ${name}`, apply: (o) => setAt(o, ctxPath, undefined) });
    for (const leaf of leaves(at(obj, ctxPath))) {
      const full = [...ctxPath, ...leaf];
      const value = at(obj, full);
      const where = full.join('.');
      edits.push({ where: `drop ${where}`, apply: (o) => setAt(o, full, undefined) });
      if (typeof value === 'boolean')
        edits.push({ where: `${where} -> ${!value}`, apply: (o) => setAt(o, full, !value) });
      if (typeof value === 'number') edits.push({ where: `${where} -> 0`, apply: (o) => setAt(o, full, 0) });
      if (value === 'ALL')
        edits.push({ where: `${where} ALL -> NET_RAW`, apply: (o) => setAt(o, full, 'NET_RAW') });
      if (value === 'RuntimeDefault')
        edits.push({ where: `${where} -> Unconfined`, apply: (o) => setAt(o, full, 'Unconfined') });
    }
  }
  return edits;
}
