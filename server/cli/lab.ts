/**
 * `kubelab lab ...`: the catalogue (list, validate), grading (check), the instructors' self-test
 * (test) and the real-cluster lifecycle (start, reset).
 */
import type { Command } from 'commander';
import type { CliIO } from './io.js';
import { registerLabCatalogCommands } from './lab-catalog.js';
import { registerLabNew } from './lab-new.js';
import type { SelfTestResult } from '../grader/selftest.js';
import { KubelabError } from '../errors.js';
import type { KubeObject } from '../cluster/types.js';
import { registerRealLabCommands } from './lab-real.js';

// Each command loads what it uses when it runs: `lab check --simulated` never loads the Kubernetes
// client, and no other kubelab command pays for the grader.
const labs = () => import('../labs/index.js');

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function registerLab(program: Command, io: CliIO): void {
  const lab = program.command('lab').description('Labs: list, validate, check, test, start, reset');
  registerLabCatalogCommands(lab, io);
  registerLabNew(lab, io);

  lab
    .command('check')
    .description(
      'Grade a lab: on the live cluster, or with --simulated on a fresh simulated cluster with -f FILE applied',
    )
    .argument('<lab>', 'lab id (see kubelab lab list)')
    .option('--simulated', 'grade on a fresh simulated cluster with the scenario deployed')
    .option(
      '-f, --file <path>',
      'manifests to apply before grading (repeatable; file, directory or -)',
      collect,
      [],
    )
    .option('--json', 'print the GradeReport as JSON')
    .option('-v, --verbose', 'list every probe')
    .option(
      '--context <name>',
      'kubeconfig context of a cluster you brought (default: the kubelab kind cluster)',
    )
    .option('--kubeconfig <file>', 'kubeconfig file of a cluster you brought')
    .option('--name <name>', 'kind cluster name (default: kubelab)')
    .action(
      async (
        id: string,
        opts: {
          simulated?: boolean;
          file: string[];
          json?: boolean;
          verbose?: boolean;
          context?: string;
          kubeconfig?: string;
          name?: string;
        },
      ) => {
        const { loadLab, loadLabForCheck, readManifestFile } = await labs();
        let report;
        if (opts.simulated) {
          const { lab: theLab, scenario } = await loadLabForCheck(id);
          const objects: KubeObject[] = [];
          for (const f of opts.file) {
            objects.push(...(await readManifestFile(f, f === '-' ? () => io.readStdin() : undefined)));
          }
          const { gradeOnSimulated } = await import('../grader/simulated.js');
          report = await gradeOnSimulated(theLab, objects, { scenario });
        } else {
          const theLab = await loadLab(id);
          if (opts.file.length > 0) {
            throw new KubelabError('USAGE', '-f applies files only with --simulated', {
              hint: 'On a real cluster, apply your manifests with kubectl, then run kubelab lab check.',
            });
          }
          const { context, kubeconfig, name } = opts;
          const { gradeOnRealCluster } = await import('./lab-real.js');
          report = await gradeOnRealCluster(theLab, io, {
            ...(context ? { context } : {}),
            ...(kubeconfig ? { kubeconfig } : {}),
            ...(name ? { name } : {}),
          });
        }
        const { formatReport } = await import('../grader/format.js');
        io.stdout(
          opts.json
            ? `${JSON.stringify(report, null, 2)}\n`
            : formatReport(report, { verbose: opts.verbose ?? false }),
        );
        io.exitCode = report.status === 'passed' ? 0 : report.status === 'failed' ? 1 : 3;
      },
    );

  lab
    .command('test')
    .description(
      'Prove labs on the simulated cluster: fails before, solution passes, each known-wrong attempt fails its check',
    )
    .argument('[lab]', 'one lab id (default: every lab)')
    .option('--json', 'print results as JSON')
    .action(async (id: string | undefined, opts: { json?: boolean }) => {
      const { listLabs, loadLab } = await labs();
      const { selfTestLab } = await import('../grader/selftest.js');
      const chosen = id ? [await loadLab(id)] : await listLabs();
      const results: SelfTestResult[] = [];
      for (const l of chosen) results.push(await selfTestLab(l, { cwd: io.cwd }));
      if (opts.json) {
        const slim = results.map((r) => ({ ...r, cases: r.cases.map(({ report: _r, ...rest }) => rest) }));
        io.stdout(`${JSON.stringify({ ok: results.every((r) => r.ok), labs: slim }, null, 2)}\n`);
      } else {
        io.stdout(formatSelfTest(results));
      }
      io.exitCode = results.every((r) => r.ok) ? 0 : 1;
    });

  registerRealLabCommands(lab, io);
}

export function formatSelfTest(results: SelfTestResult[]): string {
  const lines: string[] = [];
  let cases = 0;
  let bad = 0;
  for (const r of results) {
    lines.push(`${r.ok ? 'ok  ' : 'FAIL'} ${r.lab}`);
    for (const c of r.cases) {
      cases++;
      if (!c.ok) bad++;
      lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.expectation}  [${c.file}]`);
      for (const p of c.problems) lines.push(`         ${p}`);
    }
    const m = r.mutants;
    if (m) {
      lines.push(
        `  mutants: ${m.generated} generated, ${m.behaviourChanging} behaviour-changing, ${m.caught} caught, ${m.survived.length} survived, ${m.equivalent} equivalent`,
      );
      for (const x of m.survived) lines.push(`  FAIL survived: ${x}`);
      for (const x of m.failingEquivalent) lines.push(`  FAIL equivalent but failed: ${x}`);
      for (const x of m.errors) lines.push(`  FAIL not graded: ${x}`);
    }
  }
  lines.push('');
  lines.push(`${results.length} lab(s), ${cases} case(s), ${bad} failing`);
  return `${lines.join('\n')}\n`;
}
