import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { registerLabCatalogCommands, formatLabTable } from '../../server/cli/lab-catalog.js';
import { memoryIO } from '../../server/cli/io.js';
import { isKubelabError } from '../../server/errors.js';
import { labsRoot, listLabs, orderLabs, readCoursePath } from '../../server/labs/index.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/labs/', import.meta.url));

/** Runs `kubelab lab ...` the way main() does: errors become stderr text and an exit code. */
async function run(args: string[], cwd = REPO) {
  const io = memoryIO({ cwd });
  const program = new Command().exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  const lab = program.command('lab').exitOverride();
  registerLabCatalogCommands(lab, io);
  for (const c of lab.commands) c.exitOverride();
  let code: number;
  try {
    await program.parseAsync(['lab', ...args], { from: 'user' });
    code = io.exitCode ?? 0;
  } catch (e) {
    if (e instanceof CommanderError) code = e.exitCode === 0 ? 0 : 2;
    else if (isKubelabError(e)) {
      io.stderr(`kubelab: ${e.format()}\n`);
      code = e.exitCode;
    } else throw e;
  }
  return { code, out: io.stdoutText(), err: io.stderrText() };
}

describe('kubelab lab list', () => {
  it('prints a table of the labs', async () => {
    const r = await run(['list']);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+DOMAIN\s+TITLE\s+DIFFICULTY\s+MINUTES\s+TAGS$/);
    expect(lines.find((l) => l.startsWith('np-backend'))).toMatch(
      /^np-backend\s+networkpolicy\s+Lock down backend egress\s+intermediate\s+25\s+CKA, CKS, NetworkPolicy$/,
    );
    expect(r.out).toBe(formatLabTable(orderLabs(await listLabs(), await readCoursePath(labsRoot()))));
  });

  it('lists the labs in the order of the course, as the catalogue page does', async () => {
    const ids = (await run(['list'])).out
      .trimEnd()
      .split('\n')
      .slice(1)
      .map((l) => l.split(/\s+/)[0]);
    const course = await readCoursePath(labsRoot());
    expect(course.length).toBeGreaterThan(2);
    expect(ids.slice(0, course.length)).toEqual(course);
    const json = JSON.parse((await run(['list', '--json'])).out) as Array<{ id: string }>;
    expect(json.map((l) => l.id)).toEqual(ids);
  });

  it('prints JSON with --json', async () => {
    const r = await run(['list', '--json']);
    expect(r.code).toBe(0);
    const labs = JSON.parse(r.out) as Array<Record<string, unknown>>;
    expect(labs.find((l) => l.id === 'np-backend')).toEqual({
      id: 'np-backend',
      title: 'Lock down backend egress',
      summary: expect.any(String),
      difficulty: 'intermediate',
      minutes: 25,
      tags: ['CKA', 'CKS', 'NetworkPolicy'],
      competency: expect.stringContaining('CKA'),
      catches: expect.any(String),
      scenario: 'np-backend',
      namespace: 'np-lab',
      domain: 'networkpolicy',
    });
  });

  it('lists the good labs of a broken catalogue, says how many are broken and exits 2', async () => {
    const r = await run(['list', '--labs', join(FIXTURES, 'labs')]);
    expect(r.code).toBe(2);
    expect(r.out.split('\n').filter((l) => l.length > 0).map((l) => l.split(/\s+/)[0])).toEqual(['ID', 'good']);
    expect(r.err).toMatch(/^kubelab: \d+ problem\(s\) in the catalogue; 7 lab\(s\) not listed\. Run kubelab lab validate/);
  });

  it('says so when there are no labs', async () => {
    const r = await run(['list', '--labs', join(FIXTURES, 'scenarios')]);
    expect(r.out).toBe('No labs found.\n');
    expect(r.code).toBe(0);
  });
});

