/**
 * Turns what a probe command printed into an outcome. The texts matched here are the ones the
 * real tools print (curl 7.x/8.x, OpenBSD and busybox nc, agnhost connect, BIND dig); the simulated
 * cluster prints the same texts, so one classifier serves both paths.
 *
 * Rule of thumb: only a recognised answer becomes a verdict. Anything unexpected (a missing
 * binary, a kill by the timeout wrapper, an exit code the tool does not use for a network result)
 * is `error`, which the grader reports as an environment problem, never as "blocked".
 */
import type { ExecResult } from '../cluster/types.js';
import { defaultProbeTool, type ProbeTool } from './command.js';
import type { ProbeClassification, ProbeOutcome, ProbeSpec } from './types.js';

function firstLine(s: string): string {
  return (
    s
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l.length > 0) ?? ''
  );
}

function oneLine(s: string): string {
  return s
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .join(' | ');
}

function result(outcome: ProbeOutcome, detail: string): ProbeClassification {
  return { outcome, detail };
}

/** Exit codes that mean the command never produced a network answer, whatever the tool. */
function processFailure(r: ExecResult, tool: ProbeTool): ProbeClassification | undefined {
  const said = oneLine(r.stderr || r.stdout);
  const suffix = said ? `: ${said}` : '';
  if (r.exitCode === 127)
    return result('error', `${tool} could not be started (exit 127: command not found)${suffix}`);
  if (r.exitCode === 126)
    return result('error', `${tool} could not be started (exit 126: not executable)${suffix}`);
  if (r.exitCode === 124)
    return result('error', `${tool} was stopped by the timeout wrapper (exit 124)${suffix}`);
  if (r.exitCode === 137) {
    return result(
      'error',
      `${tool} was killed after its time limit (exit 137, SIGKILL) before it could report${suffix}`,
    );
  }
  if (r.exitCode > 128 && r.exitCode < 160)
    return result('error', `${tool} was killed by signal ${r.exitCode - 128}${suffix}`);
  if (r.exitCode < 0 || r.exitCode > 255)
    return result('error', `${tool} ended with an impossible exit code ${r.exitCode}${suffix}`);
  return undefined;
}

/** curl exit codes that can only happen after the TCP connection was established. */
const CURL_CONNECTED_CODES = new Map<number, string>([
  [8, 'the server answered something that is not HTTP'],
  [16, 'the server broke off HTTP/2'],
  [18, 'the server closed the connection mid-response'],
  [35, 'the TLS handshake failed'],
  [52, 'the server closed the connection without answering'],
  [55, 'sending the request failed after connecting'],
  [56, 'the server reset the connection after accepting it'],
]);

function classifyCurl(r: ExecResult): ProbeClassification {
  const msg = firstLine(r.stderr).replace(/^curl: \(\d+\)\s*/, '');
  const detail = (what: string) => `curl exit ${r.exitCode}: ${msg || what}`;
  switch (r.exitCode) {
    case 0:
      return result('allowed', 'curl exit 0: connected');
    case 6:
      return result('dns-failure', detail('could not resolve host'));
    case 7:
      // curl before 8 printed the system error, so the two causes of exit 7 could be told apart.
      // Calico drops and never rejects, so an explicit "no route" is a routing problem.
      if (/no route to host|network is unreachable|host is unreachable/i.test(msg))
        return result('error', detail('no route'));
      if (/connection refused/i.test(msg)) return result('refused', detail('connection refused'));
      // curl 8 says "Couldn't connect to server" for a refusal and an unreachable host alike. A
      // refusal (nothing listening, or a Service without endpoints) is by far the common cause
      // inside a cluster, so it stays "refused", but the words name both, for the grader's report.
      return result(
        'refused',
        `${detail("couldn't connect to server")} (refused: nothing listening on that port, or the host is unreachable; curl 8 does not say which)`,
      );
    case 28:
      if (/^Resolving timed out/i.test(msg)) return result('dns-failure', detail('resolving timed out'));
      // Reached after the connection was made: the server accepted it but sent no HTTP answer.
      if (/^Operation timed out after .* received/i.test(msg)) {
        return result('allowed', `curl exit 28: connected, but no HTTP answer (${msg})`);
      }
      return result('blocked', detail('connection timed out'));
    case 1:
      if (/HTTP\/0\.9/.test(msg))
        return result('allowed', `curl exit 1: connected, the server does not speak HTTP/1 (${msg})`);
      break;
  }
  const connected = CURL_CONNECTED_CODES.get(r.exitCode);
  if (connected)
    return result('allowed', `curl exit ${r.exitCode}: connected, but ${connected}${msg ? ` (${msg})` : ''}`);
  return result(
    'error',
    `curl exit ${r.exitCode}${msg ? `: ${msg}` : ''} (not a network answer kubelab understands)`,
  );
}

