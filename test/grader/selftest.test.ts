import { describe, it, expect, afterAll } from 'vitest';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labsRoot, loadLab, scenariosRoot } from '../../server/labs/index.js';
import { selfTestLab } from '../../server/grader/selftest.js';
import { formatSelfTest } from '../../server/cli/lab.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** A copy of np-backend whose lab.yaml is edited by `edit`. */
async function editedCopy(edit: (yaml: string) => string): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'kubelab-selftest-'));
  dirs.push(root);
  await cp(join(labsRoot(), 'np-backend'), join(root, 'labs', 'np-backend'), { recursive: true });
  await cp(join(scenariosRoot(), 'np-backend'), join(root, 'scenarios', 'np-backend'), { recursive: true });
  const file = join(root, 'labs', 'np-backend', 'lab.yaml');
  await writeFile(file, edit(await readFile(file, 'utf8')));
  return join(root, 'labs');
}

describe('lab test tells an instructor what is wrong with their lab', () => {
  it('names the attempt file and the check when a known-wrong attempt fails a different check', async () => {
    const labs = await editedCopy((y) =>
      y.replace(
        'file: wrong/01-forgot-dns.yaml\n    failsCheck: backend-dns',
        'file: wrong/01-forgot-dns.yaml\n    failsCheck: dns-only-to-cluster-dns',
      ),
    );
    const lab = await loadLab('np-backend', labs);
    const result = await selfTestLab(lab, { cwd: join(labs, '..') });
    expect(result.ok).toBe(false);
    const bad = result.cases.filter((c) => !c.ok);
    expect(bad).toHaveLength(1);
    expect(bad[0]!.file).toBe(join('labs', 'np-backend', 'wrong', '01-forgot-dns.yaml'));
    expect(bad[0]!.problems[0]).toMatch(
      /check dns-only-to-cluster-dns passes for this attempt \(it fails .*backend-dns.* instead\)/,
    );
    const text = formatSelfTest([result]);
    expect(text).toMatch(/^FAIL np-backend$/m);
    expect(text).toMatch(
      /FAIL .*fails check dns-only-to-cluster-dns +\[labs\/np-backend\/wrong\/01-forgot-dns\.yaml\]/,
    );
    expect(text).toMatch(/1 lab\(s\), 22 case\(s\), 1 failing/);
  });

  it('flags a known-right attempt that the grader fails, with the failing check', async () => {
    const labs = await editedCopy((y) => y);
    // The "right" attempt is in fact a deny-all: the grader must fail it, and lab test must say so.
    const dir = join(labs, 'np-backend');
    await writeFile(
      join(dir, 'right', '01-protocol-defaulted.yaml'),
      await readFile(join(dir, 'wrong', '14-deny-all-egress.yaml')),
    );
    const lab = await loadLab('np-backend', labs);
    const result = await selfTestLab(lab);
    const bad = result.cases.filter((c) => !c.ok);
    expect(bad).toHaveLength(1);
    expect(bad[0]!.expectation).toBe('passes');
    expect(bad[0]!.problems.join('\n')).toMatch(/^backend-reaches-databases: /m);
  });
});
