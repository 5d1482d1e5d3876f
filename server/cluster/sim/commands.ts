/**
 * The commands a learner types into `kubectl exec` (curl, wget, nc, nslookup, dig, optionally
 * behind `timeout`), answered from the simulated network with the texts and exit codes the real
 * tools print in the agnhost image (Alpine: curl 8, busybox wget and timeout, OpenBSD nc,
 * bind-tools nslookup and dig).
 *
 * The grader's own probe commands never come here: the cluster answers those exactly through
 * exec.ts first, so widening what a learner may type cannot change a grade.
 *
 * What is not modelled is refused with a sentence saying so (a NotSimulated result), never
 * guessed: shells, pipes, files, other programs, HTTP methods and headers beyond a plain GET.
 */
import type { PodModel } from '../../netpol/types.js';
import { isIP } from '../../probe/command.js';
import type { DataPlane } from './network.js';
import { attempt, inconsistentRun, ncRun, out, resolve, type Event, type ProbeRun } from './exec.js';
import { asArray, asRecord, specOf } from './state.js';

export interface NotSimulated {
  notSimulated: string;
}

export type CommandRun = ProbeRun | NotSimulated;

/** Programs the learner may run, keyed by the file the image holds them in. */
export const TYPED_PROGRAMS = ['curl', 'wget', 'nc', 'nslookup', 'dig'] as const;

interface Ctx {
  plane: DataPlane;
  source: PodModel;
  /** Programs the container's image has. */
  has: (program: string) => boolean;
  now: Date;
}

const NOT_SIMULATED_HINT =
  'the simulated pods answer curl, wget, nc, nslookup and dig (optionally behind `timeout N`), hostname, env and cat /etc/resolv.conf; other programs, shells and pipes are not simulated';

function notSimulated(what: string): NotSimulated {
  return { notSimulated: `${what}: ${NOT_SIMULATED_HINT}` };
}

export function runTypedCommand(ctx: Ctx, argv: readonly string[]): CommandRun {
  let args = [...argv];
  let limit: number | undefined;
  if (args[0] === 'timeout') {
    const wrapped = parseTimeout(args.slice(1));
    if (!wrapped) return notSimulated(`this form of timeout (${argv.join(' ')})`);
    limit = wrapped.seconds;
    args = wrapped.rest;
  }
  const program = args[0] ?? '';
  const base = program.split('/').pop() ?? program;
  if (!(TYPED_PROGRAMS as readonly string[]).includes(base)) return notSimulated(`\`${program}\``);
  if (!ctx.has(base)) {
    return out(127, '', '', 0, [`the image has no ${base}`]);
  }
  let run: CommandRun;
  switch (base) {
    case 'curl':
      run = curl(ctx, args.slice(1));
      break;
    case 'wget':
      run = wget(ctx, args.slice(1));
      break;
    case 'nc':
      run = nc(ctx, args.slice(1));
      break;
    case 'nslookup':
      run = nslookup(ctx, args.slice(1));
      break;
    default:
      run = dig(ctx, args.slice(1));
  }
  if (limit !== undefined && 'result' in run && run.seconds > limit) {
    // busybox timeout sends TERM by default; the tool dies silently with 143 (KILL: 137).
    return out(limit === 0 ? 0 : 143, '', '', limit, [...run.trace, `killed by timeout after ${limit}s`]);
  }
  return run;
}

function parseTimeout(args: string[]): { seconds: number; rest: string[] } | undefined {
  let i = 0;
  if (args[i] === '-s') i += 2;
  if (/^\d+$/.test(args[i] ?? '')) return { seconds: Number(args[i]), rest: args.slice(i + 1) };
  return undefined;
}

// ---- HTTP ----------------------------------------------------------------------------------------

interface Url {
  scheme: 'http' | 'https';
  host: string;
  port: number;
  path: string;
}

