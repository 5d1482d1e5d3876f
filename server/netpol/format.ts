/**
 * The matrix for people and tools: table (terminal), md, csv, json, dot (Graphviz), summary.
 * Rows are sources, columns destinations, in the matrix's order (namespace, then name). The words are
 * the grader's and the lab page's: a pair is open or blocked.
 */
import type { Matrix, MatrixPort } from './matrix.js';
import { podKey } from './compile.js';

export const MATRIX_FORMATS = ['table', 'json', 'csv', 'md', 'dot', 'summary'] as const;
export type MatrixFormat = (typeof MATRIX_FORMATS)[number];

export function isMatrixFormat(v: string): v is MatrixFormat {
  return (MATRIX_FORMATS as readonly string[]).includes(v);
}

export function formatMatrix(m: Matrix, format: MatrixFormat): string {
  switch (format) {
    case 'table':
      return formatTable(m);
    case 'json':
      return `${JSON.stringify(matrixJson(m), null, 2)}\n`;
    case 'csv':
      return formatCsv(m);
    case 'md':
      return formatMarkdown(m);
    case 'dot':
      return formatDot(m);
    case 'summary':
      return formatSummary(m);
  }
}

/** `1111` for TCP (the common case), `53/UDP`, `http/TCP` is shown as `http`. */
export function portLabel(p: MatrixPort): string {
  return p.protocol === 'TCP' ? String(p.port) : `${p.port}/${p.protocol}`;
}

function probedText(m: Matrix): string {
  return m.port
    ? `${m.port.protocol} ${m.port.port} on every destination`
    : "each destination's declared container ports";
}

const names = (m: Matrix) => m.pods.map((p) => podKey(p.namespace, p.name));

/** What one cell shows: Y/. for one port; the open ports (or `.`, or `-` for none declared) otherwise. */
function cellText(m: Matrix, i: number, j: number): string {
  if (m.port) return m.allowed(i, j) ? 'Y' : '.';
  if (m.portsOf(j).length === 0) return '-';
  const ports = m.allowedPorts(i, j);
  return ports.length === 0 ? '.' : ports.map(portLabel).join(',');
}

function formatTable(m: Matrix): string {
  const n = m.pods.length;
  const labels = names(m).map((name, i) => `${i + 1} ${name}`);
  const rowWidth = Math.max(4, ...labels.map((l) => l.length));
  const cells = m.pods.map((_, i) => m.pods.map((__, j) => cellText(m, i, j)));
  const widths = m.pods.map((_, j) => Math.max(String(j + 1).length, ...cells.map((row) => row[j]!.length)));
  const lines = [
    `probed: ${probedText(m)}`,
    m.port
      ? 'rows are sources, columns destinations; Y = open, . = blocked'
      : 'rows are sources, columns destinations; cells list the open ports (. none, - destination declares no ports)',
    '',
    `${'from\\to'.padEnd(rowWidth)}  ${widths.map((w, j) => String(j + 1).padStart(w)).join(' ')}`,
  ];
  for (let i = 0; i < n; i++) {
    lines.push(
      `${labels[i]!.padEnd(rowWidth)}  ${cells[i]!.map((c, j) => c.padStart(widths[j]!)).join(' ')}`,
    );
  }
  lines.push('', formatCountsLine(m));
  return `${lines.join('\n')}\n`;
}

function mdEscape(s: string): string {
  return s.replace(/\|/g, '\\|');
}

function formatMarkdown(m: Matrix): string {
  const all = names(m);
  const lines = [
    `Probed: ${probedText(m)}. Rows are sources, columns destinations.`,
    '',
    `| from \\ to | ${all.map(mdEscape).join(' | ')} |`,
    `|---|${all.map(() => ':---:').join('|')}|`,
  ];
  m.pods.forEach((_, i) => {
    const row = m.pods.map((__, j) => {
      const c = cellText(m, i, j);
      return c === 'Y' ? 'open' : c === '.' ? 'blocked' : c;
    });
    lines.push(`| ${mdEscape(all[i]!)} | ${row.map(mdEscape).join(' | ')} |`);
  });
  lines.push('', formatCountsLine(m));
  return `${lines.join('\n')}\n`;
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function formatCsv(m: Matrix): string {
  const all = names(m);
  const lines = ['from,to,port,protocol,allowed'];
  m.pods.forEach((_, i) =>
    m.pods.forEach((__, j) => {
      const reachable = new Set(m.allowedPorts(i, j).map((p) => `${p.port}/${p.protocol}`));
      for (const p of m.portsOf(j)) {
        lines.push(
          [all[i]!, all[j]!, String(p.port), p.protocol, String(reachable.has(`${p.port}/${p.protocol}`))]
            .map(csvField)
            .join(','),
        );
      }
    }),
  );
  return `${lines.join('\n')}\n`;
}

export function matrixJson(m: Matrix) {
  const all = names(m);
  const pairs: Array<{ from: string; to: string; allowed: boolean; ports: MatrixPort[] }> = [];
  m.pods.forEach((_, i) =>
    m.pods.forEach((__, j) => {
      pairs.push({ from: all[i]!, to: all[j]!, allowed: m.allowed(i, j), ports: m.allowedPorts(i, j) });
    }),
  );
  return { port: m.port ?? null, pods: all, counts: m.counts, pairs };
}

function dotId(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function formatDot(m: Matrix): string {
  const all = names(m);
  const lines = ['digraph netpol {', '  rankdir=LR;', '  node [shape=box];'];
  const byNamespace = new Map<string, number[]>();
  m.pods.forEach((p, i) => byNamespace.set(p.namespace, [...(byNamespace.get(p.namespace) ?? []), i]));
  for (const [ns, members] of byNamespace) {
    lines.push(`  subgraph ${dotId(`cluster_${ns}`)} {`, `    label=${dotId(ns)};`);
    for (const i of members) lines.push(`    ${dotId(all[i]!)} [label=${dotId(m.pods[i]!.name)}];`);
    lines.push('  }');
  }
  m.pods.forEach((_, i) =>
    m.pods.forEach((__, j) => {
      if (i === j || !m.allowed(i, j)) return;
      const label = m.port ? '' : ` [label=${dotId(m.allowedPorts(i, j).map(portLabel).join(','))}]`;
      lines.push(`  ${dotId(all[i]!)} -> ${dotId(all[j]!)}${label};`);
    }),
  );
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function formatCountsLine(m: Matrix): string {
  const c = m.counts;
  return `pairs: ${c.pairs}, open: ${c.allowed}, blocked: ${c.denied}`;
}

/** Pod, policy and pair counts; the open/blocked totals are on the last line. */
function formatSummary(m: Matrix): string {
  const c = m.counts;
  return (
    [
      `pods: ${c.pods} in ${c.namespaces} namespace${c.namespaces === 1 ? '' : 's'}`,
      `policies: ${c.policies}`,
      `probed: ${probedText(m)}`,
      `${formatCountsLine(m)} (self pairs included)`,
    ].join('\n') + '\n'
  );
}
