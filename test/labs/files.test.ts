/** readYamlFile remembers what it parsed: never a stale value, never one shared between callers. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readYamlFile } from '../../server/labs/files.js';
import { testTempDir } from '../setup/temp-dir.js';

const values = async (file: string) => (await readYamlFile(file)).docs.map((d) => d.value);

describe('readYamlFile', () => {
  it('reads an edited file afresh, even with the same size', async () => {
    const file = join(testTempDir('kubelab-files-'), 'edited.yaml');
    await writeFile(file, 'a: 1\n---\nb: 2\n');
    expect(await values(file)).toEqual([{ a: 1 }, { b: 2 }]);
    await writeFile(file, 'a: 7\n---\nb: 2\n');
    expect(await values(file)).toEqual([{ a: 7 }, { b: 2 }]);
  });

  it('gives each caller values of its own', async () => {
    const file = join(testTempDir('kubelab-files-'), 'shared.yaml');
    await writeFile(file, 'spec:\n  ports: [80]\n');
    const first = (await values(file))[0] as { spec: { ports: number[] } };
    first.spec.ports.push(443);
    expect(await values(file)).toEqual([{ spec: { ports: [80] } }]);
  });

  it('still locates a field at its line and column when read the second time', async () => {
    const file = join(testTempDir('kubelab-files-'), 'located.yaml');
    await writeFile(file, 'kind: Pod\n---\nkind: Service\nspec:\n  selector:\n    app: web\n');
    for (let i = 0; i < 2; i++) {
      const { docs } = await readYamlFile(file);
      expect(docs.map((d) => [d.index, d.source.line])).toEqual([
        [0, 1],
        [1, 3],
      ]);
      expect(docs[1]!.locate(['spec', 'selector', 'app'])).toEqual({ file, line: 6, column: 10 });
    }
  });
});
