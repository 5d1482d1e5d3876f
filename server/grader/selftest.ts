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
  opts: { clusters?: ScenarioClusters; cwd?: string } = {},
): Promise<SelfTestResult> {
  const clusters = opts.clusters ?? new ScenarioClusters();
  const scenario = await loadScenario(lab.scenario);
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

  {
    const r = await grade(undefined);
    const c: SelfTestCase = {
      name: 'nothing applied',
      file: show(lab.files.labYaml),
      expectation: 'fails',
      ok: false,
      problems: [],
    };
    if (typeof r === 'string') c.problems.push(`could not grade: ${r}`);
    else {
      c.report = r;
      if (r.status === 'environment-error') c.problems.push(...envProblems(r));
      else if (r.passed)
        c.problems.push('the check passes with nothing applied: the lab tests nothing the learner does.');
      else c.ok = true;
    }
    cases.push(c);
  }
  {
    const r = await grade(lab.files.solution);
    const c: SelfTestCase = {
      name: 'solution',
      file: show(lab.files.solution),
      expectation: 'passes',
      ok: false,
      problems: [],
    };
    if (typeof r === 'string') c.problems.push(`could not grade: ${r}`);
    else {
      c.report = r;
      if (r.status === 'environment-error') c.problems.push(...envProblems(r));
      else if (!r.passed) c.problems.push(...failingLines(r));
      else c.ok = true;
    }
    cases.push(c);
  }
  for (const wrong of lab.knownWrong) {
    const file = join(lab.dir, wrong.file);
    const r = await grade(file);
    const c: SelfTestCase = {
      name: wrong.mistake,
      file: show(file),
      expectation: `fails check ${wrong.failsCheck}`,
      ok: false,
      problems: [],
    };
    if (typeof r === 'string') c.problems.push(`could not grade: ${r}`);
    else {
      c.report = r;
      const target = r.checks.find((x) => x.id === wrong.failsCheck);
      if (r.status === 'environment-error') c.problems.push(...envProblems(r));
      else if (!target)
        c.problems.push(`lab.yaml names check ${wrong.failsCheck}, which the report does not contain.`);
      else if (target.status !== 'fail') {
        const others = r.checks.filter((x) => x.status === 'fail').map((x) => x.id);
        c.problems.push(
          `check ${wrong.failsCheck} passes for this attempt` +
            (others.length > 0
              ? ` (it fails ${others.join(', ')} instead)`
              : r.passed
                ? ' (the attempt passes the whole lab!)'
                : '') +
            '.',
        );
      } else c.ok = true;
    }
    cases.push(c);
  }
  for (const right of lab.knownRight ?? []) {
    const file = join(lab.dir, right.file);
    const r = await grade(file);
    const c: SelfTestCase = {
      name: right.why,
      file: show(file),
      expectation: 'passes',
      ok: false,
      problems: [],
    };
    if (typeof r === 'string') c.problems.push(`could not grade: ${r}`);
    else {
      c.report = r;
      if (r.status === 'environment-error') c.problems.push(...envProblems(r));
      else if (!r.passed) c.problems.push(...failingLines(r));
      else c.ok = true;
    }
    cases.push(c);
  }
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
