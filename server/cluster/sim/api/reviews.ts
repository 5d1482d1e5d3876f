/**
 * Access reviews (authorization.k8s.io/v1): kubectl sends SelfSubjectAccessReviews as protobuf
 * (`kubectl auth can-i`), client libraries as JSON. Both are read into the same spec; answers go
 * back as JSON, which clients accept whatever they asked for.
 *
 * The protobuf envelope (k8s.io/apimachinery runtime.Unknown): the 4 bytes `k8s\0`, then field 1
 * typeMeta {1 apiVersion, 2 kind}, field 2 raw (the object's own message). In the review objects
 * field 2 is the spec; in the spec 1 resourceAttributes {1 namespace, 2 verb, 3 group, 4 version,
 * 5 resource, 6 subresource, 7 name}, 2 nonResourceAttributes {1 path, 2 verb}, and for a
 * SubjectAccessReview 3 user and 4 groups (repeated).
 */

export interface ReviewSpec {
  resourceAttributes?: {
    namespace?: string;
    verb?: string;
    group?: string;
    version?: string;
    resource?: string;
    subresource?: string;
    name?: string;
  };
  nonResourceAttributes?: { path?: string; verb?: string };
  user?: string;
  groups?: string[];
}

type Field = { no: number; wire: number; bytes?: Uint8Array; varint?: number };

function fields(buf: Uint8Array): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (i >= buf.length) throw new Error('truncated varint');
      const b = buf[i++]!;
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 49) throw new Error('varint too long');
    }
  };
  while (i < buf.length) {
    const key = varint();
    const no = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) out.push({ no, wire, varint: varint() });
    else if (wire === 2) {
      const len = varint();
      if (i + len > buf.length) throw new Error('truncated field');
      out.push({ no, wire, bytes: buf.subarray(i, i + len) });
      i += len;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const text = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('utf8') : '');
const sub = (fs: Field[], no: number) => fs.find((f) => f.no === no && f.wire === 2)?.bytes;

/** The spec of a review sent as Kubernetes protobuf; throws on anything else. */
export function decodeProtobufReview(body: Buffer): { kind: string; spec: ReviewSpec } {
  if (body.length < 4 || body.subarray(0, 4).toString('latin1') !== 'k8s\0')
    throw new Error('not a Kubernetes protobuf message');
  const envelope = fields(body.subarray(4));
  const typeMeta = fields(sub(envelope, 1) ?? new Uint8Array());
  const kind = text(sub(typeMeta, 2));
  const object = fields(sub(envelope, 2) ?? new Uint8Array());
  const specFields = fields(sub(object, 2) ?? new Uint8Array());
  const spec: ReviewSpec = {};
  const ra = sub(specFields, 1);
  if (ra) {
    const f = fields(ra);
    const names = ['', 'namespace', 'verb', 'group', 'version', 'resource', 'subresource', 'name'] as const;
    const attrs: NonNullable<ReviewSpec['resourceAttributes']> = {};
    for (let n = 1; n < names.length; n++) {
      const v = sub(f, n);
      if (v !== undefined) attrs[names[n] as Exclude<(typeof names)[number], ''>] = text(v);
    }
    spec.resourceAttributes = attrs;
  }
  const nra = sub(specFields, 2);
  if (nra) {
    const f = fields(nra);
    spec.nonResourceAttributes = { path: text(sub(f, 1)), verb: text(sub(f, 2)) };
  }
  const user = sub(specFields, 3);
  if (user !== undefined) spec.user = text(user);
  const groups = specFields.filter((f) => f.no === 4 && f.wire === 2).map((f) => text(f.bytes));
  if (groups.length > 0) spec.groups = groups;
  return { kind, spec };
}

/** The spec of a review sent as JSON (or protobuf); undefined when the body is neither. */
export function readReview(body: Buffer): ReviewSpec | undefined {
  if (body.subarray(0, 4).toString('latin1') === 'k8s\0') {
    try {
      return decodeProtobufReview(body).spec;
    } catch {
      return undefined;
    }
  }
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { spec?: unknown };
    const spec = parsed.spec;
    return typeof spec === 'object' && spec !== null ? (spec as ReviewSpec) : undefined;
  } catch {
    return undefined;
  }
}

/** The namespace a SelfSubjectRulesReview asks about (its spec's only field), JSON or protobuf. */
export function rulesReviewNamespace(body: Buffer): string {
  if (body.subarray(0, 4).toString('latin1') === 'k8s\0') {
    try {
      const object = fields(sub(fields(body.subarray(4)), 2) ?? new Uint8Array());
      return text(sub(fields(sub(object, 2) ?? new Uint8Array()), 1));
    } catch {
      return '';
    }
  }
  try {
    const ns = (JSON.parse(body.toString('utf8')) as { spec?: { namespace?: unknown } }).spec?.namespace;
    return typeof ns === 'string' ? ns : '';
  } catch {
    return '';
  }
}
