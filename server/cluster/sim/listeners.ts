/**
 * What a pod listens on, read from what its containers run.
 *
 * - agnhost (any registry or tag) is read like the program reads its own configuration:
 *   `porter` serves every SERVE_PORT_<n> / SERVE_TCP_PORT_<n> (HTTP), SERVE_TLS_PORT_<n> (HTTPS),
 *   SERVE_UDP_PORT_<n> (answers any datagram) and SERVE_SCTP_PORT_<n> from `env` (values from
 *   envFrom are not followed); `netexec` serves HTTP on --http-port (8080) and UDP on --udp-port
 *   (8081), SCTP on --sctp-port when given; `serve-hostname` on --port (9376, HTTP unless
 *   --http=false, plus --tcp / --udp); `test-webserver` on 80; `pause` (the image's default) on
 *   nothing. For these, declared containerPorts do NOT matter: the program decides.
 * - CoreDNS serves DNS on 53 (UDP and TCP), metrics on 9153, health on 8080 and ready on 8181.
 * - nginx and httpd serve HTTP on 80.
 * - Any other container (or an agnhost subcommand not listed) is assumed to listen on exactly its
 *   declared containerPorts and to answer whatever a probe sends. Declare ports for such images.
 */
import type { KubeObject } from '../types.js';
import type { Protocol } from '../../netpol/types.js';
import { isProtocol } from '../../netpol/index.js';
import { asArray, asRecord, specOf, type Json } from './state.js';

/** What the program on the port answers, which decides what a probe prints. */
export type Speaks = 'http' | 'https' | 'dns' | 'datagram-echo' | 'netexec-udp' | 'unknown';

export interface Listener {
  port: number;
  protocol: Protocol;
  speaks: Speaks;
  container: string;
  /** Why we think so, for explanations: `agnhost porter (SERVE_PORT_1111)`. */
  because: string;
}

/** `registry.k8s.io/e2e-test-images/agnhost:2.53` -> `agnhost`. */
export function imageName(image: string): string {
  let name = imageNames.get(image);
  if (name === undefined) {
    name = imageNameOf(image);
    // Every exec asks, and a cluster runs a handful of images.
    if (imageNames.size < 1024) imageNames.set(image, name);
  }
  return name;
}

const imageNames = new Map<string, string>();

function imageNameOf(image: string): string {
  const withoutDigest = image.split('@')[0] ?? image;
  const last = withoutDigest.split('/').pop() ?? withoutDigest;
  return (last.split(':')[0] ?? last).toLowerCase();
}

function strings(v: unknown): string[] {
  return asArray(v).filter((s): s is string => typeof s === 'string');
}

/** `--flag=value` or `--flag value`; also single-dash spellings, as Go's flag packages accept both. */
function flagValue(args: string[], flag: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    for (const prefix of [`--${flag}`, `-${flag}`]) {
      if (a === prefix) return args[i + 1];
      if (a.startsWith(`${prefix}=`)) return a.slice(prefix.length + 1);
    }
  }
  return undefined;
}

function intFlag(args: string[], flag: string, fallback: number): number {
  const v = flagValue(args, flag);
  if (v === undefined) return fallback;
  const n = Number(v);
  return Number.isInteger(n) ? n : fallback;
}

function boolFlag(args: string[], flag: string, fallback: boolean): boolean {
  if (args.includes(`--${flag}`) || args.includes(`-${flag}`)) return true;
  const v = flagValue(args, flag);
  if (v === undefined) return fallback;
  return v === 'true' || v === '1';
}

/** The agnhost subcommand and its arguments, or undefined when the container runs something else. */
function agnhostInvocation(container: Json): { sub: string; args: string[] } | undefined {
  const command = strings(container.command);
  const args = strings(container.args);
  if (command.length === 0) {
    // The image's ENTRYPOINT is /agnhost and its CMD is `pause`.
    return args.length === 0 ? { sub: 'pause', args: [] } : { sub: args[0]!, args: args.slice(1) };
  }
  const all = [...command, ...args];
  const at = all.findIndex((a) => /(^|\/)agnhost(-2)?$/.test(a));
  if (at < 0) return undefined;
  const rest = all.slice(at + 1);
  return rest.length === 0 ? { sub: 'pause', args: [] } : { sub: rest[0]!, args: rest.slice(1) };
}

function envOf(container: Json): Map<string, string> {
  const env = new Map<string, string>();
  for (const e of asArray(container.env)) {
    const entry = asRecord(e);
    if (entry && typeof entry.name === 'string')
      env.set(entry.name, typeof entry.value === 'string' ? entry.value : '');
  }
  return env;
}

function declared(container: Json, name: string): Listener[] {
  return asArray(container.ports).flatMap((p) => {
    const port = asRecord(p);
    if (!port || typeof port.containerPort !== 'number') return [];
    const protocol: Protocol = isProtocol(port.protocol) ? port.protocol : 'TCP';
    return [
      {
        port: port.containerPort,
        protocol,
        speaks: 'unknown' as const,
        container: name,
        because: `declared containerPort ${port.containerPort}/${protocol}`,
      },
    ];
  });
}

