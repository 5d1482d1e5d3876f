/**
 * The REST verbs on one simulated cluster: get, list, create, replace (PUT), patch (merge,
 * strategic, JSON, server-side apply), delete, and the scale subresource. Every write goes through
 * SimulatedCluster.apply, so validation, defaulting and controllers are the simulation's own; this
 * file adds what the API server does around them (resourceVersion conflicts, AlreadyExists,
 * dry runs, the field manager's applied fields).
 */
import { parse as parseYaml } from 'yaml';
import type { KubeObject } from '../../types.js';
import type { SimulatedCluster } from '../cluster.js';
import type { KindInfo } from '../kinds.js';
import { randomSuffixFor } from './names.js';
import { derivedSlices } from './slices.js';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.js';
import {
  alreadyExists,
  badRequest,
  conflict,
  failure,
  fromKubelabError,
  notFoundError,
  unsupported,
} from './status.js';

type Json = Record<string, unknown>;

const SERVER_METADATA = [
  'uid',
  'resourceVersion',
  'creationTimestamp',
  'generation',
  'managedFields',
  'selfLink',
];

export interface WriteOptions {
  dryRun: boolean;
  fieldManager?: string;
  force?: boolean;
}

function isMap(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** What the user controls of an object: no status, no server-filled metadata. */
function intentOf(obj: unknown): Json {
  const copy = JSON.parse(JSON.stringify(obj ?? {})) as Json;
  delete copy.status;
  if (isMap(copy.metadata)) for (const f of SERVER_METADATA) delete copy.metadata[f];
  return copy;
}

function sameIntent(a: unknown, b: unknown): boolean {
  return stable(intentOf(a)) === stable(intentOf(b));
}

function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (isMap(v))
    return `{${Object.keys(v)
      .sort()
      .filter((k) => v[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stable(v[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/**
 * Fields each server-side-apply manager last applied, per object. Real API servers keep this in
 * managedFields; the simulation keeps the applied object itself, which is enough to remove what a
 * manager stopped applying.
 */
const appliedBy = new WeakMap<SimulatedCluster, Map<string, Json>>();

function appliedKey(info: KindInfo, ns: string | undefined, name: string, manager: string): string {
  return `${info.kind}/${ns ?? ''}/${name}/${manager}`;
}

export class Resources {
  /** `Warning:` lines of the writes made through this object (Pod Security's warn mode). */
  readonly warnings: string[] = [];

  constructor(private readonly cluster: SimulatedCluster) {}

  get(info: KindInfo, ns: string | undefined, name: string): KubeObject {
    const obj =
      this.cluster.get(info.kind, name, ns) ??
      (info.kind === 'EndpointSlice'
        ? derivedSlices(this.cluster, ns).find((s) => s.metadata.name === name)
        : undefined);
    if (!obj) throw notFoundError(info, name);
    return obj;
  }

  list(info: KindInfo, ns: string | undefined): KubeObject[] {
    const stored = this.cluster.listNow(info.kind, ns);
    return info.kind === 'EndpointSlice' ? [...stored, ...derivedSlices(this.cluster, ns)] : stored;
  }

  async create(
    info: KindInfo,
    ns: string | undefined,
    body: unknown,
    opts: WriteOptions,
  ): Promise<KubeObject> {
    const obj = this.checkBody(info, ns, body);
    const meta = obj.metadata as Json;
    if (typeof meta.name !== 'string' || meta.name === '') {
      if (typeof meta.generateName === 'string' && meta.generateName !== '')
        meta.name = `${meta.generateName}${randomSuffixFor(this.cluster, info, ns, meta.generateName)}`;
      else
        throw failure(
          422,
          'Invalid',
          `${info.kind} "" is invalid: metadata.name: Required value: name or generateName is required`,
          {
            kind: info.kind,
            causes: [
              {
                reason: 'FieldValueRequired',
                message: 'Required value: name or generateName is required',
                field: 'metadata.name',
              },
            ],
          },
        );
    }
    const name = String(meta.name);
    if (this.cluster.get(info.kind, name, ns)) throw alreadyExists(info, name);
    if (info.namespaced && ns && !this.cluster.get('Namespace', ns))
      throw failure(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' });
    const stored = await this.write(info, ns, name, obj, opts);
    if (opts.fieldManager && !opts.dryRun) this.remember(info, ns, name, opts.fieldManager, obj);
    return stored;
  }

  async replace(
    info: KindInfo,
    ns: string | undefined,
    name: string,
    body: unknown,
    opts: WriteOptions,
  ): Promise<KubeObject> {
    const obj = this.checkBody(info, ns, body, name);
    const existing = this.get(info, ns, name);
    const rv = (obj.metadata as Json).resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== existing.metadata.resourceVersion) throw conflict(info, name);
    if (sameIntent(existing, obj)) return existing;
    return await this.write(info, ns, name, obj, opts);
  }

  async patch(
    info: KindInfo,
    ns: string | undefined,
    name: string,
    contentType: string,
    raw: string,
    opts: WriteOptions,
  ): Promise<{ object: KubeObject; created: boolean }> {
    const type = contentType.split(';')[0]!.trim();
    if (type === 'application/apply-patch+yaml' || type === 'application/apply-patch+json')
      return this.serverSideApply(info, ns, name, raw, opts);
    const patch = parseBody(raw, 'json');
    const existing = this.get(info, ns, name);
    let result: unknown;
    if (type === 'application/merge-patch+json') result = mergePatch(existing, patch);
    else if (type === 'application/strategic-merge-patch+json')
      result = strategicMergePatch(existing, patch, info.kind);
    else if (type === 'application/json-patch+json') result = jsonPatch(existing, patch);
    else throw unsupported(415, `the patch type ${type || '(none)'}`);
    const obj = this.checkBody(info, ns, result, name);
    const rv = (obj.metadata as Json).resourceVersion;
    if (rv !== undefined && rv !== existing.metadata.resourceVersion) throw conflict(info, name);
    if (sameIntent(existing, obj)) return { object: existing, created: false };
    return { object: await this.write(info, ns, name, obj, opts), created: false };
  }

  private async serverSideApply(
    info: KindInfo,
    ns: string | undefined,
    name: string,
    raw: string,
    opts: WriteOptions,
  ): Promise<{ object: KubeObject; created: boolean }> {
    if (!opts.fieldManager)
      throw badRequest(
        'PATCH, application/apply-patch+yaml requires a non-empty fieldManager query parameter',
      );
    const applied = this.checkBody(info, ns, parseBody(raw, 'yaml'), name);
    const existing = this.cluster.get(info.kind, name, ns);
    if (!existing) return { object: await this.create(info, ns, applied, opts), created: true };
    const key = appliedKey(info, ns, name, opts.fieldManager);
    const before = appliedBy.get(this.cluster)?.get(key);
    // Fields this manager applied last time and no longer applies are removed, as SSA does.
    const base = before
      ? removeAbsent(existing as unknown as Json, before, applied)
      : (existing as unknown as Json);
    const merged = strategicMergePatch(base, applied, info.kind) as Json;
    if (sameIntent(existing, merged)) {
      if (!opts.dryRun) this.remember(info, ns, name, opts.fieldManager, applied);
      return { object: existing, created: false };
    }
    const object = await this.write(info, ns, name, merged, opts);
    if (!opts.dryRun) this.remember(info, ns, name, opts.fieldManager, applied);
    return { object, created: false };
  }

  async delete(
    info: KindInfo,
    ns: string | undefined,
    name: string,
    opts: { dryRun: boolean },
  ): Promise<KubeObject> {
    const existing = this.get(info, ns, name);
    if (opts.dryRun) return existing;
    try {
      if (info.kind === 'Namespace') await this.cluster.deleteNamespace(name);
      else await this.cluster.delete(info.kind, name, ns);
    } catch (e) {
      throw fromKubelabError(e, info, name);
    }
    const meta = existing.metadata as Json;
    meta.deletionTimestamp = this.cluster
      .clock()
      .toISOString()
      .replace(/\.\d+Z$/, 'Z');
    if (info.kind === 'Namespace') existing.status = { phase: 'Terminating' };
    return existing;
  }

  scale(info: KindInfo, ns: string | undefined, name: string): Json {
    const obj = this.get(info, ns, name);
    const spec = isMap(obj.spec) ? obj.spec : {};
    const status = isMap(obj.status) ? obj.status : {};
    const selector =
      isMap(spec.selector) && isMap(spec.selector.matchLabels) ? spec.selector.matchLabels : {};
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: {
        name,
        namespace: ns,
        uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion,
        creationTimestamp: obj.metadata.creationTimestamp,
      },
      spec: { replicas: typeof spec.replicas === 'number' ? spec.replicas : 1 },
      status: {
        replicas: typeof status.replicas === 'number' ? status.replicas : 0,
        selector: Object.entries(selector)
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(','),
      },
    };
  }

  async setScale(
    info: KindInfo,
    ns: string | undefined,
    name: string,
    scale: unknown,
    opts: WriteOptions,
  ): Promise<Json> {
    const replicas = isMap(scale) && isMap(scale.spec) ? scale.spec.replicas : undefined;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0)
      throw failure(
        422,
        'Invalid',
        `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
        {
          name,
          kind: 'Scale',
          group: 'autoscaling',
          causes: [
            {
              reason: 'FieldValueInvalid',
              message: 'must be greater than or equal to 0',
              field: 'spec.replicas',
            },
          ],
        },
      );
    const rv = isMap(scale) && isMap(scale.metadata) ? scale.metadata.resourceVersion : undefined;
    const obj = this.get(info, ns, name);
    if (rv !== undefined && rv !== '' && rv !== obj.metadata.resourceVersion) throw conflict(info, name);
    (obj.spec as Json).replicas = replicas;
    await this.write(info, ns, name, obj as unknown as Json, opts);
    return this.scale(info, ns, name);
  }

  /** Stores through the simulation (on a throw-away fork for a dry run) and returns the stored object. */
  private async write(
    info: KindInfo,
    ns: string | undefined,
    name: string,
    obj: Json,
    opts: WriteOptions,
  ): Promise<KubeObject> {
    const target = opts.dryRun ? this.cluster.fork() : this.cluster;
    try {
      const [outcome] = await target.apply([obj as unknown as KubeObject]);
      this.warnings.push(...(outcome?.warnings ?? []));
    } catch (e) {
      throw fromKubelabError(e, info, name);
    }
    const stored = target.get(info.kind, name, ns);
    if (!stored)
      throw failure(500, 'InternalError', `Internal error occurred: ${info.kind} "${name}" was not stored`);
    return stored;
  }

  private remember(
    info: KindInfo,
    ns: string | undefined,
    name: string,
    manager: string,
    applied: Json,
  ): void {
    let map = appliedBy.get(this.cluster);
    if (!map) appliedBy.set(this.cluster, (map = new Map()));
    map.set(appliedKey(info, ns, name, manager), intentOf(applied));
  }

  /** The request body as an object of this kind, its namespace filled in from the URL. */
  private checkBody(info: KindInfo, ns: string | undefined, body: unknown, name?: string): Json {
    if (!isMap(body)) throw badRequest('the request body must be a JSON or YAML object');
    const obj = JSON.parse(JSON.stringify(body)) as Json;
    obj.apiVersion ??= info.apiVersion;
    obj.kind ??= info.kind;
    if (obj.kind !== info.kind)
      throw badRequest(
        `the kind in the data (${String(obj.kind)}) does not match the expected kind (${info.kind})`,
      );
    if (obj.apiVersion !== info.apiVersion)
      throw badRequest(
        `the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${info.apiVersion})`,
      );
    const meta = isMap(obj.metadata) ? obj.metadata : (obj.metadata = {});
    if (info.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== ns)
        throw badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      meta.namespace = ns;
    }
    if (name !== undefined) {
      if (meta.name !== undefined && meta.name !== name)
        throw badRequest(
          'the name of the object (' +
            String(meta.name) +
            ') does not match the name on the URL (' +
            name +
            ')',
        );
      meta.name = name;
    }
    return obj;
  }
}

/** Removes from `live` the paths `before` had and `now` lacks (maps only; lists are applied whole). */
function removeAbsent(live: Json, before: Json, now: Json): Json {
  const out: Json = { ...live };
  for (const [k, v] of Object.entries(before)) {
    if (k === 'apiVersion' || k === 'kind') continue;
    if (!(k in now)) delete out[k];
    else if (isMap(v) && isMap(now[k]) && isMap(out[k]))
      out[k] = removeAbsent(out[k] as Json, v, now[k] as Json);
  }
  return out;
}

export function parseBody(raw: string, as: 'json' | 'yaml'): unknown {
  if (raw.trim() === '') throw badRequest('the request has no body');
  try {
    return as === 'json' ? JSON.parse(raw) : parseYaml(raw, { maxAliasCount: 100 });
  } catch (e) {
    throw badRequest(`the request body could not be decoded: ${(e as Error).message}`);
  }
}
