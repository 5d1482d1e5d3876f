/**
 * `changeable:` entries for RBAC objects: namespaced kinds take the lab's namespace when they name
 * none, cluster-scoped kinds never do (they would match no object and protect it silently), and a
 * cluster-scoped entry that names a namespace is refused with its field path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadLab, validateLabDir } from '../../server/labs/index.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/labs/', import.meta.url));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kubelab-changeable-'));
  await cp(FIXTURES, dir, { recursive: true });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function goodWith(id: string, changeable: string) {
  const labDir = join(dir, 'labs', id);
  await cp(join(dir, 'labs', 'good'), labDir, { recursive: true });
  const text = (await readFile(join(labDir, 'lab.yaml'), 'utf8')).replace('id: good', `id: ${id}`);
  await writeFile(join(labDir, 'lab.yaml'), `${text.trimEnd()}\nchangeable:\n${changeable}`);
  return validateLabDir(labDir);
}

describe('changeable RBAC objects', () => {
  it('rbac-cut-clusterrolebinding lists its ClusterRoleBinding without a namespace', async () => {
    const lab = await loadLab('rbac-cut-clusterrolebinding');
    expect(lab.changeable).toEqual([
      { kind: 'ClusterRoleBinding', name: 'exporter-admin', why: expect.any(String) },
    ]);
  });

  it('Role and RoleBinding take the lab namespace; ClusterRole and ClusterRoleBinding stay cluster-wide', async () => {
    const entry = (kind: string) => `  - kind: ${kind}\n    name: x\n    why: the task says so\n`;
    const result = await goodWith(
      'rbac-changeable',
      ['Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding', 'ServiceAccount'].map(entry).join(''),
    );
    expect(result.problems).toEqual([]);
    expect(result.labs[0]!.changeable!.map((c) => `${c.kind}:${c.namespace ?? '-'}`)).toEqual([
      'Role:tiny',
      'RoleBinding:tiny',
      'ClusterRole:-',
      'ClusterRoleBinding:-',
      'ServiceAccount:tiny',
    ]);
  });

  it('a cluster-scoped entry with a namespace, and a kind that cannot be changeable, are refused', async () => {
    const result = await goodWith(
      'rbac-changeable-bad',
      '  - kind: ClusterRoleBinding\n    name: x\n    namespace: tiny\n    why: the task says so\n' +
        '  - kind: Secret\n    name: y\n    why: the task says so\n',
    );
    expect(result.problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'changeable[0].namespace: a ClusterRoleBinding has no namespace: remove this field',
      expect.stringMatching(/^changeable\[1\]\.kind: must be one of .*Role, RoleBinding, ClusterRole, ClusterRoleBinding$/),
    ]);
  });
});
