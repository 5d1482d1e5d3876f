/**
 * What `kubelab netpol check` and `kubelab netpol matrix` do (netpol.ts declares them): read
 * Kubernetes manifests (files, directories, `-`), build the network the NetworkPolicy engine sees,
 * and answer probes or print the whole source x destination matrix. Bad input exits 2 with
 * file:line and field path.
 */
import { basename, relative, resolve } from 'node:path';
import { badInput, type Problem } from '../errors.js';
import {
  isRecord,
  loadManifestInputs,
  objectsOf,
  problemAt,
  type LoadedDocument,
} from '../manifests/load.js';
import {
  buildNetworkModel,
  compileNetwork,
  computeMatrix,
  evaluate,
  formatMatrix,
  isMatrixFormat,
  isProtocol,
  MATRIX_FORMATS,
  podKey,
  type CompiledNetwork,
  type ConnectionVerdict,
  type Endpoint,
  type MatrixPort,
  type Protocol,
} from '../netpol/index.js';
import { ipFamily } from '../netpol/ipblock.js';
import { isValidPortNumber, portNameProblems } from '../netpol/ports.js';
import type { CliIO } from './io.js';

export async function runCheck(inputs: string[], opts: { probe: string[]; json?: boolean }, io: CliIO) {
  const net = await loadNetwork(inputs, io);
  const probes =
    opts.probe.length > 0
      ? opts.probe.map((spec) => resolveProbe(net, parseProbeSpec(spec)))
      : allDeclaredProbes(net);
  const results = probes.map((p) => evaluate(net, p.from, p.to, p.port, p.protocol));
  io.stdout(
    opts.json ? `${JSON.stringify({ results: results.map(resultJson) }, null, 2)}\n` : formatResults(results),
  );
}

export async function runMatrix(inputs: string[], opts: { port?: string; format: string }, io: CliIO) {
  if (!isMatrixFormat(opts.format)) {
    throw badInput(`unknown format "${opts.format}"`, [], `Use one of: ${MATRIX_FORMATS.join(', ')}.`);
  }
  const port = opts.port === undefined ? undefined : parsePortSpec(opts.port, `--port ${opts.port}`);
  const net = await loadNetwork(inputs, io);
  io.stdout(formatMatrix(computeMatrix(net, port ? { port } : {}), opts.format));
}

/** Reads every input, builds the model, and refuses (exit 2) when any object has a problem. */
export async function loadNetwork(inputs: string[], io: CliIO): Promise<CompiledNetwork> {
  const paths = inputs.map((p) => (p === '-' ? p : relative(io.cwd, resolve(io.cwd, p)) || '.'));
  const docs = (await loadManifestInputs(paths, { stdin: () => io.readStdin() })).filter((doc) => {
    if (!isScenarioDescription(doc)) return true;
    io.stderr(
      `kubelab: skipped ${doc.source.file}: a kubelab scenario description, not a Kubernetes object\n`,
    );
    return false;
  });
  const { objects, problems } = objectsOf(docs);
  if (objects.length === 0 && problems.length === 0) {
    const what = paths.map((p) => (p === '-' ? 'stdin' : p)).join(', ');
    throw badInput(
      `no Kubernetes objects were read from ${what}`,
      [],
      'Give YAML or JSON manifests (files, directories with .yaml/.yml/.json files, or - with text on stdin).',
    );
  }
  const { model, problems: modelProblems } = buildNetworkModel(objects.map((o) => o.object));
  const all: Problem[] = [...problems];
  for (const p of modelProblems) {
    const obj = objects[p.index]!;
    all.push(problemAt(obj, p.fieldPath, p.message));
  }
  if (all.length > 0) {
    throw badInput(
      `the manifests have ${all.length} problem${all.length === 1 ? '' : 's'}`,
      all,
      'Fix each field shown (the API server would refuse these objects too), then run again.',
    );
  }
  return compileNetwork(model);
}

/** A scenario folder's scenario.yaml describes the scenario; the manifests are its other files. */
function isScenarioDescription(doc: LoadedDocument): boolean {
  const v = doc.value;
  return (
    basename(doc.source.file) === 'scenario.yaml' && isRecord(v) && !('kind' in v) && !('apiVersion' in v)
  );
}

type EndpointRef = { kind: 'pod'; namespace: string; name: string } | { kind: 'ip'; ip: string };

export interface ProbeSpec {
  from: EndpointRef;
  to: EndpointRef;
  port: number | string;
  protocol: Protocol;
}

const SPEC_HELP =
  'A probe looks like NS/POD->NS/POD:PORT[/PROTO], e.g. np-lab/backend-0->np-lab/db1-0:1111 or x/a->x/b:dns/UDP.';

/** Parses `NS/POD->NS/POD:PORT[/PROTO]` (either end may be an IP; IPv6 in brackets). */
export function parseProbeSpec(spec: string): ProbeSpec {
  const arrow = spec.indexOf('->');
  if (arrow < 0) throw badInput(`bad probe "${spec}": missing "->"`, [], SPEC_HELP);
  const fromText = spec.slice(0, arrow).trim();
  const rest = spec.slice(arrow + 2).trim();
  const colon = rest.startsWith('[') ? rest.indexOf(':', rest.indexOf(']')) : rest.indexOf(':');
  if (colon < 0) throw badInput(`bad probe "${spec}": missing ":PORT" after the destination`, [], SPEC_HELP);
  const from = parseEndpointRef(fromText, spec);
  const to = parseEndpointRef(rest.slice(0, colon), spec);
  const { port, protocol } = parsePortSpec(rest.slice(colon + 1), `probe "${spec}"`);
  return { from, to, port, protocol };
}

