/** `kubelab lab new ID`: the scaffold is a valid lab whose self-test passes as written. */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../server/cli/main.js';
import { memoryIO } from '../../server/cli/io.js';
import { selfTestLab } from '../../server/grader/selftest.js';
import { loadLab, validateAll } from '../../server/labs/index.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kubelab-new-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

const run = async (argv: string[]) => {
  const io = memoryIO({ cwd: root });
  const code = await main(argv, io);
  return { code, out: io.stdoutText(), err: io.stderrText() };
};

describe('kubelab lab new', () => {
  it(
    'scaffolds a lab and scenario that validate and pass lab test at once',
    { timeout: 60_000 },
    async () => {
      const r = await run(['lab', 'new', 'np-demo', '--labs', 'labs']);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toContain(`created ${join(root, 'labs', 'np-demo', 'lab.yaml')}`);
      expect((await readdir(join(root, 'scenarios', 'np-demo'))).sort()).toEqual([
        '00-namespace.yaml',
        '10-apps.yaml',
        'scenario.yaml',
      ]);

      const validated = await validateAll(join(root, 'labs'));
      expect(validated.problems).toEqual([]);
      expect(validated.labs.map((l) => l.id)).toEqual(['np-demo']);

      const lab = await loadLab('np-demo', join(root, 'labs'));
      // The whole self-test, mutants of the solution included: the scaffold's statements of intent
      // leave no behaviour-changing mutant alive.
      const result = await selfTestLab(lab, { scenariosRoot: join(root, 'scenarios') });
      expect(result.cases.filter((c) => !c.ok)).toEqual([]);
      expect(result.mutants?.survived).toEqual([]);
      expect(result.mutants?.failingEquivalent).toEqual([]);
      expect(result.mutants?.caught).toBeGreaterThan(10);
      expect(result.ok).toBe(true);
      // Nothing applied, the solution, two known-wrong and one known-right attempt.
      expect(result.cases).toHaveLength(5);
    },
  );

  it('refuses an existing lab or a bad id (exit 2)', async () => {
    const again = await run(['lab', 'new', 'np-demo', '--labs', 'labs']);
    expect(again.code).toBe(2);
    expect(again.err).toContain('already exists');
    const bad = await run(['lab', 'new', 'Bad_Id', '--labs', 'labs']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('"Bad_Id" is not a valid lab id');
  });
});
