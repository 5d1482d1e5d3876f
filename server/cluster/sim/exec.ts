/**
 * Answering a probe command as the pod would: resolve the name through CoreDNS (if it is one),
 * connect through the data plane, and print exactly what the real tool prints for that outcome,
 * with its exit code, so server/probe's classifier reads simulated and real output alike.
 *
 * Name resolution needs UDP 53 from the source pod to the kube-dns endpoints, judged like any
 * connection (source egress AND CoreDNS ingress, on every CoreDNS pod). TCP 53 alone is not
 * enough: resolvers ask over UDP first and only retry over TCP on a truncated answer. If only
 * some CoreDNS pods can be reached, a real resolver fails now and then; the simulation reports
 * that as an inconsistent result (an error naming each pod) rather than guessing.
 *
 * Simplifications, stated: a name with several addresses (headless Service) is judged on every
 * address like Service endpoints are; a dig UDP probe to a listener that does not speak DNS
 * prints a timeout, as dig gets no valid DNS reply; an agnhost UDP probe to a DNS server times
 * out, as CoreDNS ignores the non-DNS datagram.
 */
import type { ExecResult } from '../types.js';
import type { PodModel, Protocol } from '../../netpol/types.js';
import { isIP, type ProbeCommand } from '../../probe/command.js';
import type { DataPlane, ConnectReport } from './network.js';
import type { Speaks } from './listeners.js';

export interface ProbeRun {
  result: ExecResult;
  /** How long the command would take on a real cluster, in seconds. */
  seconds: number;
  /** What happened, step by step, in plain words. */
  trace: string[];
}

/** Exit code for answers a real cluster would not give consistently (see the file comment). */
export const INCONSISTENT_EXIT_CODE = 3;
const SOA_ANSWER = 'ns.dns.cluster.local. hostmaster.cluster.local. 1719830400 7200 1800 86400 30';
/** musl waits this long per lookup when DNS packets are dropped; Go's resolver twice as long. */
const MUSL_RESOLVER_SECONDS = 5;
const GO_RESOLVER_SECONDS = 10;

export type Event =
  | { kind: 'connected'; ip: string; speaks: Speaks | undefined }
  | { kind: 'refused'; ip: string }
  | { kind: 'dropped'; ip: string }
  | { kind: 'dns-timeout' }
  | { kind: 'dns-refused' }
  | { kind: 'nxdomain' }
  | { kind: 'inconsistent'; message: string };

export type Resolution =
  | { kind: 'ok'; ips: string[]; cnames: string[] }
  | { kind: 'dns-timeout' }
  | { kind: 'dns-refused' }
  | { kind: 'nxdomain' }
  | { kind: 'inconsistent'; message: string };

export function out(
  exitCode: number,
  stdout: string,
  stderr: string,
  seconds: number,
  trace: string[],
): ProbeRun {
  return { result: { exitCode, stdout, stderr }, seconds, trace };
}

export function inconsistentRun(message: string, trace: string[]): ProbeRun {
  return out(
    INCONSISTENT_EXIT_CODE,
    '',
    `kubelab (simulated cluster): ${message}. Probe each pod by its IP to see them one by one.\n`,
    0.01,
    trace,
  );
}

export function resolve(plane: DataPlane, source: PodModel, host: string, trace: string[]): Resolution {
  if (isIP(host)) return { kind: 'ok', ips: [host], cnames: [] };
  const transport = plane.dnsTransport(source);
  trace.push(`DNS: ${transport.report.target}: ${transport.report.why}`);
  if (transport.result === 'inconsistent') return { kind: 'inconsistent', message: transport.report.why };
  if (transport.result === 'timeout') return { kind: 'dns-timeout' };
  if (transport.result === 'refused') return { kind: 'dns-refused' };
  const answer = plane.dns.resolve(host, source.namespace);
  if (!answer) {
    trace.push(
      `DNS: CoreDNS answers NXDOMAIN for ${host} (search list of namespace ${source.namespace} included)`,
    );
    return { kind: 'nxdomain' };
  }
  trace.push(
    `DNS: ${host} resolves to ${[...answer.cnames.map((c) => `${c} (CNAME)`), ...answer.ips].join(', ')}`,
  );
  return { kind: 'ok', ips: answer.ips, cnames: answer.cnames };
}

function eventOf(report: ConnectReport, ip: string): Event {
  switch (report.result) {
    case 'connected':
      return { kind: 'connected', ip, speaks: report.speaks };
    case 'refused':
      return { kind: 'refused', ip };
    case 'dropped':
      return { kind: 'dropped', ip };
    case 'inconsistent':
      return { kind: 'inconsistent', message: report.why };
  }
}

