/**
 * The probe commands kubelab runs inside a source pod, and their exact inverse.
 *
 * The probe image is registry.k8s.io/e2e-test-images/agnhost:2.53 (built when its base moved to
 * Alpine 3.19: busybox 1.36, curl, bind-tools with dig, netcat-openbsd, bash, and /agnhost).
 * Choices, and why:
 *
 * - TCP: curl, because its exit codes separate the cases we must tell apart (0 connected, 6 name
 *   did not resolve, 7 refused, 28 timed out, with "Resolving timed out" meaning DNS was dropped)
 *   and every destination in the labs speaks HTTP (agnhost porter / netexec). `--connect-timeout T`
 *   bounds name resolution plus the TCP handshake; `-m T+1` bounds the whole request, so a server
 *   that accepts but never answers ends as "Operation timed out ... received" (still connected).
 *   `--noproxy '*'` keeps an HTTP_PROXY in the pod's environment from changing the path; `-g`
 *   stops curl from globbing the brackets of an IPv6 URL.
 * - DNS: `dig +search +short NAME A`. dig only comes from bind-tools (busybox has an nslookup
 *   applet of its own, so `nslookup` is ambiguous), `+search` applies the pod's resolv.conf search
 *   list and ndots:5 like an application's resolver would, and `+short` prints only addresses
 *   (NXDOMAIN prints nothing and exits 0; no reply exits 9).
 * - UDP: only DNS servers give a reliable UDP answer. Port 53 is probed with a real DNS query
 *   (`dig @HOST -p 53`); other ports with `agnhost connect --protocol=udp`, which sends
 *   "hostname\n" and needs a reply, so it only works against agnhost netexec's UDP port and porter's
 *   SERVE_UDP_PORT_<n>. Anything else that listens on UDP cannot be told apart from a drop.
 * - Every command is wrapped in busybox `timeout -s KILL N` so it ends even if the tool hangs
 *   (a closed exec stream does not stop it). Busybox takes the seconds as a plain argument since
 *   1.30 (older ones wanted `-t N`), like GNU timeout. Busybox execs the tool in its own place, so a
 *   kill shows as the tool's exit 137 (GNU timeout also exits 137 with KILL): an error, not a verdict.
 * - Service names: `serviceDnsName()` returns `<svc>.<ns>.svc.cluster.local.` with a trailing dot.
 *   The pod resolver has `options ndots:5`, so a name with fewer than five dots is first tried with
 *   each search domain appended (three NXDOMAIN round trips before the real answer). The trailing
 *   dot makes the name absolute: one query, the same DNS egress requirement (UDP 53 to kube-dns).
 */
import { badInput } from '../errors.js';
import { FrozenMemo, freezeDeep } from '../freeze.js';
import type { ProbeSpec } from './types.js';

/** The program that carries out a probe. */
export type ProbeTool = 'curl' | 'nc' | 'agnhost-connect' | 'dig';

/**
 * Pinned by digest (the multi-platform index of agnhost:2.53), so every lab runs the very same
 * binaries: a tag can be pushed again, a digest cannot. Scenario manifests use the same reference.
 */
export const PROBE_IMAGE =
  'registry.k8s.io/e2e-test-images/agnhost:2.53@sha256:99c6b4bb4a1e1df3f0b3752168c89358794d02258ebebc26bf21c29399011a85';
export const CLUSTER_DOMAIN = 'cluster.local';
const MAX_TIMEOUT_SECONDS = 30;
/** Extra seconds the `timeout` wrapper gives a tool beyond its own limit. */
const WRAPPER_SLACK_SECONDS = 2;
/** musl and Go resolvers wait about 5 s per attempt; nc and agnhost do not bound resolution themselves. */
const RESOLVER_WAIT_SECONDS = 10;

export interface ProbeCommand {
  spec: ProbeSpec;
  tool: ProbeTool;
}

/** `<svc>.<ns>.svc.cluster.local.`: absolute, so the resolver sends exactly one query (see above). */
export function serviceDnsName(
  service: string,
  namespace: string,
  opts: { absolute?: boolean } = {},
): string {
  const name = `${service}.${namespace}.svc.${CLUSTER_DOMAIN}`;
  return opts.absolute === false ? name : `${name}.`;
}

/** The tool `buildProbeArgv` uses when none is asked for. */
export function defaultProbeTool(spec: ProbeSpec): ProbeTool {
  switch (spec.kind) {
    case 'tcp':
      return 'curl';
    case 'udp':
      return spec.port === 53 ? 'dig' : 'agnhost-connect';
    case 'dns':
      return 'dig';
  }
}

const TOOLS_FOR: Record<ProbeSpec['kind'], readonly ProbeTool[]> = {
  tcp: ['curl', 'nc', 'agnhost-connect'],
  udp: ['dig', 'agnhost-connect'],
  dns: ['dig'],
};

