import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { main } from '../../server/cli/main.js';
import { memoryIO } from '../../server/cli/io.js';
import { FIXTURES } from './helpers.js';

const LAB = join(FIXTURES, 'cli', 'np-lab');
const BAD = join(FIXTURES, 'cli', 'bad');

async function run(args: string[], stdin?: string) {
  const io = memoryIO(stdin === undefined ? {} : { stdin });
  const code = await main(args, io);
  return { code, out: io.stdoutText(), err: io.stderrText() };
}

interface JsonResult {
  from: string;
  to: string;
  port: number | string;
  protocol: string;
  allowed: boolean;
  reasons: string[];
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kubelab-netpol-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('kubelab netpol check', () => {
  it('answers probes in the order asked, as JSON with the documented shape', async () => {
    const { code, out, err } = await run([
      'netpol',
      'check',
      LAB,
      '--json',
      '--probe',
      'np-lab/backend-0->np-lab/db1-0:1111',
      '--probe',
      'np-lab/backend-1->np-lab/db1-0:2222',
      '--probe',
      'np-lab/backend-0->kube-system/coredns-0:53/UDP',
      '--probe',
      'np-lab/backend-0->np-lab/db2-0:p2222',
      '--probe',
      'np-lab/backend-0->np-lab/vault-0:vault/tcp',
      '--probe',
      'np-lab/vault-0->np-lab/backend-0:8080',
    ]);
    expect(err).toBe('');
    expect(code).toBe(0);
    const { results } = JSON.parse(out) as { results: JsonResult[] };
    expect(results.map((r) => [r.from, r.to, r.port, r.protocol, r.allowed])).toEqual([
      ['np-lab/backend-0', 'np-lab/db1-0', 1111, 'TCP', true],
      ['np-lab/backend-1', 'np-lab/db1-0', 2222, 'TCP', false],
      ['np-lab/backend-0', 'kube-system/coredns-0', 53, 'UDP', true],
      ['np-lab/backend-0', 'np-lab/db2-0', 'p2222', 'TCP', true],
      ['np-lab/backend-0', 'np-lab/vault-0', 'vault', 'TCP', false],
      ['np-lab/vault-0', 'np-lab/backend-0', 8080, 'TCP', true],
    ]);
    expect(Object.keys(results[0]!)).toEqual(['from', 'to', 'port', 'protocol', 'allowed', 'reasons']);
    expect(results[0]!.reasons[0]).toBe(
      'egress from np-lab/backend-0 is allowed by np-lab/np-backend egress[0]',
    );
    expect(results[1]!.reasons[0]).toMatch(
      /isolated by np-lab\/np-backend and no egress rule allows traffic to np-lab\/db1-0 on TCP 2222/,
    );
    expect(results[2]!.reasons[0]).toMatch(/np-lab\/np-backend egress\[2\]/);
  });

  it('prints one row per probe with the result and reason', async () => {
    const { code, out } = await run([
      'netpol',
      'check',
      LAB,
      '--probe',
      'np-lab/backend-0->np-lab/vault-0:3333',
    ]);
    expect(code).toBe(0);
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(/^FROM\s+TO\s+PORT\s+RESULT\s+REASON$/);
    expect(lines[1]).toMatch(
      /^np-lab\/backend-0\s+np-lab\/vault-0\s+TCP 3333\s+denied\s+egress from np-lab\/backend-0 is isolated by np-lab\/np-backend/,
    );
    expect(lines.at(-1)).toBe('1 probe: 0 allowed, 1 denied');
  });

  it('without --probe checks every pod pair on every port the destination declares', async () => {
    const { code, out } = await run(['netpol', 'check', LAB, '--json']);
    expect(code).toBe(0);
    const { results } = JSON.parse(out) as { results: JsonResult[] };
    // 6 pods; destination port counts: backend 1 (x2), db 3 (x2), vault 1, coredns 2 (53/UDP, 53/TCP).
    const portsOf: Record<string, number> = { backend: 1, db1: 3, db2: 3, vault: 1, coredns: 2 };
    const pods = [
      'np-lab/backend-0',
      'np-lab/backend-1',
      'np-lab/db1-0',
      'np-lab/db2-0',
      'np-lab/vault-0',
      'kube-system/coredns-0',
    ];
    let expected = 0;
    for (const s of [...pods])
      for (const d of pods) if (s !== d) expected += portsOf[d.split('/')[1]!.replace(/-\d+$/, '')]!;
    expect(results.length).toBe(expected);
    expect(results.some((r) => r.from === r.to)).toBe(false);
    const backendToDb1 = results.filter((r) => r.from === 'np-lab/backend-0' && r.to === 'np-lab/db1-0');
    expect(backendToDb1.map((r) => [r.port, r.allowed])).toEqual([
      [1111, true],
      [2222, false],
      [3333, false],
    ]);
  });

  it('reads - from stdin', async () => {
    const text = await readFile(join(LAB, '30-np-backend.yaml'), 'utf8');
    const pods = [
      'apiVersion: v1\nkind: Pod\nmetadata: {name: b, namespace: np-lab, labels: {app: backend}}',
      'apiVersion: v1\nkind: Pod\nmetadata: {name: v, namespace: np-lab, labels: {app: vault}}',
    ].join('\n---\n');
    const { code, out } = await run(
      ['netpol', 'check', '-', '--json', '--probe', 'np-lab/b->np-lab/v:80'],
      `${text}\n---\n${pods}\n`,
    );
    expect(code).toBe(0);
    expect((JSON.parse(out) as { results: JsonResult[] }).results[0]!.allowed).toBe(false);
  });

  it('accepts an IP address for either end', async () => {
    const { code, out } = await run([
      'netpol',
      'check',
      LAB,
      '--json',
      '--probe',
      'np-lab/backend-0->192.0.2.1:443',
      '--probe',
      '[2001:db8::1]->np-lab/backend-0:8080',
    ]);
    expect(code).toBe(0);
    const { results } = JSON.parse(out) as { results: JsonResult[] };
    expect(results.map((r) => [r.from, r.to, r.allowed])).toEqual([
      ['np-lab/backend-0', '192.0.2.1', false],
      ['2001:db8::1', 'np-lab/backend-0', true],
    ]);
  });
});

describe('kubelab netpol check: bad input exits 2 with file:line and field path, never a stack', () => {
  it('an invalid NetworkPolicy: every problem with file:line and field path', async () => {
    const { code, err, out } = await run(['netpol', 'check', BAD]);
    expect(code).toBe(2);
    expect(out).toBe('');
    const file = join(BAD, 'invalid-policy.yaml').replace(process.cwd() + '/', '');
    expect(err).toContain(
      `${file}:16:11: spec.egress[0].to[0]: Forbidden: may not specify both ipBlock and another peer`,
    );
    expect(err).toContain(`${file}:20:19: spec.egress[0].to[1].ipBlock.cidr: Invalid value: "10.0.0.0/33"`);
    expect(err).toContain(
      `${file}:23:20: spec.egress[0].ports[0].endPort: Invalid value: 70: must be greater than or equal to \`port\``,
    );
    expect(err).toContain(`${file}:24:17: spec.egress[0].ports[1].port: Invalid value: "Not_A_Name"`);
    expect(err).not.toMatch(/at .*\.ts:\d+/);
  });

  it('a YAML syntax error names file and line', async () => {
    const file = join(tmp, 'syntax.yaml');
    await writeFile(file, 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels: [app: web\n');
    const { code, err } = await run(['netpol', 'check', file]);
    expect(code).toBe(2);
    // Files are shown relative to the working directory, wherever the suite runs from.
    const shown = relative(process.cwd(), file);
    expect(err).toMatch(new RegExp(`(^|\\s)${shown.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: `));
    expect(err).toContain('is not valid YAML');
  });

  it('a pod problem inside a List item is located on its own line', async () => {
    const file = join(tmp, 'list.yaml');
    await writeFile(
      file,
      ['kind: List', 'items:', '  - kind: Pod', '    metadata:', '      name: Bad_Name', ''].join('\n'),
    );
    const { code, err } = await run(['netpol', 'check', file]);
    expect(code).toBe(2);
    expect(err).toMatch(/list\.yaml:5:\d+: metadata\.name: Invalid value: "Bad_Name"/);
  });

  it('an unreadable path', async () => {
    const { code, err } = await run(['netpol', 'check', join(tmp, 'missing.yaml')]);
    expect(code).toBe(2);
    expect(err).toMatch(/cannot read .*missing\.yaml: no such file or directory/);
  });

  it('an unknown pod in a probe, with the pods that do exist', async () => {
    const { code, err } = await run(['netpol', 'check', LAB, '--probe', 'np-lab/backend->np-lab/db1-0:1111']);
    expect(code).toBe(2);
    expect(err).toContain('unknown pod np-lab/backend in a probe');
    expect(err).toContain('np-lab/backend-0');
  });

  it('a named port the destination does not have', async () => {
    const { code, err } = await run([
      'netpol',
      'check',
      LAB,
      '--probe',
      'np-lab/backend-0->np-lab/db1-0:http',
    ]);
    expect(code).toBe(2);
    expect(err).toContain('np-lab/db1-0 has no TCP port named "http"');
    expect(err).toContain('p1111 (TCP 1111)');
  });

  it.each([
    ['np-lab/backend-0 np-lab/db1-0:1111', 'missing "->"'],
    ['np-lab/backend-0->np-lab/db1-0', 'missing ":PORT"'],
    ['np-lab/backend-0->np-lab/db1-0:0', 'not between 1 and 65535'],
    ['np-lab/backend-0->np-lab/db1-0:99999', 'not between 1 and 65535'],
    ['np-lab/backend-0->np-lab/db1-0:1111/HTTP', 'protocol must be TCP, UDP or SCTP'],
    ['np-lab/backend-0->np-lab/db1-0:Bad_Port', 'neither a port number nor a valid port name'],
    ['backend-0->np-lab/db1-0:1111', 'is not NAMESPACE/POD'],
  ])('a bad SPEC %s', async (spec, message) => {
    const { code, err } = await run(['netpol', 'check', LAB, '--probe', spec]);
    expect(code).toBe(2);
    expect(err).toContain(message);
    expect(err).toContain('NS/POD->NS/POD:PORT[/PROTO]');
  });

  it('missing inputs is a usage error', async () => {
    const { code } = await run(['netpol', 'check']);
    expect(code).toBe(2);
  });
});

describe('kubelab netpol matrix', () => {
  it('summary prints counts, with open/blocked totals on the last line', async () => {
    const { code, out } = await run(['netpol', 'matrix', LAB, '--port', '1111', '--format', 'summary']);
    expect(code).toBe(0);
    const lines = out.trim().split('\n');
    expect(lines[0]).toBe('pods: 6 in 2 namespaces');
    expect(lines[1]).toBe('policies: 1');
    // 36 pairs; backend-0/1 reach only db1 on 1111 (plus themselves): 2 x 4 denied.
    expect(lines.at(-1)).toBe('pairs: 36, open: 28, blocked: 8 (self pairs included)');
  });

  it('json lists every pair', async () => {
    const { code, out } = await run(['netpol', 'matrix', LAB, '--port', '53/udp', '--format', 'json']);
    expect(code).toBe(0);
    const m = JSON.parse(out) as {
      port: unknown;
      pods: string[];
      pairs: Array<{ from: string; to: string; allowed: boolean }>;
    };
    expect(m.port).toEqual({ port: 53, protocol: 'UDP' });
    expect(m.pairs.length).toBe(36);
    expect(
      m.pairs.find((p) => p.from === 'np-lab/backend-0' && p.to === 'kube-system/coredns-0')!.allowed,
    ).toBe(true);
    expect(m.pairs.find((p) => p.from === 'np-lab/backend-0' && p.to === 'np-lab/vault-0')!.allowed).toBe(
      false,
    );
  });

  it('table (default) shows declared ports per cell', async () => {
    const { code, out } = await run(['netpol', 'matrix', LAB]);
    expect(code).toBe(0);
    const row = out.split('\n').find((l) => l.includes('np-lab/backend-0'))!;
    expect(row).toMatch(/1111/);
    expect(row).not.toMatch(/3333/);
  });

  it('refuses an unknown format and a bad --port', async () => {
    expect((await run(['netpol', 'matrix', LAB, '--format', 'xml'])).code).toBe(2);
    const bad = await run(['netpol', 'matrix', LAB, '--port', '80/ICMP']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('protocol must be TCP, UDP or SCTP');
  });

  it('bad manifests exit 2 here too', async () => {
    const { code, err } = await run(['netpol', 'matrix', BAD, '--format', 'csv']);
    expect(code).toBe(2);
    expect(err).toContain('spec.egress[0].to[0]');
  });
});

describe('kubelab netpol on odd inputs', () => {
  it('reads a scenario folder, skipping its scenario.yaml (with a note)', async () => {
    const { code, out, err } = await run([
      'netpol',
      'check',
      'scenarios/np-backend',
      '--probe',
      'np-lab/backend-0->np-lab/db1-0:1111',
    ]);
    expect(err).toContain('skipped scenarios/np-backend/scenario.yaml');
    expect(code).toBe(0);
    expect(out).toContain('allowed');
  });

  it('says when nothing was read (empty file, empty stdin) and exits 2', async () => {
    const empty = join(tmp, 'empty.yaml');
    await writeFile(empty, '');
    const file = await run(['netpol', 'check', empty]);
    expect(file.code).toBe(2);
    expect(file.err).toContain('no Kubernetes objects were read from');
    const stdin = await run(['netpol', 'check', '-'], '');
    expect(stdin.code).toBe(2);
    expect(stdin.err).toContain('no Kubernetes objects were read from stdin');
  });

  it('follows symlinks, reads each file once, and does not loop', async () => {
    const { mkdir, symlink } = await import('node:fs/promises');
    const dir = join(tmp, 'links');
    await mkdir(join(dir, 'real'), { recursive: true });
    const lab = join(FIXTURES, 'cli', 'np-lab');
    const { readdir } = await import('node:fs/promises');
    const linked = join(dir, 'only-links');
    await mkdir(linked);
    for (const name of await readdir(lab)) await symlink(join(lab, name), join(linked, name));
    await symlink(linked, join(linked, 'loop')); // a folder linked into itself
    await symlink(join(lab, (await readdir(lab))[0]!), join(linked, 'again.yaml')); // a second link to one file
    const viaLinks = await run(['netpol', 'check', linked, '--json']);
    const direct = await run(['netpol', 'check', lab, '--json']);
    expect(viaLinks.err).toBe('');
    expect(viaLinks.code).toBe(0);
    expect(JSON.parse(viaLinks.out).results.length).toBeGreaterThan(0);
    expect(viaLinks.out).toBe(direct.out);
  });
});
