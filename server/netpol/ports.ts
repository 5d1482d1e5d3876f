/**
 * Port rules. A rule port matches when its protocol (default TCP) equals the connection's and its
 * port is absent (every port), equal to the destination port, inside [port, endPort], or a name
 * that the DESTINATION pod gives to that port number with that protocol (Calico resolves named
 * ports on the pod receiving the connection, in both directions).
 */
import type { ContainerPortModel, NetworkPolicyPort, PodModel, Protocol } from './types.js';

export const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];

export function isProtocol(v: unknown): v is Protocol {
  return typeof v === 'string' && (PROTOCOLS as readonly string[]).includes(v);
}

/** The container port a pod exposes under `name` for `protocol`, if any. */
export function resolveNamedPort(
  pod: Pick<PodModel, 'ports'> | undefined,
  name: string,
  protocol: Protocol,
): ContainerPortModel | undefined {
  return pod?.ports.find((p) => p.name === name && p.protocol === protocol);
}

/**
 * Does one entry of a rule's `ports` admit this connection? `port` is the already-resolved
 * destination port number (undefined when the connection named a port the destination lacks:
 * then only a portless entry can match).
 */
export function portEntryMatches(
  entry: NetworkPolicyPort,
  port: number | undefined,
  protocol: Protocol,
  destination: Pick<PodModel, 'ports'> | undefined,
): boolean {
  if ((entry.protocol ?? 'TCP') !== protocol) return false;
  if (entry.port === undefined) return true;
  if (port === undefined) return false;
  if (typeof entry.port === 'number') {
    if (entry.endPort !== undefined) return port >= entry.port && port <= entry.endPort;
    return port === entry.port;
  }
  // A name the destination does not define matches nothing (that entry is skipped, not an error).
  return resolveNamedPort(destination, entry.port, protocol)?.port === port;
}

/** An absent or empty `ports` list admits every port and protocol. */
export function portsMatch(
  ports: readonly NetworkPolicyPort[] | undefined,
  port: number | undefined,
  protocol: Protocol,
  destination: Pick<PodModel, 'ports'> | undefined,
): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((entry) => portEntryMatches(entry, port, protocol, destination));
}

/** True when the answer depends on the destination pod (some entry uses a named port). */
export function usesNamedPort(ports: readonly NetworkPolicyPort[] | undefined): boolean {
  return (ports ?? []).some((p) => typeof p.port === 'string');
}

/** `TCP 1111`, `UDP 53`, `TCP 8000-8080`, `TCP port "http"`, `any port` for reasons. */
export function describePortEntry(entry: NetworkPolicyPort): string {
  const proto = entry.protocol ?? 'TCP';
  if (entry.port === undefined) return `${proto} (any port)`;
  if (typeof entry.port === 'string') return `${proto} port "${entry.port}"`;
  return entry.endPort !== undefined ? `${proto} ${entry.port}-${entry.endPort}` : `${proto} ${entry.port}`;
}

/**
 * IANA_SVC_NAME as the API server checks named ports: at most 15 characters, lowercase letters,
 * digits and '-', at least one letter, no '-' at either end and no '--'. Returns every message.
 */
export function portNameProblems(name: string): string[] {
  const problems: string[] = [];
  if (name.length > 15) problems.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(name))
    problems.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (name.includes('--')) problems.push('must not contain consecutive hyphens');
  if (!/[a-z]/.test(name)) problems.push('must contain at least one letter (a-z)');
  if (name.startsWith('-') || name.endsWith('-')) problems.push('must not begin or end with a hyphen');
  return problems;
}

export function isValidPortNumber(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}