function parseUrl(text: string): Url | undefined {
  const m = /^(?:(https?):\/\/)?(\[[^\]]+\]|[^/:?#]+)(?::(\d{1,5}))?([/?#].*)?$/i.exec(text);
  if (!m) return undefined;
  const scheme = (m[1]?.toLowerCase() ?? 'http') as 'http' | 'https';
  const port = m[3] ? Number(m[3]) : scheme === 'https' ? 443 : 80;
  if (port < 1 || port > 65535) return undefined;
  return { scheme, host: m[2]!.replace(/^\[|\]$/g, ''), port, path: m[4] ?? '/' };
}

/** What the program behind a connected port answers to `GET /`. */
function httpBody(ctx: Ctx, event: Extract<Event, { kind: 'connected' }>, port: number): string | undefined {
  const report = ctx.plane.connect(ctx.source, event.ip, port, 'TCP');
  const hop = report.hops.find((h) => h.result === 'connected');
  const [ns, name] = (hop?.endpoint ?? '').split('/');
  const entry = ns && name ? ctx.plane.podEntry(ns, name) : undefined;
  if (!entry || !hop) return undefined;
  const listener = entry.listeners.find((l) => l.port === hop.port && l.protocol === 'TCP');
  const porter = /^agnhost porter \((SERVE_(?:TCP_)?PORT_\d+)\)$/.exec(listener?.because ?? '');
  if (porter) {
    for (const c of asArray(specOf(entry.pod).containers)) {
      const env = asArray(asRecord(c)?.env).map((e) => asRecord(e) ?? {});
      const value = env.find((e) => e.name === porter[1])?.value;
      if (typeof value === 'string') return value;
    }
    return '';
  }
  if (listener?.because.startsWith('agnhost netexec')) return `NOW: ${goTime(ctx.now)}`;
  return undefined;
}

/** Go's time.Now().String() as netexec prints it (UTC in the pod). */
function goTime(d: Date): string {
  const iso = d.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${iso.slice(20, 23)}000000 +0000 UTC m=+${(d.getTime() % 100000) / 1000}`;
}

function curl(ctx: Ctx, args: string[]): CommandRun {
  let silent = false;
  let showErrors = false;
  let fail = false;
  let maxTime: number | undefined;
  let connectTimeout: number | undefined;
  let toNull = false;
  let head = false;
  const urls: string[] = [];
  const number = (v: string | undefined) =>
    v !== undefined && /^\d+(\.\d+)?$/.test(v) ? Number(v) : undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = () => args[++i];
    if (a === '--max-time' || a === '-m') {
      maxTime = number(value());
      if (maxTime === undefined) return notSimulated(`curl ${a} without a number of seconds`);
    } else if (a.startsWith('--max-time=')) maxTime = number(a.slice(11));
    else if (a === '--connect-timeout') connectTimeout = number(value());
    else if (a === '-o' || a === '--output') toNull = value() !== '-';
    else if (a === '--noproxy') value();
    else if (a === '-I' || a === '--head') head = true;
    else if (a === '--silent') silent = true;
    else if (a === '--show-error') showErrors = true;
    else if (a === '--fail') fail = true;
    else if (a === '--globoff' || a === '--location' || a === '--insecure' || a === '--verbose') continue;
    else if (/^-[sSfgLkv]+$/.test(a)) {
      if (a.includes('s')) silent = true;
      if (a.includes('S')) showErrors = true;
      if (a.includes('f')) fail = true;
      if (a.includes('v')) return notSimulated('curl -v (its connection trace)');
    } else if (a.startsWith('-')) return notSimulated(`curl option ${a}`);
    else urls.push(a);
  }
  if (urls.length !== 1) {
    return urls.length === 0
      ? out(
          2,
          '',
          "curl: no URL specified\ncurl: try 'curl --help' or 'curl --manual' for more information\n",
          0,
          [],
        )
      : notSimulated('curl with more than one URL');
  }
  const url = parseUrl(urls[0]!);
  if (!url) return out(3, '', `curl: (3) URL rejected: Bad hostname\n`, 0, []);
  if (url.scheme === 'https') return notSimulated('curl https:// (TLS)');
  void fail;
  const errors = !silent || showErrors;
  const say = (code: number, text: string, seconds: number, trace: string[]) =>
    out(code, '', errors ? `curl: (${code}) ${text}\n` : '', seconds, trace);
  const trace: string[] = [];
  const e = attempt(ctx.plane, ctx.source, url.host, url.port, 'TCP', trace);
  // curl's connect phase (resolve + handshake) ends at --connect-timeout, or else at --max-time;
  // with neither, the kernel gives up on an unanswered SYN after about 130 s.
  const connectLimit = Math.min(connectTimeout ?? Infinity, maxTime ?? Infinity);
  const host = url.host;
  switch (e.kind) {
    case 'connected': {
      if (e.speaks === 'dns') {
        const t = maxTime ?? 300;
        return say(
          28,
          `Operation timed out after ${t * 1000 + 1} milliseconds with 0 bytes received`,
          t,
          trace,
        );
      }
      const body = httpBody(ctx, e, url.port);
      if (body === undefined)
        return notSimulated(
          `the answer of ${host}:${url.port} (the simulation knows it accepts connections, not what it replies)`,
        );
      if (head) {
        const headers = `HTTP/1.1 200 OK\r\nDate: ${ctx.now.toUTCString()}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n`;
        return out(0, toNull ? '' : headers, '', 0.01, trace);
      }
      return out(0, toNull ? '' : body, '', 0.01, trace);
    }
    case 'refused':
      return say(
        7,
        `Failed to connect to ${host} port ${url.port} after 0 ms: Couldn't connect to server`,
        0.01,
        trace,
      );
    case 'dropped':
      if (connectLimit === Infinity)
        return say(
          28,
          `Failed to connect to ${host} port ${url.port} after 130012 ms: Couldn't connect to server`,
          130,
          trace,
        );
      return say(
        28,
        `Connection timed out after ${connectLimit * 1000 + 1} milliseconds`,
        connectLimit,
        trace,
      );
    case 'dns-timeout': {
      const t = connectLimit === Infinity ? 10 : connectLimit;
      return connectLimit === Infinity
        ? say(6, `Could not resolve host: ${host}`, t, trace)
        : say(28, `Resolving timed out after ${t * 1000 + 1} milliseconds`, t, trace);
    }
    case 'dns-refused':
    case 'nxdomain':
      return say(6, `Could not resolve host: ${host}`, 0.01, trace);
    case 'inconsistent':
      return inconsistentRun(e.message, trace);
  }
}

