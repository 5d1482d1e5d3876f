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
    expect(text).toMatch(/1 lab\(s\), 28 case\(s\), 1 failing/);
    expect(text).toMatch(
      /^ {2}mutants: \d+ generated, \d+ behaviour-changing, \d+ caught, 0 survived, \d+ equivalent$/m,
    );
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
    // The known attempts alone: the mutants of the solution have nothing to do with this one.
    const result = await selfTestLab(lab, { mutants: false });
    const bad = result.cases.filter((c) => !c.ok);
    expect(bad).toHaveLength(1);
    expect(bad[0]!.expectation).toBe('passes');
    expect(bad[0]!.problems.join('\n')).toMatch(/^backend-reaches-databases: /m);
  });

  it('reports every mutant that a lab without its statement of intent lets through', async () => {
    // Without the check proven over all traffic, only the sampled probes are left; they try
    // db1 on 1111, 2222 and 3333, so a range 1111-1112 slips through, and so do many others.
    const labs = await editedCopy((y) => {
      const start = y.indexOf('  - id: backend-egress-exactly');
      const end = y.indexOf('  - id: nothing-else-changes');
      return (
        y.slice(0, start) +
        y.slice(end).replace(/failsCheck: backend-egress-exactly/g, 'failsCheck: nothing-else-changes')
      );
    });
    const lab = await loadLab('np-backend', labs);
    const result = await selfTestLab(lab, { cwd: join(labs, '..') });
    expect(result.ok).toBe(false);
    const m = result.mutants!;
    expect(m.generated).toBeGreaterThan(20);
    expect(m.survived.length).toBeGreaterThan(0);
    expect(m.survived.join('\n')).toMatch(
      /widen spec\.egress\[0\]\.ports\[0\] 1111 to 1111-1112 \(passes, yet .*1112.* is blocked with the solution and open with this mutant\)/,
    );
    expect(m.caught + m.survived.length).toBe(m.behaviourChanging);
    const text = formatSelfTest([result]);
    expect(text).toMatch(
      new RegExp(
        `mutants: ${m.generated} generated, ${m.behaviourChanging} behaviour-changing, ${m.caught} caught, ${m.survived.length} survived, ${m.equivalent} equivalent`,
      ),
    );
    expect(text).toMatch(/^ {2}FAIL survived: np-lab\/np-backend: widen/m);
  });

  it('says a broken scenario once, not once per case', async () => {
    const labs = await editedCopy((y) => y);
    const db1 = join(labs, '..', 'scenarios', 'np-backend', '20-db1.yaml');
    // db1 stops listening on 1111: pre-flight (no policy at all) cannot reach it.
    await writeFile(db1, (await readFile(db1, 'utf8')).replace('SERVE_PORT_1111', 'SERVE_PORT_1112'));
    const lab = await loadLab('np-backend', labs);
    const result = await selfTestLab(lab, { cwd: join(labs, '..') });
    expect(result.ok).toBe(false);
    expect(result.cases).toHaveLength(1);
    const text = formatSelfTest([result]);
    expect(text.match(/environment error in preflight/g)).toHaveLength(1);
    expect(text).toMatch(/the other 27 case\(s\) were not run/);
  });
});
