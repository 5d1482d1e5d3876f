/**
 * Lab files are read with the fast YAML reader only when the precise parser accepted these very
 * bytes before: what the fast reader alone would forgive is still refused, every time.
 */
import { existsSync, mkdirSync, utimesSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acceptedBefore, recordAccepted } from '../../server/labs/accepted-yaml.js';
import { readYamlFile } from '../../server/labs/files.js';
import { readFast } from '../../server/manifests/fast.js';
import { testTempDir } from '../setup/temp-dir.js';

let saved: string | undefined;
let store: string;
let dir: string;

beforeEach(() => {
  saved = process.env.KUBELAB_VALIDATED_DIR;
});
afterEach(() => {
  if (saved === undefined) delete process.env.KUBELAB_VALIDATED_DIR;
  else process.env.KUBELAB_VALIDATED_DIR = saved;
});

/** A store and a folder of this test's own; the loader's records go to the store. */
function fresh(): void {
  store = testTempDir('kubelab-accepted-');
  dir = testTempDir('kubelab-accepted-files-');
  process.env.KUBELAB_VALIDATED_DIR = store;
}

describe('texts the precise parser accepted', () => {
  it('are remembered by their bytes, in the store the loader uses', async () => {
    fresh();
    const text = 'kind: Pod\nmetadata:\n  name: web\n';
    await writeFile(join(dir, 'pod.yaml'), text);
    expect(acceptedBefore(text, store)).toBe(false);
    expect((await readYamlFile(join(dir, 'pod.yaml'))).problems).toEqual([]);
    expect(acceptedBefore(text, store)).toBe(true);
    expect(acceptedBefore(`${text}# edited\n`, store)).toBe(false);
    expect(acceptedBefore(text, testTempDir('kubelab-accepted-other-'))).toBe(false);
  });

  it('are read again with the same values and the same lines', async () => {
    fresh();
    const text = 'kind: Pod\n---\nkind: Service\nspec:\n  selector:\n    app: web\n';
    // Two paths: the second read misses the in-process memo and finds the record.
    for (const name of ['first.yaml', 'second.yaml']) {
      await writeFile(join(dir, name), text);
      const { docs, problems } = await readYamlFile(join(dir, name));
      expect(problems).toEqual([]);
      expect(docs.map((d) => [d.value, d.index, d.source.line])).toEqual([
        [{ kind: 'Pod' }, 0, 1],
        [{ kind: 'Service', spec: { selector: { app: 'web' } } }, 1, 3],
      ]);
      expect(docs[1]!.locate(['spec', 'selector', 'app'])).toEqual({
        file: join(dir, name),
        line: 6,
        column: 10,
      });
    }
  });

  it('are kept per version of the code: versions untouched for a day go, recent ones stay', () => {
    fresh();
    const old = join(store, 'yaml', 'an-old-version');
    const recent = join(store, 'yaml', 'the-other-build');
    for (const folder of [old, recent]) mkdirSync(folder, { recursive: true });
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 60 * 60 * 1000);
    utimesSync(old, twoDaysAgo, twoDaysAgo);
    recordAccepted('a: 1\n', store);
    expect(acceptedBefore('a: 1\n', store)).toBe(true);
    expect(existsSync(old)).toBe(false);
    expect(existsSync(recent)).toBe(true);
  });

  it('never include what only the fast reader forgives: it is refused every time, with its line', async () => {
    fresh();
    // A comment glued to "[": the fast reader takes it, the precise parser (and YAML) does not.
    const text = 'spec:\n  ports: [#80\n    80]\n';
    expect(readFast(text, 100)).toBeDefined();
    for (const name of ['first.yaml', 'second.yaml']) {
      await writeFile(join(dir, name), text);
      const { docs, problems } = await readYamlFile(join(dir, name));
      expect(docs).toEqual([]);
      expect(problems).toMatchObject([{ file: join(dir, name), line: 2, column: 11 }]);
    }
    expect(acceptedBefore(text, store)).toBe(false);
  });
});
