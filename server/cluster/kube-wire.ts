/**
 * Converting between the Kubernetes wire shape (what YAML and the API server speak, and what the
 * rest of kubelab handles) and @kubernetes/client-node's model objects.
 *
 * THE TRAP this module exists for: the client serializes every request body through its typed
 * models, and the models rename some fields. NetworkPolicy `ingress[].from` is `_from` in the model,
 * so a plain object with `from` goes through the serializer and comes out WITHOUT it: the rule then
 * allows everyone, silently. CRD schemas lose `enum`, `default` and `x-kubernetes-*` the same way.
 * Objects must therefore be turned into model objects with the client's own `loadYaml` (which maps
 * `from` -> `_from`), and model objects coming back must be serialized again before anyone reads
 * them. test/cluster/kube-wire.test.ts pins both directions; do not "simplify" this away.
 */
import { dumpYaml, loadYaml, type KubernetesObject } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { badInput, type Problem } from '../errors.js';
import { isRecord } from '../manifests/load.js';
import type { KubeObject } from './types.js';

/** A model object the client can send (its serializer will restore wire field names). */
export function toClientObject(obj: KubeObject): KubernetesObject {
  // JSON is YAML, so the client's own YAML loader does the wire -> model mapping for us.
  return loadYaml<KubernetesObject>(JSON.stringify(obj));
}

/**
 * The wire shape of a model object as the client would send it. List items come back without
 * apiVersion/kind, and without them the serializer cannot pick the model (and would leak model
 * names such as `_from`), so they are set first.
 */
export function toWireObject(model: unknown, typeMeta?: { apiVersion: string; kind: string }): KubeObject {
  const withType =
    typeMeta && isRecord(model) ? { ...model, apiVersion: typeMeta.apiVersion, kind: typeMeta.kind } : model;
  const wire: unknown = parse(dumpYaml(withType));
  if (!isRecord(wire) || !isRecord(wire.metadata)) {
    throw new Error('toWireObject: not a Kubernetes object');
  }
  return wire as KubeObject;
}

/**
 * Field paths present in `original` but missing from `wire`: fields the client's models do not
 * know and would silently drop. `null` values and `status` are ignored (both mean nothing to apply).
 */
export function droppedFields(original: unknown, wire: unknown, path = ''): string[] {
  if (Array.isArray(original)) {
    if (!Array.isArray(wire)) return wire === undefined ? [path] : [];
    return original.flatMap((item, i) => droppedFields(item, wire[i], `${path}[${i}]`));
  }
  if (!isRecord(original)) return [];
  if (!isRecord(wire)) return wire === undefined ? [path] : [];
  const out: string[] = [];
  for (const [key, value] of Object.entries(original)) {
    if (value === null || value === undefined) continue;
    if (path === '' && key === 'status') continue;
    const child = path === '' ? key : `${path}.${key}`;
    if (!(key in wire)) out.push(child);
    else out.push(...droppedFields(value, wire[key], child));
  }
  return out;
}

export interface PreparedObject {
  /** What the caller gave us. */
  wire: KubeObject;
  /** The model object to hand to the client. */
  model: KubernetesObject;
}

export const objectRef = (o: KubeObject): string =>
  `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;

/**
 * Converts every object for sending and proves the conversion lost nothing: whatever the client
 * would put on the wire is compared with the input, and any missing field is a BAD_INPUT problem
 * (all of them reported at once) rather than a silently different object in the cluster.
 */
export function prepareForApply(objects: KubeObject[]): PreparedObject[] {
  const problems: Problem[] = [];
  const prepared: PreparedObject[] = [];
  for (const obj of objects) {
    if (
      !isRecord(obj) ||
      typeof obj.apiVersion !== 'string' ||
      typeof obj.kind !== 'string' ||
      !isRecord(obj.metadata) ||
      !obj.metadata.name
    ) {
      problems.push({ message: `${describeLoose(obj)}: needs apiVersion, kind and metadata.name` });
      continue;
    }
    let model: KubernetesObject;
    try {
      model = toClientObject(obj);
    } catch (e) {
      problems.push({ message: `${objectRef(obj)}: could not be converted: ${(e as Error).message}` });
      continue;
    }
    const lost = droppedFields(obj, toWireObject(model));
    for (const path of lost) {
      problems.push({
        path,
        message: `${objectRef(obj)}: field ${path} is unknown to kubelab's Kubernetes client and would be silently dropped`,
      });
    }
    prepared.push({ wire: obj, model });
  }
  if (problems.length > 0) {
    throw badInput(
      'some objects cannot be sent to the cluster unchanged',
      problems,
      'Check the field names (a typo is the usual cause); fields newer than Kubernetes 1.34 are not supported.',
    );
  }
  return prepared;
}

function describeLoose(o: unknown): string {
  if (!isRecord(o)) return 'an object';
  const meta = isRecord(o.metadata) ? o.metadata : {};
  return `${String(o.kind ?? '<no kind>')} ${String(meta.name ?? '<no name>')}`;
}

/**
 * Apply order: CRDs and Namespaces before anything that may live in or depend on them; otherwise
 * the given order (manifest authors order things deliberately).
 */
export function applyOrder<T extends { kind: string }>(objects: T[]): T[] {
  const rank = (o: T) => (o.kind === 'CustomResourceDefinition' ? 0 : o.kind === 'Namespace' ? 1 : 2);
  return objects
    .map((o, i) => ({ o, i }))
    .sort((a, b) => rank(a.o) - rank(b.o) || a.i - b.i)
    .map(({ o }) => o);
}

/** apiVersion for the kinds kubelab lists or deletes by kind name. */
export const KIND_API_VERSIONS: Record<string, string> = {
  Namespace: 'v1',
  Pod: 'v1',
  Service: 'v1',
  Endpoints: 'v1',
  ConfigMap: 'v1',
  Secret: 'v1',
  ServiceAccount: 'v1',
  Node: 'v1',
  NetworkPolicy: 'networking.k8s.io/v1',
  Deployment: 'apps/v1',
  StatefulSet: 'apps/v1',
  DaemonSet: 'apps/v1',
  ReplicaSet: 'apps/v1',
  Job: 'batch/v1',
  CronJob: 'batch/v1',
  CustomResourceDefinition: 'apiextensions.k8s.io/v1',
};

export function apiVersionOf(kind: string): string {
  const v = KIND_API_VERSIONS[kind];
  if (!v)
    throw badInput(
      `kubelab does not know the apiVersion of kind ${kind}`,
      [],
      `Known kinds: ${Object.keys(KIND_API_VERSIONS).join(', ')}.`,
    );
  return v;
}