function parseEndpointRef(text: string, spec: string): EndpointRef {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (ipFamily(bare)) return { kind: 'ip', ip: bare };
  const parts = text.split('/');
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw badInput(`bad probe "${spec}": "${text}" is not NAMESPACE/POD (or an IP address)`, [], SPEC_HELP);
  }
  return { kind: 'pod', namespace: parts[0], name: parts[1] };
}

/** `80`, `80/UDP`, `dns/UDP`, `http` (protocol defaults to TCP, any case accepted). */
export function parsePortSpec(text: string, what: string): MatrixPort {
  const [portText = '', protoText, ...extra] = text.split('/');
  const protocol = (protoText ?? 'TCP').toUpperCase();
  if (extra.length > 0 || !isProtocol(protocol)) {
    throw badInput(`bad ${what}: protocol must be TCP, UDP or SCTP`, [], SPEC_HELP);
  }
  if (/^[0-9]+$/.test(portText)) {
    const port = Number(portText);
    if (!isValidPortNumber(port))
      throw badInput(`bad ${what}: port ${portText} is not between 1 and 65535`, [], SPEC_HELP);
    return { port, protocol };
  }
  const problems = portNameProblems(portText);
  if (portText === '' || problems.length > 0) {
    throw badInput(
      `bad ${what}: "${portText}" is neither a port number nor a valid port name`,
      [],
      SPEC_HELP,
    );
  }
  return { port: portText, protocol };
}

function resolveProbe(
  net: CompiledNetwork,
  spec: ProbeSpec,
): { from: Endpoint; to: Endpoint; port: number | string; protocol: Protocol } {
  const endpoint = (ref: EndpointRef): Endpoint => {
    if (ref.kind === 'ip') return { kind: 'ip', ip: ref.ip };
    const pod = net.pod(ref.namespace, ref.name);
    if (!pod) {
      const known = net.pods.map((p) => podKey(p.namespace, p.name));
      const sameNs = known.filter((k) => k.startsWith(`${ref.namespace}/`));
      throw badInput(
        `unknown pod ${ref.namespace}/${ref.name} in a probe`,
        [],
        sameNs.length > 0
          ? `Pods in ${ref.namespace}: ${sameNs.slice(0, 20).join(', ')}. Workloads become pods named <name>-0, <name>-1, ...`
          : `There is no pod in namespace ${ref.namespace}. Known pods: ${known.slice(0, 20).join(', ') || '(none)'}.`,
      );
    }
    return { kind: 'pod', pod };
  };
  const from = endpoint(spec.from);
  const to = endpoint(spec.to);
  if (
    typeof spec.port === 'string' &&
    to.kind === 'pod' &&
    !to.pod.ports.some((p) => p.name === spec.port && p.protocol === spec.protocol)
  ) {
    const names = to.pod.ports.filter((p) => p.name).map((p) => `${p.name} (${p.protocol} ${p.port})`);
    throw badInput(
      `${podKey(to.pod.namespace, to.pod.name)} has no ${spec.protocol} port named "${spec.port}"`,
      [],
      names.length > 0
        ? `Its named ports: ${names.join(', ')}.`
        : 'It declares no named ports; use a port number.',
    );
  }
  return { from, to, port: spec.port, protocol: spec.protocol };
}

/** Every ordered pair of distinct pods, on every port the destination declares. */
function allDeclaredProbes(net: CompiledNetwork) {
  const pods = [...net.pods].sort((a, b) =>
    podKey(a.namespace, a.name).localeCompare(podKey(b.namespace, b.name)),
  );
  const out: Array<{ from: Endpoint; to: Endpoint; port: number; protocol: Protocol }> = [];
  for (const src of pods) {
    for (const dst of pods) {
      if (src === dst) continue;
      const seen = new Set<string>();
      for (const p of dst.ports) {
        const key = `${p.port}/${p.protocol}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({
          from: { kind: 'pod', pod: src },
          to: { kind: 'pod', pod: dst },
          port: p.port,
          protocol: p.protocol,
        });
      }
    }
  }
  return out;
}

function resultJson(v: ConnectionVerdict) {
  return {
    from: v.from,
    to: v.to,
    port: v.askedPort,
    protocol: v.protocol,
    allowed: v.allowed,
    reasons: v.reasons,
  };
}

function formatResults(results: ConnectionVerdict[]): string {
  if (results.length === 0) return 'no probes: the manifests declare no pods with container ports\n';
  const rows = results.map((v) => [
    v.from,
    v.to,
    typeof v.askedPort === 'string'
      ? `${v.protocol} ${v.askedPort}${v.port !== undefined ? ` (${v.port})` : ''}`
      : `${v.protocol} ${v.askedPort}`,
    v.allowed ? 'allowed' : 'denied',
    v.reasons.join('; '),
  ]);
  const header = ['FROM', 'TO', 'PORT', 'RESULT', 'REASON'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) =>
    r
      .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  const allowed = results.filter((v) => v.allowed).length;
  return `${[line(header), ...rows.map(line)].join('\n')}\n\n${results.length} probe${results.length === 1 ? '' : 's'}: ${allowed} allowed, ${results.length - allowed} denied\n`;
}
