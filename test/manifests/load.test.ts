import { describe, it, expect } from 'vitest';
import {
  parseYamlDocuments,
  objectsOf,
  problemAt,
  formatPath,
  loadManifestInputs,
  type ManifestFs,
} from '../../server/manifests/load.js';
import { KubelabError } from '../../server/errors.js';

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