/** OpenBSD nc (agnhost image) and busybox nc print different texts; both are recognised. */
function classifyNc(r: ExecResult): ProbeClassification {
  const text = oneLine(`${r.stderr}\n${r.stdout}`);
  const detail = `nc exit ${r.exitCode}${text ? `: ${text}` : ''}`;
  if (r.exitCode === 0) return result('allowed', detail);
  if (
    /getaddrinfo|bad address|name does not resolve|name or service not known|temporary failure in name resolution/i.test(
      text,
    )
  ) {
    return result('dns-failure', detail);
  }
  if (/connection refused/i.test(text)) return result('refused', detail);
  if (/timed out|timeout/i.test(text)) return result('blocked', detail);
  return result('error', detail);
}

function classifyAgnhostConnect(r: ExecResult): ProbeClassification {
  const line = firstLine(r.stderr);
  const detail = `agnhost connect exit ${r.exitCode}${line ? `: ${line}` : ''}`;
  if (r.exitCode === 0) return result('allowed', detail);
  if (r.exitCode === 1) {
    if (/^TIMEOUT\b/.test(line)) return result('blocked', detail);
    if (/^REFUSED\b/.test(line)) return result('refused', detail);
    if (/^DNS\b/.test(line)) return result('dns-failure', detail);
  }
  return result('error', detail);
}

const ADDRESS_LINE = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:]*:[0-9a-f:.]+)$/i;
const DIG_NO_REPLY = /timed out|no servers could be reached/i;

/** dig for a name lookup: addresses printed = resolved; nothing = no such name; no reply = DNS dropped. */
function classifyDigLookup(r: ExecResult): ProbeClassification {
  const text = oneLine(`${r.stdout}\n${r.stderr}`);
  if (r.exitCode === 0) {
    const addresses = r.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => ADDRESS_LINE.test(l));
    if (addresses.length > 0) return result('allowed', `dig: resolved to ${addresses.join(', ')}`);
    if (/SERVFAIL/.test(text)) return result('dns-failure', `dig: the DNS server failed to answer (${text})`);
    if (text.length === 0 || !/;;/.test(text)) {
      return result('dns-failure', 'dig: the name does not exist (NXDOMAIN) or has no A record');
    }
  }
  if (DIG_NO_REPLY.test(text)) return result('dns-failure', `dig exit ${r.exitCode}: no DNS reply (${text})`);
  if (/connection refused/i.test(text))
    return result('dns-failure', `dig exit ${r.exitCode}: DNS server refused (${text})`);
  return result('error', `dig exit ${r.exitCode}${text ? `: ${text}` : ''}`);
}

/** dig used as a UDP reachability probe: any reply at all means the datagram reached a DNS server. */
function classifyDigReachability(r: ExecResult): ProbeClassification {
  const text = oneLine(`${r.stdout}\n${r.stderr}`);
  const detail = `dig exit ${r.exitCode}${text ? `: ${text}` : ''}`;
  if (r.exitCode === 0) return result('allowed', `dig exit 0: the DNS server answered`);
  if (/couldn't get address|not found|name does not resolve/i.test(text))
    return result('dns-failure', detail);
  if (/connection refused/i.test(text)) return result('refused', detail);
  if (DIG_NO_REPLY.test(text)) return result('blocked', detail);
  return result('error', detail);
}

/**
 * What a probe's output means. `tool` defaults to the tool `buildProbeArgv` uses for the spec;
 * pass it when the probe was built with another one.
 */
export function classifyProbe(
  spec: ProbeSpec,
  r: ExecResult,
  tool: ProbeTool = defaultProbeTool(spec),
): ProbeClassification {
  const failed = processFailure(r, tool);
  if (failed) return failed;
  switch (tool) {
    case 'curl':
      return classifyCurl(r);
    case 'nc':
      return classifyNc(r);
    case 'agnhost-connect':
      return classifyAgnhostConnect(r);
    case 'dig':
      return spec.kind === 'dns' ? classifyDigLookup(r) : classifyDigReachability(r);
  }
}