function wget(ctx: Ctx, args: string[]): CommandRun {
  let quiet = false;
  let output: string | undefined;
  let timeout = 900;
  let spider = false;
  const urls: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-q') quiet = true;
    else if (a === '-O') output = args[++i];
    else if (a.startsWith('-O')) output = a.slice(2);
    else if (a === '-qO-' || a === '-qO') {
      quiet = true;
      output = a === '-qO-' ? '-' : args[++i];
    } else if (a === '-T') timeout = Number(args[++i]);
    else if (a.startsWith('-T')) timeout = Number(a.slice(2));
    else if (a.startsWith('--timeout=')) timeout = Number(a.slice(10));
    else if (a === '--spider') spider = true;
    else if (a.startsWith('-')) return notSimulated(`wget option ${a}`);
    else urls.push(a);
  }
  if (!Number.isFinite(timeout)) return notSimulated('wget -T without a number of seconds');
  if (urls.length !== 1)
    return notSimulated(urls.length === 0 ? 'wget without a URL' : 'wget with several URLs');
  const url = parseUrl(urls[0]!);
  if (!url) return out(1, '', `wget: bad address '${urls[0]}'\n`, 0, []);
  if (url.scheme === 'https') return notSimulated('wget https:// (TLS)');
  const trace: string[] = [];
  const e = attempt(ctx.plane, ctx.source, url.host, url.port, 'TCP', trace);
  const hostPort = `${url.host}:${url.port}`;
  const toStdout = output === '-';
  const file = output ?? (url.path.split('/').pop() || 'index.html');
  switch (e.kind) {
    case 'connected': {
      const body = e.speaks === 'dns' ? undefined : httpBody(ctx, e, url.port);
      if (body === undefined) return notSimulated(`the answer of ${hostPort}`);
      if (output !== undefined && !toStdout)
        return notSimulated(`writing files in the pod (wget -O ${file})`);
      if (!spider && !toStdout) return notSimulated(`writing files in the pod (wget saves ${file})`);
      const progress = quiet
        ? ''
        : `Connecting to ${hostPort} (${e.ip}:${url.port})\n${spider ? 'remote file exists\n' : `writing to stdout\n-                    100% |********************************|    ${Buffer.byteLength(body)}  0:00:00 ETA\nwritten to stdout\n`}`;
      return out(0, spider ? '' : body, progress, 0.01, trace);
    }
    case 'refused':
      return out(
        1,
        '',
        `${quiet ? '' : `Connecting to ${hostPort} (${e.ip}:${url.port})\n`}wget: can't connect to remote host (${e.ip}): Connection refused\n`,
        0.01,
        trace,
      );
    case 'dropped':
      return out(
        1,
        '',
        `${quiet ? '' : `Connecting to ${hostPort} (${e.ip}:${url.port})\n`}wget: download timed out\n`,
        timeout,
        trace,
      );
    case 'dns-timeout':
    case 'dns-refused':
    case 'nxdomain':
      return out(1, '', `wget: bad address '${url.host}'\n`, e.kind === 'nxdomain' ? 0.01 : 10, trace);
    case 'inconsistent':
      return inconsistentRun(e.message, trace);
  }
}

