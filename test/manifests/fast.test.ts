import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { readFast } from '../../server/manifests/fast.js';
import { parseYamlDocuments, type FieldPath, type LoadedDocument } from '../../server/manifests/load.js';
import { KubelabError } from '../../server/errors.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

type Outcome =
  | { ok: true; docs: { value: unknown; index: number; line: number; column?: number }[] }
  | { ok: false; message: string; problems: unknown };

function outcome(text: string, precise: boolean, locate: FieldPath[] = []): Outcome {
  let docs: LoadedDocument[];
  try {
    docs = parseYamlDocuments(text, 'f.yaml', {
      reader: precise ? 'precise' : 'fast',
      maxBytes: 4 * 1024 * 1024,
    });
  } catch (e) {
    if (!(e instanceof KubelabError)) throw e;
    return { ok: false, message: e.message, problems: e.problems };
  }
  return {
    ok: true,
    docs: docs.map((d) => ({
      value: d.value,
      index: d.index,
      line: d.source.line,
      column: d.source.column,
      ...Object.fromEntries(locate.map((p) => [p.join('.'), d.locate(p)])),
    })),
  };
}

/** The fast reader and the precise parser must agree on values, documents, positions and errors. */
function expectSame(text: string, locate: FieldPath[] = []): void {
  expect(outcome(text, false, locate), JSON.stringify(text.slice(0, 200))).toEqual(
    outcome(text, true, locate),
  );
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.(ya?ml|json)$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

describe('the fast reader', () => {
  it('reads every lab, scenario and fixture file exactly as the precise parser does', () => {
    const files = ['labs', 'scenarios', 'test/fixtures'].flatMap((d) => yamlFiles(join(ROOT, d)));
    expect(files.length).toBeGreaterThan(50);
    let fast = 0;
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      expectSame(text, [['metadata', 'name'], ['spec'], ['spec', 'ingress', 0], ['nope']]);
      if (readFast(text)) fast++;
    }
    // Most files take the fast path, or it would be dead weight.
    expect(fast).toBeGreaterThan(files.length / 2);
  });

  it('resolves plain scalars as YAML 1.2 core does, not as YAML 1.1 or js-yaml would', () => {
    const scalars = [
      ...[
        '0o17',
        '017',
        '0x1F',
        '0X1F',
        '+12',
        '-0',
        '1_000',
        '0b101',
        '12:30',
        '1e3',
        '1E-3',
        '.5',
        '5.',
        '-.5e2',
      ],
      ...['.inf', '-.Inf', '+.INF', '.nan', '.NaN', 'nan', 'inf', '1.0', '0.10', '99999999999999999999'],
      ...[
        'yes',
        'no',
        'on',
        'off',
        'y',
        'n',
        'True',
        'TRUE',
        'tRUE',
        'false',
        'Null',
        'NULL',
        'nULL',
        '~',
        '',
      ],
      ...['2020-01-01', '2001-12-14t21:59:43.10-05:00', '=', '80/TCP', '10.0.0.0/8', '"1"', "'true'", 'a b'],
    ];
    for (const s of scalars) expectSame(`v: ${s}\nlist: [${s || '""'}]\n${s || '""'}: key\n`);
  });

  it('leaves merges, tags, directives, complex keys and null keys to the precise parser', () => {
    for (const text of [
      'base: &b {a: 1}\nderived:\n  <<: *b\n  c: 2\n',
      'a: !!str 1\nb: !!int "2"\n',
      '%YAML 1.1\n---\na: yes\n',
      '? [a, b]\n: c\n',
      '[a, b]: c\n',
      '{a: 1}: c\n',
      'null: a\n~: b\n',
      ': empty key\n',
      '__proto__: {polluted: true}\n',
    ]) {
      expect(readFast(text), text).toBeUndefined();
      expectSame(text);
    }
  });

  it('agrees on documents, comments, block scalars, quoting and JSON', () => {
    for (const text of [
      '',
      '---\n',
      '# only a comment\n',
      '\uFEFFa: 1\n',
      'a: 1\n---\n---\n# c\nb: 2\n...\n---\nc: 3\n',
      'x: |\n  one\n  two\n\ny: >-\n  folded\n  text\n\nz: |+\n  keep\n\n',
      "a: \"esc \\t \\u00e9 \\x41 \\\\\"\nb: 'it''s'\nc: plain # comment\nd: multi\n  line plain\n",
      'a: "two\n  lines"\n',
      JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { a: 'b' } } }, null, 2),
      JSON.stringify(Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`, i]))),
      'list:\n- a\n- b:\n    c: [1, {d: e}]\n',
      '- - - x\n',
    ]) {
      expectSame(text, [
        ['metadata', 'labels', 'a'],
        ['list', 1, 'b', 'c', 1],
      ]);
    }
  });

  it('refuses what the precise parser refuses, with the same file:line messages', () => {
    for (const text of [
      'a: 1\nb: 2\na: 3\n',
      'a: 1\n1: x\n"1": y\n',
      'a:\n  b: 1\n   c: 2\n',
      'a:\n\t- b\n',
      'a: [1, 2\nb: 3\n',
      'a: "open\n',
      'a: b: c\n',
      'a\nb: c\n',
      'x: *missing\n',
      `a: ${'['.repeat(50)}${']'.repeat(50)}\n`,
      `${'- '.repeat(45)}x\n`,
      `${'- '.repeat(40)}x\n`,
      `${'- '.repeat(39)}x\n`,
    ]) {
      expectSame(text);
    }
  });

  it('takes aliases only well inside the precise parser’s alias limit', () => {
    const anchored = 'a: &x [1, 2]\nb: *x\nc: *x\n';
    expect(readFast(anchored)).toBeDefined();
    expectSame(anchored);
    const lol = ['a: &a ["x","x"]'];
    for (let i = 1; i < 8; i++)
      lol.push(`${'abcdefgh'[i]}: &${'abcdefgh'[i]} [${`*${'abcdefgh'[i - 1]},`.repeat(9)}]`);
    const laughs = `${lol.join('\n')}\n`;
    expect(readFast(laughs)).toBeUndefined(); // an anchored node holding aliases
    expectSame(laughs);
    const many = `a: &a 1\nb: [${'*a, '.repeat(100)}]\n`; // refused: the anchor counts as a use
    expect(readFast(many)).toBeUndefined();
    expectSame(many);
    const fewer = `a: &a 1\nb: [${'*a, '.repeat(99)}]\n`;
    expect(readFast(fewer)).toBeDefined();
    expectSame(fewer);
  });

  it('agrees with the precise parser on generated manifests in every style', () => {
    const key = fc.stringMatching(/^[a-zA-Z_][\w./-]{0,12}$/);
    const scalar = fc.oneof(
      fc.string({ unit: fc.constantFrom(...'ab01:-#\'" \n\t.eE+x~[]{},&*!|>%@`?'.split('')), maxLength: 12 }),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
    );
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, scalar, tie('list'), tie('map')),
      list: fc.array(tie('node'), { maxLength: 4 }),
      map: fc.dictionary(key, tie('node'), { maxKeys: 4 }),
    })).node;
    fc.assert(
      fc.property(
        fc.array(value, { minLength: 1, maxLength: 3 }),
        fc.constantFrom('block', 'flow', 'json'),
        (docs, style) => {
          const text =
            style === 'json'
              ? docs.map((d) => JSON.stringify(d)).join('\n---\n')
              : docs.map((d) => stringify(d, { collectionStyle: style as 'block' | 'flow' })).join('---\n');
          expectSame(text);
        },
      ),
      { numRuns: 300, seed: 12 },
    );
  });

  it('agrees with the precise parser on arbitrary scalar text in plain position', () => {
    const text = fc.string({
      unit: fc.constantFrom(...'ab01:-#\'" .eE+xo_~TtrueNnl[]{},|>@`'.split('')),
      maxLength: 10,
    });
    fc.assert(
      fc.property(text, (s) => expectSame(`k: ${s}\nl:\n  - ${s}\n`)),
      { numRuns: 500, seed: 12 },
    );
  });
});