function porterListeners(container: Json, name: string): Listener[] {
  const out: Listener[] = [];
  const kinds: Array<[prefix: string, protocol: Protocol, speaks: Speaks]> = [
    ['SERVE_PORT_', 'TCP', 'http'],
    ['SERVE_TCP_PORT_', 'TCP', 'http'],
    ['SERVE_TLS_PORT_', 'TCP', 'https'],
    ['SERVE_UDP_PORT_', 'UDP', 'datagram-echo'],
    ['SERVE_SCTP_PORT_', 'SCTP', 'unknown'],
  ];
  for (const key of envOf(container).keys()) {
    for (const [prefix, protocol, speaks] of kinds) {
      if (!key.startsWith(prefix)) continue;
      const port = Number(key.slice(prefix.length));
      if (Number.isInteger(port) && port >= 1 && port <= 65535) {
        out.push({ port, protocol, speaks, container: name, because: `agnhost porter (${key})` });
      }
    }
  }
  return out;
}

function agnhostListeners(
  container: Json,
  name: string,
  sub: string,
  args: string[],
): Listener[] | undefined {
  const at = (port: number, protocol: Protocol, speaks: Speaks, because: string): Listener => ({
    port,
    protocol,
    speaks,
    container: name,
    because,
  });
  switch (sub) {
    case 'porter':
      return porterListeners(container, name);
    case 'netexec': {
      const out: Listener[] = [];
      const http = intFlag(args, 'http-port', 8080);
      const udp = intFlag(args, 'udp-port', 8081);
      const sctp = intFlag(args, 'sctp-port', -1);
      if (http > 0) out.push(at(http, 'TCP', 'http', `agnhost netexec --http-port=${http}`));
      if (udp > 0) out.push(at(udp, 'UDP', 'netexec-udp', `agnhost netexec --udp-port=${udp}`));
      if (sctp > 0) out.push(at(sctp, 'SCTP', 'unknown', `agnhost netexec --sctp-port=${sctp}`));
      return out;
    }
    case 'serve-hostname': {
      const port = intFlag(args, 'port', 9376);
      const out: Listener[] = [];
      if (boolFlag(args, 'http', true))
        out.push(at(port, 'TCP', 'http', `agnhost serve-hostname --port=${port}`));
      else if (boolFlag(args, 'tcp', false))
        out.push(at(port, 'TCP', 'unknown', `agnhost serve-hostname --tcp --port=${port}`));
      if (boolFlag(args, 'udp', false))
        out.push(at(port, 'UDP', 'datagram-echo', `agnhost serve-hostname --udp --port=${port}`));
      return out;
    }
    case 'test-webserver':
      return [at(intFlag(args, 'port', 80), 'TCP', 'http', 'agnhost test-webserver')];
    case 'pause':
      return [];
    default:
      return undefined;
  }
}

function containerListeners(container: Json): Listener[] {
  const name = typeof container.name === 'string' ? container.name : '';
  const image = imageName(typeof container.image === 'string' ? container.image : '');
  if (image === 'agnhost') {
    const call = agnhostInvocation(container);
    const known = call ? agnhostListeners(container, name, call.sub, call.args) : undefined;
    if (known) return known;
  }
  if (image === 'coredns') {
    const because = 'CoreDNS (default Corefile)';
    return [
      { port: 53, protocol: 'UDP', speaks: 'dns', container: name, because },
      { port: 53, protocol: 'TCP', speaks: 'dns', container: name, because },
      { port: 9153, protocol: 'TCP', speaks: 'http', container: name, because },
      { port: 8080, protocol: 'TCP', speaks: 'http', container: name, because },
      { port: 8181, protocol: 'TCP', speaks: 'http', container: name, because },
    ];
  }
  if (image === 'nginx' || image === 'httpd' || image === 'nginx-unprivileged') {
    const web = {
      port: image === 'nginx-unprivileged' ? 8080 : 80,
      protocol: 'TCP' as const,
      speaks: 'http' as const,
      container: name,
      because: `${image} default`,
    };
    return [web, ...declared(container, name).filter((l) => l.port !== web.port || l.protocol !== 'TCP')];
  }
  return declared(container, name);
}

/** Everything the pod's running containers (and sidecar init containers) listen on. */
export function listenersOf(pod: KubeObject): Listener[] {
  // A stored pod is frozen (./state.ts) and shared by a cluster and its forks: read it once.
  let listeners = listenersOfStoredPods.get(pod);
  if (!listeners) {
    listeners = readListeners(pod);
    if (Object.isFrozen(pod)) listenersOfStoredPods.set(pod, Object.freeze(listeners) as Listener[]);
  }
  return listeners;
}

const listenersOfStoredPods = new WeakMap<KubeObject, Listener[]>();

function readListeners(pod: KubeObject): Listener[] {
  const spec = specOf(pod);
  const containers = [
    ...asArray(spec.containers),
    ...asArray(spec.initContainers).filter((c) => asRecord(c)?.restartPolicy === 'Always'),
  ];
  return containers.flatMap((c) => {
    const container = asRecord(c);
    return container ? containerListeners(container) : [];
  });
}

export function findListener(
  listeners: readonly Listener[],
  port: number,
  protocol: Protocol,
): Listener | undefined {
  return listeners.find((l) => l.port === port && l.protocol === protocol);
}
