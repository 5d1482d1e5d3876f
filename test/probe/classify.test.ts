import { describe, it, expect } from 'vitest';
import { classifyProbe, type ProbeTool } from '../../server/probe/index.js';
import type { ProbeOutcome, ProbeSpec } from '../../server/probe/types.js';

const tcp: ProbeSpec = { kind: 'tcp', host: 'db1.np-lab.svc.cluster.local.', port: 1111, timeoutSeconds: 2 };
const udp53: ProbeSpec = { kind: 'udp', host: '10.96.0.10', port: 53, timeoutSeconds: 2 };
const udp: ProbeSpec = { kind: 'udp', host: '192.168.1.7', port: 8081, timeoutSeconds: 2 };
const dns: ProbeSpec = { kind: 'dns', name: 'db1.np-lab.svc.cluster.local.', timeoutSeconds: 2 };

interface Fixture {
  what: string;
  spec: ProbeSpec;
  tool?: ProbeTool;
  exitCode: number;
  stdout?: string;
  stderr?: string;
  outcome: ProbeOutcome;
  detail?: RegExp;
}

// Texts as the tools print them (curl 7.8x and 8.x wording both appear in the wild).
const fixtures: Fixture[] = [
  // curl
  { what: 'curl connected', spec: tcp, exitCode: 0, outcome: 'allowed', detail: /connected/ },
  {
    what: 'curl 8 refused',
    spec: tcp,
    exitCode: 7,
    stderr:
      "curl: (7) Failed to connect to db1.np-lab.svc.cluster.local port 1111 after 1 ms: Couldn't connect to server\n",
    outcome: 'refused',
    // curl 8 no longer prints the system error: the words must cover a refusal and an unreachable host.
    detail:
      /^curl exit 7: Failed to connect to .* Couldn't connect to server \(refused: nothing listening on that port, or the host is unreachable; curl 8 does not say which\)$/,
  },
  {
    what: 'curl 8 unreachable host reads exactly like a refusal, and is worded for both',
    spec: tcp,
    exitCode: 7,
    stderr: "curl: (7) Failed to connect to 10.0.3.4 port 80 after 3071 ms: Couldn't connect to server\n",
    outcome: 'refused',
    detail: /or the host is unreachable/,
  },
  {
    what: 'curl 7 refused names the refusal only',
    spec: tcp,
    exitCode: 7,
    stderr: 'curl: (7) Failed to connect to 10.96.44.2 port 1111 after 0 ms: Connection refused\n',
    outcome: 'refused',
    detail: /^curl exit 7: Failed to connect to 10\.96\.44\.2 port 1111 after 0 ms: Connection refused$/,
  },
  {
    what: 'curl 7 refused',
    spec: tcp,
    exitCode: 7,
    stderr: 'curl: (7) Failed to connect to 10.96.44.2 port 1111 after 0 ms: Connection refused\n',
    outcome: 'refused',
  },
  {
    what: 'curl connect timeout (multi handler wording)',
    spec: tcp,
    exitCode: 28,
    stderr: 'curl: (28) Connection timed out after 2002 milliseconds\n',
    outcome: 'blocked',
    detail: /Connection timed out after 2002 milliseconds/,
  },
  {
    what: 'curl connect timeout (happy eyeballs wording)',
    spec: tcp,
    exitCode: 28,
    stderr: 'curl: (28) Connection timeout after 2001 ms\n',
    outcome: 'blocked',
  },
  {
    what: 'curl connect timeout (kernel ETIMEDOUT wording)',
    spec: tcp,
    exitCode: 28,
    stderr: 'curl: (28) Failed to connect to 10.96.44.2 port 1111 after 2001 ms: Timeout was reached\n',
    outcome: 'blocked',
  },
  {
    what: 'curl DNS packets dropped',
    spec: tcp,
    exitCode: 28,
    stderr: 'curl: (28) Resolving timed out after 2000 milliseconds\n',
    outcome: 'dns-failure',
    detail: /Resolving timed out/,
  },
  {
    what: 'curl unknown name',
    spec: tcp,
    exitCode: 6,
    stderr: 'curl: (6) Could not resolve host: nothere.np-lab.svc.cluster.local\n',
    outcome: 'dns-failure',
    detail: /Could not resolve host/,
  },
  {
    what: 'curl connected to a server that never answers HTTP',
    spec: tcp,
    exitCode: 28,
    stderr: 'curl: (28) Operation timed out after 3001 milliseconds with 0 bytes received\n',
    outcome: 'allowed',
    detail: /connected, but no HTTP answer/,
  },
  {
    what: 'curl connected, server closed',
    spec: tcp,
    exitCode: 52,
    stderr: 'curl: (52) Empty reply from server\n',
    outcome: 'allowed',
  },
  {
    what: 'curl connected, reset by peer',
    spec: tcp,
    exitCode: 56,
    stderr: 'curl: (56) Recv failure: Connection reset by peer\n',
    outcome: 'allowed',
  },
  {
    what: 'curl connected to a non-HTTP server',
    spec: tcp,
    exitCode: 1,
    stderr: 'curl: (1) Received HTTP/0.9 when not allowed\n',
    outcome: 'allowed',
  },
  {
    what: 'curl no route to host is not a refusal',
    spec: tcp,
    exitCode: 7,
    stderr: 'curl: (7) Failed to connect to 10.0.3.4 port 80 after 3071 ms: No route to host\n',
    outcome: 'error',
  },
  {
    what: 'curl missing (busybox timeout)',
    spec: tcp,
    exitCode: 127,
    stderr: "timeout: can't execute 'curl': No such file or directory\n",
    outcome: 'error',
    detail: /command not found.*can't execute 'curl'/,
  },
  {
    what: 'curl missing (shell)',
    spec: tcp,
    exitCode: 127,
    stderr: 'sh: curl: not found\n',
    outcome: 'error',
  },
  {
    what: 'not executable',
    spec: tcp,
    exitCode: 126,
    stderr: 'sh: /usr/bin/curl: Permission denied\n',
    outcome: 'error',
  },
  { what: 'killed by the wrapper', spec: tcp, exitCode: 137, outcome: 'error', detail: /SIGKILL/ },
  { what: 'GNU timeout', spec: tcp, exitCode: 124, outcome: 'error' },
  {
    what: 'curl malformed URL',
    spec: tcp,
    exitCode: 3,
    stderr: 'curl: (3) URL rejected: Bad hostname\n',
    outcome: 'error',
  },
  {
    what: 'curl proxy failure',
    spec: tcp,
    exitCode: 5,
    stderr: 'curl: (5) Could not resolve proxy: proxy\n',
    outcome: 'error',
  },

  // OpenBSD nc (the agnhost image) and busybox nc
  {
    what: 'openbsd nc connected',
    spec: tcp,
    tool: 'nc',
    exitCode: 0,
    stderr: 'Connection to 10.96.44.2 1111 port [tcp/*] succeeded!\n',
    outcome: 'allowed',
  },
  {
    what: 'openbsd nc refused',
    spec: tcp,
    tool: 'nc',
    exitCode: 1,
    stderr: 'nc: connect to 10.96.44.2 port 1111 (tcp) failed: Connection refused\n',
    outcome: 'refused',
  },
  {
    what: 'openbsd nc timeout',
    spec: tcp,
    tool: 'nc',
    exitCode: 1,
    stderr: 'nc: connect to 10.96.44.2 port 1111 (tcp) timed out: Operation now in progress\n',
    outcome: 'blocked',
  },
  {
    what: 'openbsd nc unknown name (musl)',
    spec: tcp,
    tool: 'nc',
    exitCode: 1,
    stderr: 'nc: getaddrinfo for host "nothere" port 1111: Name does not resolve\n',
    outcome: 'dns-failure',
  },
  {
    what: 'openbsd nc DNS dropped (musl EAI_AGAIN)',
    spec: tcp,
    tool: 'nc',
    exitCode: 1,
    stderr: 'nc: getaddrinfo for host "db1" port 1111: Try again\n',
    outcome: 'dns-failure',
  },
  {
    what: 'busybox nc refused',
    spec: tcp,
    tool: 'nc',
    exitCode: 1,
    stderr: "nc: can't connect to remote host (10.96.44.2): Connection refused\n",
    outcome: 'refused',
  },
  {
    what: 'busybox nc timeout',
    spec: tcp,
    tool: 'nc',
    exitCode: 1,
    stderr: "nc: can't connect to remote host (10.96.44.2): Connection timed out\n",
    outcome: 'blocked',
  },
  {
    what: 'busybox nc bad name',
    spec: tcp,
    tool: 'nc',
    exitCode: 1,
    stderr: "nc: bad address 'nothere'\n",
    outcome: 'dns-failure',
  },
  {
    what: 'nc unexpected',
    spec: tcp,
    tool: 'nc',
    exitCode: 1,
    stderr: 'nc: invalid option -- z\n',
    outcome: 'error',
  },

  // agnhost connect
  { what: 'agnhost connected', spec: tcp, tool: 'agnhost-connect', exitCode: 0, outcome: 'allowed' },
  {
    what: 'agnhost timeout',
    spec: tcp,
    tool: 'agnhost-connect',
    exitCode: 1,
    stderr: 'TIMEOUT\n',
    outcome: 'blocked',
  },
  {
    what: 'agnhost refused',
    spec: tcp,
    tool: 'agnhost-connect',
    exitCode: 1,
    stderr: 'REFUSED\n',
    outcome: 'refused',
  },
  {
    what: 'agnhost DNS',
    spec: tcp,
    tool: 'agnhost-connect',
    exitCode: 1,
    stderr: 'DNS: lookup nothere on 10.96.0.10:53: no such host\n',
    outcome: 'dns-failure',
  },
  {
    what: 'agnhost other',
    spec: tcp,
    tool: 'agnhost-connect',
    exitCode: 1,
    stderr: 'OTHER: dial tcp 10.0.3.4:80: connect: no route to host\n',
    outcome: 'error',
  },
  {
    what: 'agnhost UDP timeout',
    spec: udp,
    tool: 'agnhost-connect',
    exitCode: 1,
    stderr: 'TIMEOUT: read udp 192.168.1.5:40000->192.168.1.7:8081: i/o timeout\n',
    outcome: 'blocked',
  },
  {
    what: 'agnhost UDP refused',
    spec: udp,
    exitCode: 1,
    stderr: 'REFUSED: read udp 192.168.1.5:40000->192.168.1.7:8081: read: connection refused\n',
    outcome: 'refused',
  },

  // dig as the DNS lookup
  {
    what: 'dig resolved',
    spec: dns,
    exitCode: 0,
    stdout: '10.96.44.2\n',
    outcome: 'allowed',
    detail: /resolved to 10\.96\.44\.2/,
  },
  {
    what: 'dig resolved through a CNAME',
    spec: dns,
    exitCode: 0,
    stdout: 'partner.example.net.\n203.0.113.10\n',
    outcome: 'allowed',
  },
  {
    what: 'dig NXDOMAIN (+short prints nothing)',
    spec: dns,
    exitCode: 0,
    stdout: '',
    outcome: 'dns-failure',
    detail: /NXDOMAIN/,
  },
  {
    what: 'dig timeout (BIND 9.16 wording)',
    spec: dns,
    exitCode: 9,
    stdout: ';; connection timed out; no servers could be reached\n',
    outcome: 'dns-failure',
    detail: /no DNS reply/,
  },
  {
    what: 'dig timeout (BIND 9.18+ wording)',
    spec: dns,
    exitCode: 9,
    stdout: ';; communications error to 10.96.0.10#53: timed out\n;; no servers could be reached\n',
    outcome: 'dns-failure',
  },
  {
    what: 'dig SERVFAIL',
    spec: dns,
    exitCode: 0,
    stdout: ';; Got SERVFAIL reply from 10.96.0.10, trying next server\n',
    outcome: 'dns-failure',
  },
  {
    what: 'dig missing',
    spec: dns,
    exitCode: 127,
    stderr: "timeout: can't execute 'dig': No such file or directory\n",
    outcome: 'error',
  },
  { what: 'dig usage error', spec: dns, exitCode: 1, stderr: 'Invalid option: +bogus\n', outcome: 'error' },

  // dig as a UDP reachability probe of a DNS server
  {
    what: 'dig UDP answered',
    spec: udp53,
    exitCode: 0,
    stdout: 'ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 30\n',
    outcome: 'allowed',
  },
  {
    what: 'dig UDP answered NXDOMAIN is still a reply',
    spec: udp53,
    exitCode: 0,
    stdout: '',
    outcome: 'allowed',
  },
  {
    what: 'dig UDP dropped',
    spec: udp53,
    exitCode: 9,
    stdout: ';; communications error to 10.96.0.10#53: timed out\n;; no servers could be reached\n',
    outcome: 'blocked',
  },
  {
    what: 'dig UDP refused',
    spec: udp53,
    exitCode: 9,
    stdout: ';; communications error to 192.168.1.7#53: connection refused\n;; no servers could be reached\n',
    outcome: 'refused',
  },
];

describe('classifyProbe', () => {
  for (const f of fixtures) {
    it(`${f.what} -> ${f.outcome}`, () => {
      const c = classifyProbe(
        f.spec,
        { exitCode: f.exitCode, stdout: f.stdout ?? '', stderr: f.stderr ?? '' },
        f.tool,
      );
      expect(c.outcome).toBe(f.outcome);
      expect(c.detail).not.toContain('\n');
      if (f.detail) expect(c.detail).toMatch(f.detail);
    });
  }

  it('never turns an unknown exit code into a verdict', () => {
    for (let code = 0; code < 256; code++) {
      const c = classifyProbe(tcp, { exitCode: code, stdout: '', stderr: '' });
      const known: Record<number, ProbeOutcome> = {
        0: 'allowed',
        6: 'dns-failure',
        7: 'refused',
        28: 'blocked',
      };
      const connectedAfterHandshake = [8, 16, 18, 35, 52, 55, 56];
      if (code in known) expect(c.outcome).toBe(known[code]);
      else if (connectedAfterHandshake.includes(code)) expect(c.outcome).toBe('allowed');
      else expect(c.outcome).toBe('error');
    }
  });
});