/** Seconds after which the `timeout` wrapper kills the tool. */
export function probeWrapperSeconds(spec: ProbeSpec, tool: ProbeTool = defaultProbeTool(spec)): number {
  const t = spec.timeoutSeconds;
  switch (tool) {
    case 'curl':
      return t + 1 + WRAPPER_SLACK_SECONDS;
    case 'dig':
      return t + WRAPPER_SLACK_SECONDS;
    case 'nc':
    case 'agnhost-connect':
      return t + RESOLVER_WAIT_SECONDS + WRAPPER_SLACK_SECONDS;
  }
}

/** How long a caller should let the exec run before giving up on it (the wrapper plus exec overhead). */
export function probeDeadlineMs(spec: ProbeSpec, tool: ProbeTool = defaultProbeTool(spec)): number {
  return (probeWrapperSeconds(spec, tool) + 3) * 1000;
}

const DNS_LABEL = /^[a-z0-9_]([-a-z0-9_]{0,61}[a-z0-9_])?$/i;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9a-f:.]+$/i;

export function isIPv4(s: string): boolean {
  return IPV4.test(s);
}

export function isIPv6(s: string): boolean {
  return s.includes(':') && IPV6.test(s) && s.split('::').length <= 2;
}

export function isIP(s: string): boolean {
  return isIPv4(s) || isIPv6(s);
}

/** A DNS name (optionally absolute, with a trailing dot) made of valid labels. */
export function isDnsName(s: string): boolean {
  const name = s.endsWith('.') ? s.slice(0, -1) : s;
  if (name.length === 0 || name.length > 253) return false;
  return name.split('.').every((label) => DNS_LABEL.test(label));
}

function checkSpec(spec: ProbeSpec, tool: ProbeTool): void {
  const problems: string[] = [];
  const t = spec.timeoutSeconds;
  if (!Number.isInteger(t) || t < 1 || t > MAX_TIMEOUT_SECONDS) {
    problems.push(
      `timeoutSeconds must be a whole number from 1 to ${MAX_TIMEOUT_SECONDS} (got ${String(t)})`,
    );
  }
  if (spec.kind === 'dns') {
    if (!isDnsName(spec.name)) problems.push(`"${spec.name}" is not a DNS name`);
  } else {
    if (!isIP(spec.host) && !isDnsName(spec.host))
      problems.push(`"${spec.host}" is neither an IP address nor a DNS name`);
    if (!Number.isInteger(spec.port) || spec.port < 1 || spec.port > 65535) {
      problems.push(`port must be a whole number from 1 to 65535 (got ${String(spec.port)})`);
    }
  }
  if (!TOOLS_FOR[spec.kind].includes(tool)) {
    problems.push(
      `a ${spec.kind} probe cannot be run with ${tool} (use ${TOOLS_FOR[spec.kind].join(' or ')})`,
    );
  }
  if (problems.length > 0) {
    throw badInput(
      'the probe cannot be built',
      problems.map((message) => ({ message })),
    );
  }
}

function hostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The argv to exec in the source pod's container. Throws BAD_INPUT for a host, port or timeout
 * that could not be put on a command line safely.
 */
export function buildProbeArgv(spec: ProbeSpec, opts: { tool?: ProbeTool } = {}): string[] {
  const tool = opts.tool ?? defaultProbeTool(spec);
  checkSpec(spec, tool);
  const t = spec.timeoutSeconds;
  const wrapper = ['timeout', '-s', 'KILL', String(probeWrapperSeconds(spec, tool))];
  if (spec.kind === 'dns') {
    return [...wrapper, 'dig', '+search', `+time=${t}`, '+tries=1', '+short', spec.name, 'A'];
  }
  switch (tool) {
    case 'curl':
      return [
        ...wrapper,
        'curl',
        '-sS',
        '-g',
        '--noproxy',
        '*',
        '-o',
        '/dev/null',
        '--connect-timeout',
        String(t),
        '-m',
        String(t + 1),
        `http://${hostPort(spec.host, spec.port)}/`,
      ];
    case 'nc':
      return [...wrapper, 'nc', '-z', '-v', '-w', String(t), spec.host, String(spec.port)];
    case 'agnhost-connect':
      return [
        ...wrapper,
        '/agnhost',
        'connect',
        hostPort(spec.host, spec.port),
        `--timeout=${t}s`,
        ...(spec.kind === 'udp' ? ['--protocol=udp'] : []),
      ];
    case 'dig':
      // A zone CoreDNS always answers for; any reply at all proves the datagram got through.
      return [
        ...wrapper,
        'dig',
        `@${spec.host}`,
        '-p',
        String(spec.port),
        `+time=${t}`,
        '+tries=1',
        '+short',
        `${CLUSTER_DOMAIN}.`,
        'SOA',
      ];
  }
}

