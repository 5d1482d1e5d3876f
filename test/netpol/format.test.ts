import { describe, it, expect } from 'vitest';
import { compileNetwork, computeMatrix, formatMatrix, MATRIX_FORMATS } from '../../server/netpol/index.js';
import { loadCases } from './helpers.js';

const lab = loadCases().find((c) => c.file.startsWith('lab-01'))!;
const net = compileNetwork(lab.model);
const one = computeMatrix(net, { port: { port: 1111, protocol: 'TCP' } });
const declared = computeMatrix(net);

describe('matrix formats', () => {
  it('counts every ordered pair, self pairs included', () => {
    expect(one.counts).toMatchObject({ pods: 9, namespaces: 3, policies: 1, pairs: 81 });
    expect(one.counts.allowed + one.counts.denied).toBe(81);
    // backend-0/1 reach only db1-0 on TCP 1111 (and themselves): 2 x 7 denied.
    expect(one.counts.denied).toBe(14);
  });

  it('orders pods by namespace then name', () => {
    expect(one.pods.map((p) => `${p.namespace}/${p.name}`).slice(0, 3)).toEqual([
      'kube-system/coredns-0',
      'kube-system/coredns-1',
      'kube-system/fake-dns-0',
    ]);
  });

  it('summary ends with the pair totals', () => {
    const lines = formatMatrix(one, 'summary').trim().split('\n');
    expect(lines).toEqual([
      'pods: 9 in 3 namespaces',
      'policies: 1',
      'probed: TCP 1111 on every destination',
      'pairs: 81, open: 67, blocked: 14 (self pairs included)',
    ]);
  });

  it('table: numbered columns, Y/. cells for one port, port lists for declared ports', () => {
    const table = formatMatrix(one, 'table').split('\n');
    const backend = table.find((l) => l.startsWith('4 np-lab/backend-0'))!;
    const cells = backend.replace('4 np-lab/backend-0', '').trim().split(/\s+/);
    // columns: coredns-0, coredns-1, fake-dns-0, backend-0, backend-1, db1-0, db2-0, vault-0, client-0
    expect(cells).toEqual(['.', '.', '.', 'Y', '.', 'Y', '.', '.', '.']);
    const dtable = formatMatrix(declared, 'table').split('\n');
    const drow = dtable
      .find((l) => l.startsWith('4 np-lab/backend-0'))!
      .replace('4 np-lab/backend-0', '')
      .trim()
      .split(/\s+/);
    expect(drow).toEqual(['53/UDP,53', '53/UDP,53', '.', '8080', '.', '1111', '2222', '.', '.']);
  });

  it('csv: one row per pair and probed port', () => {
    const rows = formatMatrix(declared, 'csv').trim().split('\n');
    expect(rows[0]).toBe('from,to,port,protocol,allowed');
    const declaredPorts = lab.model.pods.reduce((n, p) => n + p.ports.length, 0);
    expect(rows.length - 1).toBe(9 * declaredPorts);
    expect(rows).toContain('np-lab/backend-0,kube-system/coredns-0,9153,TCP,false');
    expect(rows).toContain('np-lab/backend-0,kube-system/coredns-0,53,UDP,true');
  });

  it('md: a markdown grid', () => {
    const md = formatMatrix(one, 'md').split('\n');
    expect(md[2]).toMatch(/^\| from \\ to \| kube-system\/coredns-0 \|/);
    expect(md[3]).toMatch(/^\|---\|(:---:\|){9}$/);
    expect(md.find((l) => l.startsWith('| np-lab/backend-0 |'))).toContain('blocked');
  });

  it("speaks the grader's and the lab page's words: open and blocked, never allowed/denied", () => {
    for (const f of ['table', 'md', 'summary'] as const) {
      const text = formatMatrix(one, f);
      expect(text, f).toMatch(/\bopen\b/);
      expect(text, f).toMatch(/\bblocked\b/);
      expect(text, f).not.toMatch(/\b(allow|allowed|deny|denied)\b/);
    }
    expect(formatMatrix(one, 'table')).toContain(
      'rows are sources, columns destinations; Y = open, . = blocked',
    );
  });

  it('dot: namespaces as clusters, allowed non-self edges only', () => {
    const dot = formatMatrix(declared, 'dot');
    expect(dot.startsWith('digraph netpol {')).toBe(true);
    expect(dot).toContain('subgraph "cluster_np-lab"');
    expect(dot).toContain('"np-lab/backend-0" -> "np-lab/db1-0" [label="1111"];');
    expect(dot).not.toContain('"np-lab/backend-0" -> "np-lab/vault-0"');
    expect(dot).not.toMatch(/"np-lab\/backend-0" -> "np-lab\/backend-0"/);
  });

  it('json: pods, counts and every pair', () => {
    const json = JSON.parse(formatMatrix(one, 'json')) as {
      pods: string[];
      counts: unknown;
      pairs: unknown[];
    };
    expect(json.pods.length).toBe(9);
    expect(json.pairs.length).toBe(81);
    expect(json.counts).toEqual(one.counts);
  });

  it('every format renders an empty cluster', () => {
    const empty = computeMatrix(compileNetwork({ namespaces: [], pods: [], policies: [] }));
    for (const f of MATRIX_FORMATS) expect(typeof formatMatrix(empty, f)).toBe('string');
    expect(formatMatrix(empty, 'summary').trim().split('\n').at(-1)).toBe(
      'pairs: 0, open: 0, blocked: 0 (self pairs included)',
    );
  });
});