describe('kubelab lab validate', () => {
  it('validates the repository catalogue and prints a summary (exit 0)', async () => {
    const r = await run(['validate']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('  ok  np-backend: Lock down backend egress\n');
    expect(r.out).toMatch(/valid: \d+ lab\(s\), \d+ scenario\(s\), \d+ check\(s\), \d+ known-wrong and \d+ known-right attempt\(s\)\.\n$/);
  });

  it('accepts a lab folder, or its lab.yaml, relative to the working directory', async () => {
    for (const path of ['labs/np-backend', 'labs/np-backend/lab.yaml', join(labsRoot(), 'np-backend')]) {
      const r = await run(['validate', path]);
      expect(r.code, path).toBe(0);
      expect(r.out).toBe(
        '  ok  np-backend: Lock down backend egress\nvalid: 1 lab(s), 1 scenario(s), 9 check(s), 22 known-wrong and 4 known-right attempt(s).\n',
      );
    }
  });

  it('lists every problem as file:line: path: message and exits 2', async () => {
    const r = await run(['validate', 'labs/wrong-type'], FIXTURES);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toBe(
      [
        'kubelab: 3 problem(s) found (1 of 1 lab(s) invalid)',
        '  - labs/wrong-type/lab.yaml:5:7: tags: must be a list of tags',
        '  - labs/wrong-type/lab.yaml:6:10: minutes: must be a number of minutes',
        '  - labs/wrong-type/lab.yaml:34:13: checks[1].expect: must be one of open, blocked',
        'Fix each line above (file:line: field: what is wrong), then run kubelab lab validate again.',
        '',
      ].join('\n'),
    );
  });

  it('validates a whole folder of labs at once, reporting every broken lab', async () => {
    const r = await run(['validate', 'labs'], FIXTURES);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^kubelab: \d+ problem\(s\) found \(7 of 8 lab\(s\) invalid\)/);
    for (const lab of ['unknown-key', 'wrong-type', 'missing-page', 'bad-fails-check', 'traversal', 'checks-vs-scenario', 'bad-attempts']) {
      expect(r.err).toContain(`  - labs/${lab}/`);
    }
    expect(r.err).toContain('  - labs/unknown-key/lab.yaml:57:16: knownWrong[0].failCheck: unknown field "failCheck" (did you mean "failsCheck"?)');
    expect(r.err).toContain('  - labs/bad-fails-check/lab.yaml:57:17: knownWrong[0].failsCheck: no check has id "client-blockd"');
  });

  it('prints {ok, labs, problems} with --json, exit 2 on problems', async () => {
    const r = await run(['validate', 'labs/bad-fails-check', '--json'], FIXTURES);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out)).toEqual({
      ok: false,
      labs: [],
      checked: { labs: 1, scenarios: 1 },
      problems: [
        {
          file: 'labs/bad-fails-check/lab.yaml',
          line: 57,
          column: 17,
          path: 'knownWrong[0].failsCheck',
          message: 'no check has id "client-blockd" (check ids: policy-exists, client-blocked, client-dns)',
        },
      ],
    });
    const ok = await run(['validate', 'labs/good', '--json'], FIXTURES);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ ok: true, labs: ['good'], problems: [] });
  });

  it('takes --scenarios for labs whose scenarios live elsewhere', async () => {
    const missing = await run(['validate', 'labs/good', '--scenarios', 'labs'], FIXTURES);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('labs/good/lab.yaml:9:11: scenario: no scenario named "tiny"');
    const found = await run(['validate', 'labs/good', '--scenarios', 'scenarios'], FIXTURES);
    expect(found.code).toBe(0);
  });

  it('refuses paths that are not labs', async () => {
    const none = await run(['validate', 'no/such/dir']);
    expect(none.code).toBe(2);
    expect(none.err).toBe('kubelab: cannot validate no/such/dir: no such file or folder\n');
    const file = await run(['validate', 'package.json']);
    expect(file.code).toBe(2);
    expect(file.err).toContain('is a file; give a lab folder');
  });

  it('an empty folder (or one without lab.yaml) is not "valid: 0 labs": exit 2 and what to give instead', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const empty = await mkdtemp(join(tmpdir(), 'kubelab-empty-lab-'));
    try {
      const r = await run(['validate', empty]);
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toContain(`no lab found in ${empty}`);
      expect(r.err).toContain('lab.yaml');
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('a scenario manifest that does not parse is reported alone, not with follow-on errors in lab.yaml', async () => {
    const { cp, mkdtemp, readFile, rm, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const root = await mkdtemp(join(tmpdir(), 'kubelab-indent-'));
    try {
      await cp(join(REPO, 'labs', 'np-backend'), join(root, 'labs', 'np-backend'), { recursive: true });
      await cp(join(REPO, 'scenarios'), join(root, 'scenarios'), { recursive: true });
      const db1 = join(root, 'scenarios', 'np-backend', '20-db1.yaml');
      const text = await readFile(db1, 'utf8');
      await writeFile(db1, text.replace('  template:\n    metadata:', '  template:\n   metadata:'));
      const r = await run(['validate', join(root, 'labs', 'np-backend')]);
      expect(r.code).toBe(2);
      const problems = r.err.split('\n').filter((l) => l.startsWith('  - '));
      expect(problems).toHaveLength(1);
      expect(problems[0]).toContain('scenarios/np-backend/20-db1.yaml:');
      expect(r.err).not.toContain('lab.yaml');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
