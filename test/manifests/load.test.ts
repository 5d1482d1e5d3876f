import { describe, it, expect } from 'vitest';
import {
  parseYamlDocuments,
  objectsOf,
  problemAt,
  formatPath,
  loadManifestInputs,
  MAX_LISTED_PROBLEMS,
  MAX_YAML_NESTING,
  type ManifestFs,
} from '../../server/manifests/load.js';
import { KubelabError, type Problem } from '../../server/errors.js';

describe('parseYamlDocuments', () => {
  it('reads multi-document YAML, skipping empty documents, and locates fields by path', () => {
    const text = [
      '---',
      'kind: A',
      'spec:',
      '  egress:',
      '    - to:',
      '        - podSelector: {}',
      '---',
      '---',
      'kind: B',
      '',
    ].join('\n');
    const docs = parseYamlDocuments(text, 'f.yaml');
    expect(docs.map((d) => (d.value as { kind: string }).kind)).toEqual(['A', 'B']);
    expect(docs[0]!.source.line).toBe(2);
    expect(docs[0]!.locate(['spec', 'egress', 0, 'to', 0, 'podSelector']).line).toBe(6);
    // A path that does not exist falls back to its nearest parent.
    expect(docs[0]!.locate(['spec', 'egress', 0, 'ports']).line).toBe(5);
    expect(docs[1]!.source.line).toBe(9);
  });

  it('reports YAML syntax errors with file, line and column', () => {
    try {
      parseYamlDocuments('a: 1\nb: [1, 2\nc: 3\n', 'bad.yaml');
      expect.fail('should throw');
    } catch (e) {
      expect(e).toBeInstanceOf(KubelabError);
      const err = e as KubelabError;
      expect(err.code).toBe('BAD_INPUT');
      expect(err.problems[0]!.file).toBe('bad.yaml');
      expect(err.problems[0]!.line).toBeGreaterThanOrEqual(2);
    }
  });

  it('refuses alias bombs and oversized input', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
    ].join('\n');
    expect(() => parseYamlDocuments(bomb, 'bomb.yaml', { maxAliasCount: 20 })).toThrow(KubelabError);
    expect(() => parseYamlDocuments('x'.repeat(100), 'big.yaml', { maxBytes: 10 })).toThrow(
      /larger than 10 bytes/,
    );
  });

  it('rejects duplicate keys', () => {
    expect(() => parseYamlDocuments('a: 1\na: 2\n', 'dup.yaml')).toThrow(KubelabError);
  });
});

describe('objectsOf', () => {
  it('flattens Lists and points problems at the item line', () => {
    const docs = parseYamlDocuments(
      'kind: List\nitems:\n  - kind: Pod\n    metadata: {name: a}\n  - 3\n',
      'l.yaml',
    );
    const { objects, problems } = objectsOf(docs);
    expect(objects).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: 'l.yaml', line: 5, path: 'items[1]' });
    expect(problemAt(objects[0]!, ['metadata', 'name'], 'bad')).toMatchObject({
      line: 4,
      path: 'metadata.name',
    });
  });

  it('formats paths the way kubectl prints them', () => {
    expect(formatPath(['spec', 'egress', 0, 'to', 1, 'ipBlock', 'cidr'])).toBe(
      'spec.egress[0].to[1].ipBlock.cidr',
    );
  });
});

describe('loadManifestInputs on a disk that refuses', () => {
  // Root reads every folder whatever its mode, so the refusal comes from an injected file system.
  const refusing: ManifestFs = {
    stat: async () => ({ isFile: () => false, isDirectory: () => true }),
    realpath: async (p) => p,
    readdir: async (p) => {
      throw Object.assign(new Error(`EACCES: permission denied, scandir '${p}'`), { code: 'EACCES' });
    },
    readFile: async () => '',
  };

  it('an unreadable directory is bad input naming the path (exit 2), not an internal error', async () => {
    const err = await loadManifestInputs(['policies'], { fs: refusing }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubelabError);
    expect((err as KubelabError).code).toBe('BAD_INPUT');
    expect((err as KubelabError).exitCode).toBe(2);
    expect((err as KubelabError).message).toBe('cannot read policies: permission denied');
  });

  it('an unreadable file is bad input too', async () => {
    const fs: ManifestFs = {
      ...refusing,
      stat: async () => ({ isFile: () => true, isDirectory: () => false }),
      readFile: async () => {
        throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
      },
    };
    const err = await loadManifestInputs(['p.yaml'], { fs }).catch((e: unknown) => e);
    expect((err as KubelabError).message).toBe('cannot read p.yaml: permission denied');
  });
});

