/**
 * The three patch formats kubectl sends, applied to plain JSON:
 * - JSON merge patch (RFC 7386): maps merge, `null` deletes, lists are replaced;
 * - strategic merge patch: like merge patch, but lists of known kinds merge by key (containers by
 *   name, container ports by containerPort, Service ports by port, env by name, ...) and the
 *   directives kubectl's three-way apply writes (`$patch`, `$setElementOrder/...`,
 *   `$deleteFromPrimitiveList/...`, `$retainKeys`) are honoured. Lists without a merge key (a
 *   NetworkPolicy's ingress and egress among them) are replaced whole, as on a real API server;
 * - JSON patch (RFC 6902): add, remove, replace, test, move, copy.
 */
import { badRequest } from './status.js';

type Json = Record<string, unknown>;

function isMap(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isMap(patch)) return clone(patch);
  const out: Json = isMap(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** The merge key of a list field, by where it sits; undefined means the list is replaced whole. */
function mergeKeyOf(path: readonly string[], kind: string): string | undefined {
  const field = path[path.length - 1];
  const parent = path[path.length - 2];
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'imagePullSecrets':
    case 'volumes':
    case 'env':
      return 'name';
    case 'volumeMounts':
      return 'mountPath';
    case 'volumeDevices':
      return 'devicePath';
    case 'hostAliases':
      return 'ip';
    case 'conditions':
      return 'type';
    case 'ownerReferences':
      return 'uid';
    case 'ports':
      // Service ports merge by port; a container's ports by containerPort.
      if (kind === 'Service' && parent === 'spec' && path.length === 2) return 'port';
      return path.includes('containers') || path.includes('initContainers') ? 'containerPort' : undefined;
    default:
      return undefined;
  }
}

/** Primitive lists whose patch strategy is merge (union) rather than replace. */
function mergesPrimitives(path: readonly string[]): boolean {
  return path[path.length - 1] === 'finalizers';
}

export function strategicMergePatch(target: unknown, patch: unknown, kind: string): unknown {
  return smpMap(isMap(target) ? target : {}, patch, [], kind);
}

function smpMap(target: Json, patch: unknown, path: string[], kind: string): Json {
  if (!isMap(patch))
    throw badRequest(`strategic merge patch: ${path.join('.') || 'the patch'} must be an object`);
  const directive = patch.$patch;
  if (directive === 'replace') {
    const { $patch: _drop, ...rest } = patch;
    return stripDirectives(rest) as Json;
  }
  if (directive === 'delete') return {};
  let out: Json = { ...target };
  const retain = patch.$retainKeys;
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      const drop = new Set((Array.isArray(v) ? v : []).map((x) => JSON.stringify(x)));
      if (Array.isArray(out[field]))
        out[field] = (out[field] as unknown[]).filter((x) => !drop.has(JSON.stringify(x)));
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    const here = [...path, k];
    if (Array.isArray(v)) out[k] = smpList(out[k], v, here, kind);
    else if (isMap(v)) out[k] = smpMap(isMap(out[k]) ? (out[k] as Json) : {}, v, here, kind);
    else out[k] = v;
  }
  if (Array.isArray(retain)) {
    const keep = new Set(retain.map(String));
    out = Object.fromEntries(Object.entries(out).filter(([k]) => keep.has(k)));
  }
  for (const [k, v] of Object.entries(patch)) {
    if (!k.startsWith('$setElementOrder/')) continue;
    const field = k.slice('$setElementOrder/'.length);
    if (Array.isArray(out[field]) && Array.isArray(v))
      out[field] = reorder(out[field] as unknown[], v, [...path, field], kind);
  }
  return out;
}

function smpList(target: unknown, patch: unknown[], path: string[], kind: string): unknown[] {
  const current = Array.isArray(target) ? target : [];
  const key = mergeKeyOf(path, kind);
  if (patch.some((p) => isMap(p) && p.$patch === 'replace')) {
    return patch.filter((p) => !(isMap(p) && p.$patch === 'replace')).map(stripDirectives);
  }
  if (!key) {
    if (mergesPrimitives(path)) {
      const seen = new Set(current.map((x) => JSON.stringify(x)));
      return [...current, ...patch.filter((x) => !seen.has(JSON.stringify(x)))];
    }
    return patch.map(stripDirectives);
  }
  const out = current.map((x) => clone(x));
  for (const item of patch) {
    if (!isMap(item) || item[key] === undefined)
      throw badRequest(`strategic merge patch: every item of ${path.join('.')} needs its merge key "${key}"`);
    const at = out.findIndex((x) => isMap(x) && JSON.stringify(x[key]) === JSON.stringify(item[key]));
    if (item.$patch === 'delete') {
      if (at >= 0) out.splice(at, 1);
      continue;
    }
    if (at >= 0) out[at] = smpMap(out[at] as Json, item, path, kind);
    else out.push(stripDirectives(item));
  }
  return out;
}

