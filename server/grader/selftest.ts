/**
 * `kubelab lab test`: a lab proves itself on the simulated cluster. Before anything is applied the
 * check must fail, the solution must pass, and each known-wrong attempt must fail on the check it
 * names, and each known-right attempt (a different correct answer) must pass. Any environment error is a failure of the lab, reported with the file responsible.
 */
import { join, relative } from 'node:path';
import type { Lab } from '../labs/model.js';
import { loadScenario, readManifestFile } from '../labs/index.js';
import { gradeOnSimulated, ScenarioClusters } from './simulated.js';
import type { GradeReport } from './report.js';
import { isKubelabError } from '../errors.js';

export interface SelfTestCase {
  name: string;
  /** File the case comes from (relative to the repository when possible). */
  file: string;
  expectation: string;
  ok: boolean;
  /** Why it did not hold, with the checks involved. */
  problems: string[];
  report?: GradeReport;
}

export interface SelfTestResult {
  lab: string;
  ok: boolean;
  cases: SelfTestCase[];
}

export async function selfTestLab(
  lab: Lab,
  opts: { clusters?: ScenarioClusters; cwd?: string; scenariosRoot?: string } = {},
): Promise<SelfTestResult> {
  const clusters = opts.clusters ?? new ScenarioClusters();
  const scenario = await loadScenario(lab.scenario, opts.scenariosRoot);
  const cwd = opts.cwd ?? process.cwd();
  const show = (f: string) => relative(cwd, f) || f;
  const cases: SelfTestCase[] = [];

  const grade = async (file: string | undefined): Promise<GradeReport | string> => {
    try {
      const objects = file ? await readManifestFile(file) : [];
      return await gradeOnSimulated(lab, objects, { scenario, clusters });
    } catch (e) {
      if (isKubelabError(e)) return e.format();
      throw e;
    }
  };

  /**
   * Grades one attempt and judges the report: `judge` returns the problems (none = the case holds).
   * An attempt that cannot be graded or hits an environment error never holds.
   */
  const run = async (
    name: string,
    file: string | undefined,
    expectation: string,
    judge: (r: GradeReport) => string[],
  ): Promise<void> => {
    const r = await grade(file);
    const c: SelfTestCase = {
      name,
      file: show(file ?? lab.files.labYaml),
      expectation,
      ok: false,
      problems: [],
    };
    if (typeof r === 'string') c.problems.push(`could not grade: ${r}`);
    else {
      c.report = r;
      c.problems.push(...(r.status === 'environment-error' ? envProblems(r) : judge(r)));
      c.ok = c.problems.length === 0;
    }
    cases.push(c);
  };
  const mustPass = (r: GradeReport) => (r.passed ? [] : failingLines(r));

  await run('nothing applied', undefined, 'fails', (r) =>
    r.passed ? ['the check passes with nothing applied: the lab tests nothing the learner does.'] : [],
  );
  await run('solution', lab.files.solution, 'passes', mustPass);
  for (const wrong of lab.knownWrong) {
    await run(wrong.mistake, join(lab.dir, wrong.file), `fails check ${wrong.failsCheck}`, (r) => {
      const target = r.checks.find((x) => x.id === wrong.failsCheck);
      if (!target) return [`lab.yaml names check ${wrong.failsCheck}, which the report does not contain.`];
      if (target.status === 'fail') return [];
      const others = r.checks.filter((x) => x.status === 'fail').map((x) => x.id);
      const instead =
        others.length > 0
          ? ` (it fails ${others.join(', ')} instead)`
          : r.passed
            ? ' (the attempt passes the whole lab!)'
            : '';
      return [`check ${wrong.failsCheck} passes for this attempt${instead}.`];
    });
  }
  for (const right of lab.knownRight ?? [])
    await run(right.why, join(lab.dir, right.file), 'passes', mustPass);
  return { lab: lab.id, ok: cases.every((c) => c.ok), cases };
}

function envProblems(r: GradeReport): string[] {
  return r.checks
    .filter((c) => c.status === 'error')
    .flatMap((c) => c.messages.map((m) => `environment error in ${c.id}: ${m}`));
}

function failingLines(r: GradeReport): string[] {
  return r.checks.filter((c) => c.status !== 'pass').flatMap((c) => c.messages.map((m) => `${c.id}: ${m}`));
}
