import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  buildProbeArgv,
  parseProbeArgv,
  parseProbeCommand,
  serviceDnsName,
  probeDeadlineMs,
  probeWrapperSeconds,
  type ProbeTool,
} from '../../server/probe/index.js';
import type { ProbeSpec } from '../../server/probe/types.js';
import { KubelabError } from '../../server/errors.js';

describe('buildProbeArgv', () => {
  it('builds a bounded curl for TCP', () => {
    expect(
      buildProbeArgv({ kind: 'tcp', host: 'db1.np-lab.svc.cluster.local.', port: 1111, timeoutSeconds: 2 }),
    ).toEqual([
      'timeout',
      '-s',
      'KILL',
      '5',
      'curl',
      '-sS',
      '-g',
      '--noproxy',
      '*',
      '-o',
      '/dev/null',
      '--connect-timeout',
      '2',
      '-m',
      '3',
      'http://db1.np-lab.svc.cluster.local.:1111/',
    ]);
  });

  it('brackets IPv6 addresses in URLs and host:port arguments', () => {
    expect(buildProbeArgv({ kind: 'tcp', host: 'fd00::12', port: 80, timeoutSeconds: 1 }).at(-1)).toBe(
      'http://[fd00::12]:80/',
    );
    expect(
      buildProbeArgv(
        { kind: 'tcp', host: 'fd00::12', port: 80, timeoutSeconds: 1 },
        { tool: 'agnhost-connect' },
      ),
    ).toContain('[fd00::12]:80');
  });

  it('resolves names with dig through the search list, bounded', () => {
    expect(buildProbeArgv({ kind: 'dns', name: 'db1.np-lab.svc.cluster.local.', timeoutSeconds: 2 })).toEqual(
      [
        'timeout',
        '-s',
        'KILL',
        '4',
        'dig',
        '+search',
        '+time=2',
        '+tries=1',
        '+short',
        'db1.np-lab.svc.cluster.local.',
        'A',
      ],
    );
  });

  it('probes UDP 53 with a DNS query and other UDP ports with agnhost connect', () => {
    expect(
      buildProbeArgv({ kind: 'udp', host: '10.96.0.10', port: 53, timeoutSeconds: 2 }).slice(4, 7),
    ).toEqual(['dig', '@10.96.0.10', '-p']);
    expect(buildProbeArgv({ kind: 'udp', host: '10.0.0.5', port: 8081, timeoutSeconds: 2 }).slice(4)).toEqual(
      ['/agnhost', 'connect', '10.0.0.5:8081', '--timeout=2s', '--protocol=udp'],
    );
  });

  it('rejects what cannot go on a command line, listing every problem', () => {
    try {
      buildProbeArgv({ kind: 'tcp', host: 'db1; rm -rf /', port: 70000, timeoutSeconds: 0 });
      expect.fail('should throw');
    } catch (e) {
      expect(e).toBeInstanceOf(KubelabError);
      const err = e as KubelabError;
      expect(err.code).toBe('BAD_INPUT');
      expect(err.problems.map((p) => p.message)).toEqual([
        expect.stringContaining('timeoutSeconds'),
        expect.stringContaining('neither an IP address nor a DNS name'),
        expect.stringContaining('port must be'),
      ]);
    }
    try {
      buildProbeArgv({ kind: 'dns', name: 'x', timeoutSeconds: 2 }, { tool: 'curl' });
      expect.fail('should throw');
    } catch (e) {
      expect((e as KubelabError).format()).toMatch(/a dns probe cannot be run with curl \(use dig\)/);
    }
  });

  it('gives callers a deadline longer than the wrapper', () => {
    const spec: ProbeSpec = { kind: 'tcp', host: '10.0.0.1', port: 80, timeoutSeconds: 2 };
    expect(probeDeadlineMs(spec)).toBeGreaterThan(probeWrapperSeconds(spec) * 1000);
  });

  it('names Services absolutely by default', () => {
    expect(serviceDnsName('db1', 'np-lab')).toBe('db1.np-lab.svc.cluster.local.');
    expect(serviceDnsName('db1', 'np-lab', { absolute: false })).toBe('db1.np-lab.svc.cluster.local');
  });
});

describe('parseProbeArgv', () => {
  const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}[a-z0-9]$/);
  const host = fc.oneof(
    fc.ipV4(),
    fc.tuple(label, label).map(([a, b]) => `${a}.${b}.svc.cluster.local.`),
    label,
    fc.constant('fd00::a:1'),
  );
  const timeoutSeconds = fc.integer({ min: 1, max: 30 });
  const port = fc.integer({ min: 1, max: 65535 });
  const specAndTool: fc.Arbitrary<{ spec: ProbeSpec; tool: ProbeTool }> = fc.oneof(
    fc.record({
      spec: fc.record({ kind: fc.constant('tcp' as const), host, port, timeoutSeconds }),
      tool: fc.constantFrom<ProbeTool>('curl', 'nc', 'agnhost-connect'),
    }),
    fc.record({
      spec: fc.record({ kind: fc.constant('udp' as const), host, port, timeoutSeconds }),
      tool: fc.constantFrom<ProbeTool>('dig', 'agnhost-connect'),
    }),
    fc.record({
      spec: fc.record({
        kind: fc.constant('dns' as const),
        name: host.filter((h) => !h.includes(':')),
        timeoutSeconds,
      }),
      tool: fc.constant<ProbeTool>('dig'),
    }),
  );

  it('is the exact inverse of buildProbeArgv for every tool', () => {
    fc.assert(
      fc.property(specAndTool, ({ spec, tool }) => {
        const argv = buildProbeArgv(spec, { tool });
        expect(parseProbeCommand(argv)).toEqual({ spec, tool });
      }),
      { numRuns: 300 },
    );
  });

  it('refuses anything it did not build', () => {
    const good = buildProbeArgv({ kind: 'tcp', host: '10.0.0.1', port: 80, timeoutSeconds: 2 });
    expect(parseProbeArgv(good)).toEqual({ kind: 'tcp', host: '10.0.0.1', port: 80, timeoutSeconds: 2 });
    expect(parseProbeArgv(['sh', '-c', 'curl http://10.0.0.1/'])).toBeUndefined();
    expect(parseProbeArgv(['curl', 'http://10.0.0.1:80/'])).toBeUndefined();
    expect(parseProbeArgv([...good, '--extra'])).toBeUndefined();
    // A different wrapper time than the one built for this timeout.
    expect(parseProbeArgv(good.map((a, i) => (i === 3 ? '9' : a)))).toBeUndefined();
    expect(parseProbeArgv(good.map((a) => (a === '-sS' ? '-s' : a)))).toBeUndefined();
    expect(parseProbeArgv([])).toBeUndefined();
  });

  it('answers a command it has seen with the same frozen answer, and never one that merely joins the same', () => {
    const good = buildProbeArgv({ kind: 'tcp', host: '10.0.0.1', port: 80, timeoutSeconds: 2 });
    const first = parseProbeCommand(good);
    expect(parseProbeCommand([...good])).toBe(first);
    expect(Object.isFrozen(first?.spec)).toBe(true);
    const merged = [`${good[0]}\0${good[1]}`, ...good.slice(2)];
    expect(parseProbeCommand(merged)).toBeUndefined();
    expect(parseProbeCommand(good)).toBe(first);
  });
});