function parseSeconds(s: string | undefined, suffix = ''): number | undefined {
  if (s === undefined || !s.endsWith(suffix)) return undefined;
  const digits = s.slice(0, s.length - suffix.length);
  if (!/^[1-9]\d{0,2}$/.test(digits)) return undefined;
  return Number(digits);
}

function parsePort(s: string | undefined): number | undefined {
  if (s === undefined || !/^[1-9]\d{0,4}$/.test(s)) return undefined;
  const n = Number(s);
  return n <= 65535 ? n : undefined;
}

function splitHostPort(s: string): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:[\]]+):(\d+)$/.exec(s);
  if (!m) return undefined;
  const port = parsePort(m[2]);
  return port === undefined ? undefined : { host: m[1]!, port };
}

function sameArgv(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Recognises exactly the commands `buildProbeArgv` produces (and nothing else), returning the
 * spec and tool. The simulated cluster uses it so it answers the very commands probe/ builds.
 */
export function parseProbeCommand(argv: readonly string[]): ProbeCommand | undefined {
  // The grader's own argv arrays are frozen and reused (argvOf in server/grader): known by identity.
  return parsedFrozenArgv.get(argv, () => parseByText(argv));
}

const parsedFrozenArgv = new FrozenMemo<readonly string[], ProbeCommand | undefined>();

function parseByText(argv: readonly string[]): ProbeCommand | undefined {
  const key = JSON.stringify(argv);
  const known = recentlyParsed.get(key);
  if (known !== undefined) return known ?? undefined;
  const command = parseNow(argv);
  recentlyParsed.set(key, command ? freezeDeep(command) : null);
  if (recentlyParsed.size > 4096) recentlyParsed.delete(recentlyParsed.keys().next().value!);
  return command;
}

/**
 * A simulated cluster reads every probe's argv back, and a grading server sends it the same few
 * hundred commands over and over (the same pods and names in every learner's copy of a
 * scenario). Answers are frozen, as all their readers share them; null stands for "not a probe".
 */
const recentlyParsed = new Map<string, ProbeCommand | null>();

function parseNow(argv: readonly string[]): ProbeCommand | undefined {
  const candidate = guessCommand(argv);
  if (!candidate) return undefined;
  // Rebuilding and comparing guarantees the inverse is exact: same flags, order and timeouts.
  try {
    return sameArgv(buildProbeArgv(candidate.spec, { tool: candidate.tool }), argv) ? candidate : undefined;
  } catch {
    return undefined;
  }
}

/** The spec of a probe command built by `buildProbeArgv`, or undefined for any other argv. */
export function parseProbeArgv(argv: readonly string[]): ProbeSpec | undefined {
  return parseProbeCommand(argv)?.spec;
}

function guessCommand(argv: readonly string[]): ProbeCommand | undefined {
  if (argv[0] !== 'timeout' || argv[1] !== '-s' || argv[2] !== 'KILL') return undefined;
  const rest = argv.slice(4);
  const program = rest[0];
  if (program === 'curl') {
    const t = parseSeconds(rest[8]);
    const m = /^http:\/\/(.+)\/$/.exec(rest[11] ?? '');
    const hp = m ? splitHostPort(m[1]!) : undefined;
    if (t === undefined || !hp) return undefined;
    return { tool: 'curl', spec: { kind: 'tcp', host: hp.host, port: hp.port, timeoutSeconds: t } };
  }
  if (program === 'nc') {
    const t = parseSeconds(rest[4]);
    const port = parsePort(rest[6]);
    if (t === undefined || port === undefined || rest[5] === undefined) return undefined;
    return { tool: 'nc', spec: { kind: 'tcp', host: rest[5], port, timeoutSeconds: t } };
  }
  if (program === '/agnhost' && rest[1] === 'connect') {
    const hp = splitHostPort(rest[2] ?? '');
    const t = parseSeconds(rest[3]?.replace(/^--timeout=/, ''), 's');
    if (!hp || t === undefined || !rest[3]?.startsWith('--timeout=')) return undefined;
    const kind = rest[4] === '--protocol=udp' ? 'udp' : 'tcp';
    return { tool: 'agnhost-connect', spec: { kind, host: hp.host, port: hp.port, timeoutSeconds: t } };
  }
  if (program === 'dig') {
    if (rest[1] === '+search') {
      const t = parseSeconds(rest[2]?.replace(/^\+time=/, ''));
      if (t === undefined || rest[5] === undefined) return undefined;
      return { tool: 'dig', spec: { kind: 'dns', name: rest[5], timeoutSeconds: t } };
    }
    if (rest[1]?.startsWith('@')) {
      const port = parsePort(rest[3]);
      const t = parseSeconds(rest[4]?.replace(/^\+time=/, ''));
      if (port === undefined || t === undefined) return undefined;
      return { tool: 'dig', spec: { kind: 'udp', host: rest[1].slice(1), port, timeoutSeconds: t } };
    }
  }
  return undefined;
}