function nc(ctx: Ctx, args: string[]): CommandRun {
  let verbose = false;
  let scan = false;
  let wait: number | undefined;
  let udp = false;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-w') wait = Number(args[++i]);
    else if (/^-w\d+$/.test(a)) wait = Number(a.slice(2));
    else if (/^-[zvnu]+$/.test(a)) {
      if (a.includes('z')) scan = true;
      if (a.includes('v')) verbose = true;
      if (a.includes('u')) udp = true;
    } else if (a.startsWith('-')) return notSimulated(`nc option ${a}`);
    else rest.push(a);
  }
  if (udp) return notSimulated('nc -u (UDP cannot tell a drop from a silent server)');
  if (!scan) return notSimulated('nc without -z (an interactive connection)');
  if (rest.length !== 2 || !/^\d{1,5}$/.test(rest[1]!))
    return notSimulated('nc with other than one host and one port');
  const port = Number(rest[1]);
  const host = rest[0]!;
  const trace: string[] = [];
  const e = attempt(ctx.plane, ctx.source, host, port, 'TCP', trace);
  // Without -w, OpenBSD nc waits for the kernel to give up on the handshake.
  const run = ncRun(host, port, wait ?? 130, e, trace);
  if (verbose || !('result' in run)) return run;
  return {
    ...run,
    result: {
      ...run.result,
      stdout: '',
      stderr: e.kind === 'nxdomain' || e.kind.startsWith('dns') ? run.result.stderr : '',
    },
  };
}

function nslookup(ctx: Ctx, args: string[]): CommandRun {
  const names = args.filter((a) => !a.startsWith('-'));
  if (args.some((a) => a.startsWith('-')) || names.length !== 1)
    return notSimulated('nslookup with options or a server of its own (use: nslookup NAME)');
  const name = names[0]!;
  const nameserver = ctx.plane.nameserver();
  const header = `Server:\t\t${nameserver}\nAddress:\t${nameserver}#53\n\n`;
  const trace: string[] = [];
  if (isIP(name)) return notSimulated('reverse lookups (nslookup of an address)');
  const r = resolve(ctx.plane, ctx.source, name, trace);
  switch (r.kind) {
    case 'ok': {
      const answer = ctx.plane.dns.resolve(name, ctx.source.namespace);
      const fqdn = answer?.name ?? name;
      const lines = r.cnames.map((c, i) => `${i === 0 ? fqdn : r.cnames[i - 1]}\tcanonical name = ${c}.\n`);
      const last = r.cnames[r.cnames.length - 1] ?? fqdn;
      const addresses = r.ips.map((ip) => `Name:\t${last}\nAddress: ${ip}\n`).join('');
      return out(0, `${header}${lines.join('')}${addresses}\n`, '', 0.01, trace);
    }
    case 'nxdomain':
      return out(1, `${header}** server can't find ${name}: NXDOMAIN\n\n`, '', 0.01, trace);
    case 'dns-timeout':
      return out(1, `;; connection timed out; no servers could be reached\n\n`, '', 15, trace);
    case 'dns-refused':
      return out(
        1,
        `;; communications error to ${nameserver}#53: connection refused\n;; no servers could be reached\n\n`,
        '',
        0.01,
        trace,
      );
    case 'inconsistent':
      return inconsistentRun(r.message, trace);
  }
}