describe('parseYamlDocuments on hostile input', () => {
  const problemsOf = (text: string): Problem[] => {
    try {
      parseYamlDocuments(text, 'f.yaml', { maxBytes: 256 * 1024 });
    } catch (e) {
      if (e instanceof KubelabError) return e.problems;
      throw e;
    }
    return [];
  };

  it('refuses deep nesting before parsing, with one problem at the place it gets too deep', () => {
    for (const text of [
      `a: ${'['.repeat(130_000)}`,
      `a: ${'[ "]" '.repeat(20_000)}`, // brackets in strings do not hide the real ones
      `${'? '.repeat(60_000)}x`, // exhausted the parser's memory
      `${'- '.repeat(60_000)}x`,
      'a: [b\n'.repeat(20_000),
    ]) {
      const problems = problemsOf(text);
      expect(problems).toHaveLength(1);
      expect(problems[0]!.message).toContain(`more than ${MAX_YAML_NESTING} nested collections`);
      expect(problems[0]!.line).toBeGreaterThanOrEqual(1);
    }
  });

  it('accepts ordinary nesting and brackets inside strings', () => {
    const text = `x: "${'['.repeat(100)}"\ny: [[[{a: [1]}]]]\n# ${'{'.repeat(100)}\nz: |\n  ${'['.repeat(100)}\n`;
    expect(problemsOf(text)).toEqual([]);
  });

  it('finds repeated keys (with their line) and lists at most 20 problems, then says how many more', () => {
    expect(problemsOf('a: 1\nb: 2\na: 3\n')).toEqual([
      { file: 'f.yaml', line: 3, column: 1, message: '"a" appears twice in the same mapping: keep one' },
    ]);
    expect(problemsOf('<<: {a: 1}\n<<: {b: 2}\n')).toEqual([]);
    const many = problemsOf('a: [b]\n'.repeat(18_000));
    expect(many).toHaveLength(MAX_LISTED_PROBLEMS + 1);
    expect(many.at(-1)!.message).toBe(
      `and ${18_000 - 1 - MAX_LISTED_PROBLEMS} more problems (fix the ones above first)`,
    );
  });
});

describe('YAML mistakes in plain words', () => {
  const only = (text: string): Problem => {
    try {
      parseYamlDocuments(text, 'mine.yaml');
    } catch (e) {
      const problems = (e as KubelabError).problems;
      expect(problems).toHaveLength(1);
      return problems[0]!;
    }
    throw new Error('expected a YAML error');
  };

  it('a key indented one space too far or too little: its real column, and where it could start', () => {
    const text = [
      'spec:',
      '  podSelector:',
      '    matchLabels:',
      '      app: backend',
      '   policyTypes:',
      '  - Egress',
      '',
    ].join('\n');
    const p = only(text);
    expect(p).toMatchObject({ line: 5, column: 4 });
    expect(p.message).toBe(
      '"policyTypes:" starts in column 4, which lines up with nothing above it: YAML counts the spaces, so start it in column 5 like "matchLabels:" on line 3 or in column 3 like "podSelector:" on line 2',
    );
    expect(p.message).not.toContain('mapping items');
  });

  it("a list item's key out of line names the sibling key of the item", () => {
    const text = ['egress:', '  - to:', '    - podSelector: {}', '     ports:', '    - port: 53', ''].join(
      '\n',
    );
    const p = only(text);
    expect(p).toMatchObject({ line: 4, column: 6 });
    expect(p.message).toContain('"ports:" starts in column 6');
    expect(p.message).toContain('column 5 like "to:" on line 2');
    expect(p.message).not.toContain('indicator');
  });

  it('tabs, unclosed brackets and quotes, two keys on a line', () => {
    expect(only('a: 1\n\tb: 2\n').message).toBe('this line is indented with a tab; YAML allows only spaces');
    expect(only('kind: [broken').message).toContain('a [ or { is not closed');
    expect(only('a: "x\n').message).toBe('a quoted text is not closed: add the closing quote');
    expect(only('a: b: c\n').message).toContain('two "key:" on one line');
  });
});