function reorder(list: unknown[], order: unknown[], path: string[], kind: string): unknown[] {
  const key = mergeKeyOf(path, kind);
  const id = (x: unknown) => JSON.stringify(key && isMap(x) ? x[key] : x);
  const rank = new Map(order.map((o, i) => [id(o), i]));
  return [...list].sort((a, b) => (rank.get(id(a)) ?? order.length) - (rank.get(id(b)) ?? order.length));
}

function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isMap(v)) return v;
  const out: Json = {};
  for (const [k, x] of Object.entries(v)) if (!k.startsWith('$')) out[k] = stripDirectives(x);
  return out;
}

// ---- JSON patch (RFC 6902) ---------------------------------------------------------------------

function pointer(path: unknown): string[] {
  if (typeof path !== 'string' || (path !== '' && !path.startsWith('/')))
    throw badRequest(`json patch: "${String(path)}" is not a JSON pointer`);
  return path === ''
    ? []
    : path
        .slice(1)
        .split('/')
        .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: unknown, parts: string[]): { parent: unknown; last: string } {
  let cur = doc;
  for (const p of parts.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(p)];
    else if (isMap(cur)) cur = cur[p];
    else cur = undefined;
    if (cur === undefined) throw badRequest(`json patch: path /${parts.join('/')} does not exist`);
  }
  return { parent: cur, last: parts[parts.length - 1] ?? '' };
}

function read(doc: unknown, parts: string[]): unknown {
  let cur = doc;
  for (const p of parts) cur = Array.isArray(cur) ? cur[Number(p)] : isMap(cur) ? cur[p] : undefined;
  return cur;
}

export function jsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw badRequest('json patch: the body must be a list of operations');
  let out = clone(doc);
  for (const raw of ops) {
    if (!isMap(raw)) throw badRequest('json patch: every operation must be an object');
    const parts = pointer(raw.path);
    const op = raw.op;
    const put = (value: unknown, at: string[], insert: boolean) => {
      if (at.length === 0) {
        out = clone(value);
        return;
      }
      const { parent, last } = parentOf(out, at);
      if (Array.isArray(parent)) {
        const i = last === '-' ? parent.length : Number(last);
        if (!Number.isInteger(i) || i < 0 || i > parent.length)
          throw badRequest(`json patch: index ${last} is out of range`);
        if (insert) parent.splice(i, 0, clone(value));
        else parent[i] = clone(value);
      } else if (isMap(parent)) parent[last] = clone(value);
      else throw badRequest(`json patch: path /${at.join('/')} does not exist`);
    };
    const remove = (at: string[]): unknown => {
      const { parent, last } = parentOf(out, at);
      if (Array.isArray(parent) && Number(last) < parent.length) return parent.splice(Number(last), 1)[0];
      if (isMap(parent) && last in parent) {
        const v = parent[last];
        delete parent[last];
        return v;
      }
      throw badRequest(`json patch: path /${at.join('/')} does not exist`);
    };
    switch (op) {
      case 'add':
        put(raw.value, parts, true);
        break;
      case 'replace':
        remove(parts);
        put(raw.value, parts, true);
        break;
      case 'remove':
        remove(parts);
        break;
      case 'test':
        if (JSON.stringify(read(out, parts)) !== JSON.stringify(raw.value))
          throw badRequest(`json patch: test failed at ${String(raw.path)}`);
        break;
      case 'move':
      case 'copy': {
        const from = pointer(raw.from);
        const value = op === 'move' ? remove(from) : read(out, from);
        put(value, parts, true);
        break;
      }
      default:
        throw badRequest(`json patch: unknown operation ${JSON.stringify(op)}`);
    }
  }
  return out;
}