function dig(ctx: Ctx, args: string[]): CommandRun {
  let short = false;
  let search = false;
  let time = 5;
  let tries = 3;
  let type = 'A';
  const names: string[] = [];
  for (const a of args) {
    if (a === '+short') short = true;
    else if (a === '+search') search = true;
    else if (/^\+time=\d+$/.test(a)) time = Number(a.slice(6));
    else if (/^\+tries=\d+$/.test(a)) tries = Number(a.slice(7));
    else if (a === 'A' || a === 'a') type = 'A';
    else if (a.startsWith('+') || a.startsWith('-') || a.startsWith('@'))
      return notSimulated(`dig ${a} (the simulation answers dig [+short] [+search] NAME [A])`);
    else names.push(a);
  }
  if (names.length !== 1) return notSimulated('dig without exactly one name');
  const asked = names[0]!;
  // Without +search, dig sends the name as it is (made absolute).
  const query = search ? asked : asked.endsWith('.') ? asked : `${asked}.`;
  const nameserver = ctx.plane.nameserver();
  const trace: string[] = [];
  const r = resolve(ctx.plane, ctx.source, query, trace);
  if (r.kind === 'inconsistent') return inconsistentRun(r.message, trace);
  if (r.kind === 'dns-timeout' || r.kind === 'dns-refused') {
    const why = r.kind === 'dns-timeout' ? 'timed out' : 'connection refused';
    const text = `;; communications error to ${nameserver}#53: ${why}\n`.repeat(
      r.kind === 'dns-timeout' ? tries : 1,
    );
    const body = short
      ? `${text};; no servers could be reached\n`
      : `\n; <<>> DiG 9.18.27 <<>> ${args.join(' ')}\n;; global options: +cmd\n${text};; no servers could be reached\n`;
    return out(9, body, '', r.kind === 'dns-timeout' ? time * tries : 0.01, trace);
  }
  const answer = r.kind === 'ok' ? ctx.plane.dns.resolve(query, ctx.source.namespace) : undefined;
  const fqdn = `${(answer?.name ?? query).replace(/\.$/, '')}.`;
  const records =
    r.kind === 'ok'
      ? [
          ...r.cnames.map((c, i) => ({
            name: i === 0 ? fqdn : `${r.cnames[i - 1]}.`,
            type: 'CNAME',
            value: `${c}.`,
          })),
          ...r.ips.map((ip) => ({
            name: r.cnames.length > 0 ? `${r.cnames[r.cnames.length - 1]}.` : fqdn,
            type: type,
            value: ip,
          })),
        ]
      : [];
  if (short) return out(0, records.map((x) => `${x.value}\n`).join(''), '', 0.01, trace);
  const status = r.kind === 'ok' ? 'NOERROR' : 'NXDOMAIN';
  const lines = [
    '',
    `; <<>> DiG 9.18.27 <<>> ${args.join(' ')}`,
    ';; global options: +cmd',
    ';; Got answer:',
    `;; ->>HEADER<<- opcode: QUERY, status: ${status}, id: ${(asked.length * 7919) % 65536}`,
    `;; flags: qr aa rd; QUERY: 1, ANSWER: ${records.length}, AUTHORITY: ${r.kind === 'ok' ? 0 : 1}, ADDITIONAL: 1`,
    ';; WARNING: recursion requested but not available',
    '',
    ';; OPT PSEUDOSECTION:',
    '; EDNS: version: 0, flags:; udp: 1232',
    ';; QUESTION SECTION:',
    `;${fqdn}\t\t\tIN\t${type}`,
    '',
    ...(records.length > 0
      ? [';; ANSWER SECTION:', ...records.map((x) => `${x.name}\t30\tIN\t${x.type}\t${x.value}`), '']
      : [
          ';; AUTHORITY SECTION:',
          `cluster.local.\t\t30\tIN\tSOA\tns.dns.cluster.local. hostmaster.cluster.local. 1719830400 7200 1800 86400 30`,
          '',
        ]),
    ';; Query time: 0 msec',
    `;; SERVER: ${nameserver}#53(${nameserver}) (UDP)`,
    `;; WHEN: ${ctx.now.toUTCString().replace('GMT', 'UTC')}`,
    ';; MSG SIZE  rcvd: 100',
    '',
    '',
  ];
  return out(0, lines.join('\n'), '', 0.01, trace);
}