/** Resolves, then connects to every address; addresses that disagree make the answer inconsistent. */
export function attempt(
  plane: DataPlane,
  source: PodModel,
  host: string,
  port: number,
  protocol: Protocol,
  trace: string[],
): Event {
  const r = resolve(plane, source, host, trace);
  if (r.kind !== 'ok') return r;
  const events = r.ips.map((ip) => {
    const report = plane.connect(source, ip, port, protocol);
    trace.push(`${report.target}: ${report.result}: ${report.why}`);
    return eventOf(report, ip);
  });
  const first = events[0];
  if (!first) return { kind: 'nxdomain' };
  const same = events.every(
    (e) =>
      e.kind === first.kind &&
      (e.kind !== 'connected' || first.kind !== 'connected' || e.speaks === first.speaks),
  );
  if (same) return first;
  return {
    kind: 'inconsistent',
    message: `${host} has ${events.length} addresses that answer differently (${events.map((e, i) => `${r.ips[i]}: ${e.kind}`).join('; ')})`,
  };
}

function displayHost(host: string): string {
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

function curlRun(host: string, port: number, t: number, e: Event, trace: string[]): ProbeRun {
  const h = displayHost(host);
  switch (e.kind) {
    case 'connected':
      if (e.speaks === 'dns') {
        // CoreDNS on TCP 53 reads the HTTP request as a DNS length prefix and waits for more.
        return out(
          28,
          '',
          `curl: (28) Operation timed out after ${(t + 1) * 1000 + 1} milliseconds with 0 bytes received\n`,
          t + 1,
          trace,
        );
      }
      return out(0, '', '', 0.01, trace);
    case 'refused':
      return out(
        7,
        '',
        `curl: (7) Failed to connect to ${h} port ${port} after 0 ms: Couldn't connect to server\n`,
        0.01,
        trace,
      );
    case 'dropped':
      return out(28, '', `curl: (28) Connection timed out after ${t * 1000 + 2} milliseconds\n`, t, trace);
    case 'dns-timeout':
      return out(28, '', `curl: (28) Resolving timed out after ${t * 1000 + 1} milliseconds\n`, t, trace);
    case 'dns-refused':
    case 'nxdomain':
      return out(6, '', `curl: (6) Could not resolve host: ${h}\n`, 0.01, trace);
    case 'inconsistent':
      return inconsistentRun(e.message, trace);
  }
}

export function ncRun(host: string, port: number, t: number, e: Event, trace: string[]): ProbeRun {
  const shown = (ip: string) => (isIP(host) ? ip : `${host} (${ip})`);
  switch (e.kind) {
    case 'connected':
      return out(0, '', `Connection to ${shown(e.ip)} ${port} port [tcp/*] succeeded!\n`, 0.01, trace);
    case 'refused':
      return out(
        1,
        '',
        `nc: connect to ${shown(e.ip)} port ${port} (tcp) failed: Connection refused\n`,
        0.01,
        trace,
      );
    case 'dropped':
      return out(
        1,
        '',
        `nc: connect to ${shown(e.ip)} port ${port} (tcp) timed out: Operation now in progress\n`,
        t,
        trace,
      );
    case 'dns-timeout':
    case 'dns-refused':
      // musl's resolver ignores ICMP errors and waits out its timeout either way.
      return out(
        1,
        '',
        `nc: getaddrinfo for host "${host}" port ${port}: Try again\n`,
        MUSL_RESOLVER_SECONDS,
        trace,
      );
    case 'nxdomain':
      return out(
        1,
        '',
        `nc: getaddrinfo for host "${host}" port ${port}: Name does not resolve\n`,
        0.01,
        trace,
      );
    case 'inconsistent':
      return inconsistentRun(e.message, trace);
  }
}

function agnhostRun(
  host: string,
  port: number,
  protocol: Protocol,
  t: number,
  e: Event,
  ctx: { sourceIp: string; nameserver: string },
  trace: string[],
): ProbeRun {
  const udpRead = (ip: string) => `read udp ${ctx.sourceIp}:40712->${ip}:${port}`;
  switch (e.kind) {
    case 'connected':
      if (protocol === 'UDP' && (e.speaks === 'dns' || e.speaks === 'http' || e.speaks === 'https')) {
        return out(1, '', `TIMEOUT: ${udpRead(e.ip)}: i/o timeout\n`, t, trace);
      }
      return out(0, '', '', 0.01, trace);
    case 'refused':
      return out(
        1,
        '',
        protocol === 'UDP' ? `REFUSED: ${udpRead(e.ip)}: read: connection refused\n` : 'REFUSED\n',
        0.01,
        trace,
      );
    case 'dropped':
      return out(
        1,
        '',
        protocol === 'UDP' ? `TIMEOUT: ${udpRead(e.ip)}: i/o timeout\n` : 'TIMEOUT\n',
        t,
        trace,
      );
    case 'dns-timeout':
      return out(
        1,
        '',
        `DNS: lookup ${host} on ${ctx.nameserver}:53: read udp ${ctx.sourceIp}:51234->${ctx.nameserver}:53: i/o timeout\n`,
        GO_RESOLVER_SECONDS,
        trace,
      );
    case 'dns-refused':
      return out(
        1,
        '',
        `DNS: lookup ${host} on ${ctx.nameserver}:53: read udp ${ctx.sourceIp}:51234->${ctx.nameserver}:53: read: connection refused\n`,
        0.01,
        trace,
      );
    case 'nxdomain':
      return out(1, '', `DNS: lookup ${host} on ${ctx.nameserver}:53: no such host\n`, 0.01, trace);
    case 'inconsistent':
      return inconsistentRun(e.message, trace);
  }
}

function digReachabilityRun(host: string, port: number, t: number, e: Event, trace: string[]): ProbeRun {
  const noReply = (ip: string, why: string) =>
    `;; communications error to ${ip}#${port}: ${why}\n;; no servers could be reached\n`;
  switch (e.kind) {
    case 'connected':
      if (e.speaks === 'dns') return out(0, `${SOA_ANSWER}\n`, '', 0.01, trace);
      if (e.speaks === 'unknown') return out(0, '', '', 0.01, trace);
      return out(9, noReply(e.ip, 'timed out'), '', t, trace);
    case 'refused':
      return out(9, noReply(e.ip, 'connection refused'), '', 0.01, trace);
    case 'dropped':
      return out(9, noReply(e.ip, 'timed out'), '', t, trace);
    case 'dns-timeout':
    case 'dns-refused':
    case 'nxdomain':
      return out(
        10,
        '',
        `dig: couldn't get address for '${host}': not found\n`,
        e.kind === 'nxdomain' ? 0.01 : MUSL_RESOLVER_SECONDS,
        trace,
      );
    case 'inconsistent':
      return inconsistentRun(e.message, trace);
  }
}

function digLookupRun(
  plane: DataPlane,
  source: PodModel,
  name: string,
  t: number,
  trace: string[],
): ProbeRun {
  const r = resolve(plane, source, name, trace);
  const nameserver = plane.nameserver();
  const noReply = (why: string) =>
    `;; communications error to ${nameserver}#53: ${why}\n;; no servers could be reached\n`;
  switch (r.kind) {
    case 'ok':
      return out(
        0,
        [...r.cnames.map((c) => `${c}.`), ...r.ips].map((l) => `${l}\n`).join(''),
        '',
        0.01,
        trace,
      );
    case 'nxdomain':
      return out(0, '', '', 0.01, trace);
    case 'dns-timeout':
      return out(9, noReply('timed out'), '', t, trace);
    case 'dns-refused':
      return out(9, noReply('connection refused'), '', 0.01, trace);
    case 'inconsistent':
      return inconsistentRun(r.message, trace);
  }
}

/** Runs a probe command from `source` and returns what the pod would print. */
export function runProbe(plane: DataPlane, source: PodModel, command: ProbeCommand): ProbeRun {
  const trace: string[] = [];
  const { spec, tool } = command;
  const t = spec.timeoutSeconds;
  if (spec.kind === 'dns') return digLookupRun(plane, source, spec.name, t, trace);
  const protocol: Protocol = spec.kind === 'udp' ? 'UDP' : 'TCP';
  const e = attempt(plane, source, spec.host, spec.port, protocol, trace);
  switch (tool) {
    case 'curl':
      return curlRun(spec.host, spec.port, t, e, trace);
    case 'nc':
      return ncRun(spec.host, spec.port, t, e, trace);
    case 'agnhost-connect':
      return agnhostRun(
        spec.host,
        spec.port,
        protocol,
        t,
        e,
        { sourceIp: source.ips[0] ?? '0.0.0.0', nameserver: plane.nameserver() },
        trace,
      );
    case 'dig':
      return digReachabilityRun(spec.host, spec.port, t, e, trace);
  }
}
