/** `kubelab lab list` and `kubelab lab validate`: the catalogue of labs, and proof it is well-formed. */
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import type { CliIO } from './io.js';
import { badInput, type Problem } from '../errors.js';
import type { ValidationResult } from '../labs/index.js';
import type { Lab } from '../labs/model.js';

// Loaded by the command that runs, so that declaring the commands costs nothing (the lab schema
// pulls in zod and the YAML parser).
const catalogue = () => import('../labs/index.js');

interface RootOptions {
  labs?: string;
  scenarios?: string;
}

export function registerLabCatalogCommands(lab: Command, io: CliIO): void {
  lab
    .command('list')
    .description('List the labs in course order: id, title, difficulty, minutes and tags')
    .option('--json', 'print the labs as JSON')
    .option('--labs <dir>', 'labs folder (default: the labs/ of this kubelab)')
    .option('--scenarios <dir>', 'scenarios folder (default: scenarios/ next to the labs folder)')
    .action(async (opts: RootOptions & { json?: boolean }) => {
      const { validateAll, orderLabs, readCoursePath } = await catalogue();
      const roots = await rootsFrom(io, opts);
      const result = await validateAll(roots);
      // The course's order, as the catalogue page shows it.
      const labs = orderLabs(result.labs, await readCoursePath(roots.labs));
      if (opts.json) io.stdout(`${JSON.stringify(labs.map(summary), null, 2)}\n`);
      else io.stdout(formatLabTable(labs));
      if (result.problems.length > 0) {
        // Listing still shows the good labs; the broken ones must not go unnoticed.
        io.stderr(
          `kubelab: ${result.problems.length} problem(s) in the catalogue; ${result.checked.labs - result.labs.length} lab(s) not listed. ` +
            'Run kubelab lab validate to see them.\n',
        );
        io.exitCode = 2;
      }
    });

  lab
    .command('validate')
    .description(
      'Check labs and scenarios: schema, files, known attempts, and every check against its scenario',
    )
    .argument('[path]', 'a lab folder, or a folder of labs (default: the labs/ of this kubelab)')
    .option('--scenarios <dir>', 'scenarios folder (default: scenarios/ next to the labs folder)')
    .option('--json', 'print {ok, labs, problems} as JSON')
    .action(async (path: string | undefined, opts: { scenarios?: string; json?: boolean }) => {
      const result = await validatePath(io, path, opts.scenarios);
      if (result.checked.labs === 0) {
        // Nothing checked is not "valid": a wrong path or a lab without lab.yaml must not pass.
        const where = path ?? 'labs/';
        const { LAB_FILE } = await catalogue();
        throw badInput(
          `no lab found in ${where}: neither it nor any folder in it has a ${LAB_FILE}`,
          [],
          `Give a lab folder (with ${LAB_FILE}) or the folder of labs; kubelab lab new ID creates one.`,
        );
      }
      const problems = result.problems.map((p) => relativeProblem(io.cwd, p));
      if (opts.json) {
        io.stdout(
          `${JSON.stringify({ ok: problems.length === 0, labs: result.labs.map((l) => l.id), checked: result.checked, problems }, null, 2)}\n`,
        );
        if (problems.length > 0) io.exitCode = 2;
        return;
      }
      if (problems.length > 0) {
        const invalid = result.checked.labs - result.labs.length;
        throw badInput(
          `${problems.length} problem(s) found` +
            (invalid > 0 ? ` (${invalid} of ${result.checked.labs} lab(s) invalid)` : ''),
          problems,
          'Fix each line above (file:line: field: what is wrong), then run kubelab lab validate again.',
        );
      }
      io.stdout(formatValidationSummary(result));
    });
}

async function rootsFrom(io: CliIO, opts: RootOptions) {
  const { catalogRoots } = await catalogue();
  return catalogRoots({
    ...(opts.labs ? { labs: resolve(io.cwd, opts.labs) } : {}),
    ...(opts.scenarios ? { scenarios: resolve(io.cwd, opts.scenarios) } : {}),
  });
}

async function validatePath(
  io: CliIO,
  path: string | undefined,
  scenarios: string | undefined,
): Promise<ValidationResult> {
  const { LAB_FILE, catalogRoots, validateAll, validateLabDir } = await catalogue();
  const { fileKind } = await import('../labs/files.js');
  const scenariosAbs = scenarios ? resolve(io.cwd, scenarios) : undefined;
  if (path === undefined)
    return validateAll(catalogRoots(scenariosAbs ? { scenarios: scenariosAbs } : undefined));
  const abs = resolve(io.cwd, path);
  const kind = await fileKind(abs);
  if (kind === 'missing') throw badInput(`cannot validate ${path}: no such file or folder`);
  if (kind === 'file') {
    if (!abs.endsWith(`/${LAB_FILE}`))
      throw badInput(`${path} is a file; give a lab folder, a labs folder, or a ${LAB_FILE}`);
    return validateLabDir(abs.slice(0, -LAB_FILE.length - 1), scenariosAbs);
  }
  if ((await fileKind(join(abs, LAB_FILE))) === 'file') return validateLabDir(abs, scenariosAbs);
  return validateAll({ labs: abs, ...(scenariosAbs ? { scenarios: scenariosAbs } : {}) });
}

function summary(l: Lab) {
  return {
    id: l.id,
    title: l.title,
    summary: l.summary,
    difficulty: l.difficulty,
    minutes: l.minutes,
    tags: l.tags,
    competency: l.competency,
    catches: l.catches,
    scenario: l.scenario,
    namespace: l.namespace,
    domain: l.domain ?? 'networkpolicy',
  };
}

export function formatLabTable(labs: Lab[]): string {
  if (labs.length === 0) return 'No labs found.\n';
  const rows = [
    ['ID', 'DOMAIN', 'TITLE', 'DIFFICULTY', 'MINUTES', 'TAGS'],
    ...labs.map((l) => [
      l.id,
      l.domain ?? 'networkpolicy',
      l.title,
      l.difficulty,
      String(l.minutes),
      l.tags.join(', '),
    ]),
  ];
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length)));
  const lines = rows.map((r) =>
    r
      .map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
  return `${lines.join('\n')}\n`;
}

function formatValidationSummary(result: ValidationResult): string {
  const labs = result.labs;
  const wrong = labs.reduce((n, l) => n + l.knownWrong.length, 0);
  const right = labs.reduce((n, l) => n + (l.knownRight?.length ?? 0), 0);
  const checks = labs.reduce((n, l) => n + l.checks.length, 0);
  const parts = [
    `${labs.length} lab(s)`,
    `${result.checked.scenarios} scenario(s)`,
    `${checks} check(s)`,
    `${wrong} known-wrong and ${right} known-right attempt(s)`,
  ];
  const names = labs.map((l) => `  ok  ${l.id}: ${l.title}`);
  return `${names.join('\n')}${names.length > 0 ? '\n' : ''}valid: ${parts.join(', ')}.\n`;
}

function relativeProblem(cwd: string, p: Problem): Problem {
  if (!p.file || !isAbsolute(p.file)) return p;
  const rel = relative(cwd, p.file);
  return { ...p, file: rel.startsWith('..') ? p.file : rel };
}
