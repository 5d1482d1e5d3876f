/**
 * `kubelab lab test`: a lab proves itself on the simulated cluster. Before anything is applied the
 * check must fail, the solution must pass, and each known-wrong attempt must fail on the check it
 * names, and each known-right attempt (a different correct answer) must pass. Any environment error is a failure of the lab, reported with the file responsible.
 */
import { join, relative } from 'node:path';
import type { Lab, Scenario } from '../labs/model.js';
import type { KubeObject } from '../cluster/types.js';
import { effectivePolicyTypes } from '../netpol/index.js';
import { selectorDifference } from '../netpol/label-classes.js';
import type { NetworkPolicyModel } from '../netpol/types.js';
import { behaviourDifference, type IntentCheck } from './intent.js';
import { mutantsOf } from './mutants.js';
import { factsDifference, labFacts } from './facts.js';
import { PolicyOracle } from './oracle.js';
import { takeSnapshot } from './snapshot.js';
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

export interface MutantSummary {
  generated: number;
  /** Mutants whose traffic (outside the lab's tolerances) or policy facts differ from the solution's. */
  behaviourChanging: number;
  /** Behaviour-changing mutants the grader fails. */
  caught: number;
  /** Behaviour-changing mutants the grader passes: each one is a hole in the lab's checks. */
  survived: string[];
  /** Mutants that behave like the solution. */
  equivalent: number;
  /** Equivalent mutants the grader fails: each one is a false fail waiting to happen. */
  failingEquivalent: string[];
  /** Mutants that could not be graded (environment errors), with why. */
  errors: string[];
}

export interface SelfTestResult {
  lab: string;
  ok: boolean;
  cases: SelfTestCase[];
  mutants?: MutantSummary;
}

export async function selfTestLab(
  lab: Lab,
  opts: { clusters?: ScenarioClusters; cwd?: string; mutants?: boolean; scenariosRoot?: string } = {},
): Promise<SelfTestResult> {
  const clusters = opts.clusters ?? new ScenarioClusters();
  const scenario = await loadScenario(lab.scenario, opts.scenariosRoot ?? lab.scenariosRoot);
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
  // A scenario that fails pre-flight fails every case the same way: say it once.
  if (cases[0]?.report?.status === 'environment-error') {
    const rest = 1 + lab.knownWrong.length + (lab.knownRight ?? []).length;
    cases[0].problems.push(
      `the other ${rest} case(s) were not run: every one would stop at the same environment error.`,
    );
    return { lab: lab.id, ok: false, cases };
  }
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
  const mutants = opts.mutants === false ? undefined : await testMutants(lab, scenario, clusters);
  const mutantsOk =
    !mutants ||
    (mutants.survived.length === 0 && mutants.failingEquivalent.length === 0 && mutants.errors.length === 0);
  return { lab: lab.id, ok: cases.every((c) => c.ok) && mutantsOk, cases, ...(mutants ? { mutants } : {}) };
}

/**
 * Grades every mutant of the solution and asks the engine, independently of the lab's checks,
 * whether the mutant behaves like the solution: same traffic everywhere the lab does not tolerate
 * a difference, and the same facts about the NetworkPolicies the lab names.
 */
async function testMutants(lab: Lab, scenario: Scenario, clusters: ScenarioClusters): Promise<MutantSummary> {
  const solution = await readManifestFile(lab.files.solution);
  const intent = lab.checks.filter((c): c is IntentCheck => c.kind === 'traffic' || c.kind === 'unchanged');
  const policyChecks = lab.checks.filter(
    (c): c is Extract<typeof c, { kind: 'policy' }> => c.kind === 'policy',
  );
  // Labs whose solution changes more than NetworkPolicies are also judged by what those objects do.
  const aboutWorkloads = solution.some((o) => o.kind !== 'NetworkPolicy');
  const world = async (objects: KubeObject[]) => {
    const cluster = await clusters.fresh(scenario);
    try {
      await cluster.apply(objects);
    } catch (e) {
      if (!isKubelabError(e)) throw e;
      // A mutant the API server refuses (a pod Pod Security forbids) has the world it leaves behind.
    }
    const snapshot = await takeSnapshot(cluster);
    const facts = aboutWorkloads ? await labFacts(cluster, scenario.namespaces) : [];
    return { snapshot, model: new PolicyOracle(snapshot).model, facts };
  };
  const base = await world(solution);
  const summary: MutantSummary = {
    generated: 0,
    behaviourChanging: 0,
    caught: 0,
    survived: [],
    equivalent: 0,
    failingEquivalent: [],
    errors: [],
  };
  for (const mutant of mutantsOf(solution)) {
    summary.generated++;
    const after = await world(mutant.objects);
    const world0 = { snapshot: base.snapshot, namespaces: base.model.namespaces, pods: base.model.pods };
    const difference =
      behaviourDifference(intent, world0, base.model.policies, after.model.policies, [
        'the solution',
        'this mutant',
      ]) ??
      policyFactsDifference(policyChecks, base.model.policies, after.model.policies) ??
      factsDifference(base.facts, after.facts, ['the solution', 'this mutant']);
    let report: GradeReport;
    try {
      report = await gradeOnSimulated(lab, mutant.objects, { scenario, clusters });
    } catch (e) {
      if (!isKubelabError(e)) throw e;
      summary.errors.push(`${mutant.name}: could not grade: ${e.message}`);
      continue;
    }
    if (report.status === 'environment-error') {
      summary.errors.push(`${mutant.name}: ${envProblems(report).join(' ')}`);
      continue;
    }
    if (difference) {
      summary.behaviourChanging++;
      if (report.passed) summary.survived.push(`${mutant.name} (passes, yet ${difference})`);
      else summary.caught++;
    } else {
      summary.equivalent++;
      if (!report.passed)
        summary.failingEquivalent.push(
          `${mutant.name} (behaves like the solution, yet fails: ${failingLines(report)[0] ?? ''})`,
        );
    }
  }
  return summary;
}

/** The facts a policy check asserts (exists, what it selects, what it restricts), compared. */
function policyFactsDifference(
  checks: Array<{ namespace: string; name: string }>,
  a: NetworkPolicyModel[],
  b: NetworkPolicyModel[],
): string | undefined {
  for (const check of checks) {
    const find = (list: NetworkPolicyModel[]) =>
      list.find((p) => p.namespace === check.namespace && p.name === check.name);
    const pa = find(a);
    const pb = find(b);
    if (!pa || !pb) {
      if (pa !== pb) return `NetworkPolicy ${check.namespace}/${check.name} exists in only one of them`;
      continue;
    }
    if (selectorDifference(pa.spec.podSelector, pb.spec.podSelector))
      return `NetworkPolicy ${check.namespace}/${check.name} selects other pods`;
    const ta = effectivePolicyTypes(pa.spec);
    const tb = effectivePolicyTypes(pb.spec);
    if (ta.ingress !== tb.ingress || ta.egress !== tb.egress)
      return `NetworkPolicy ${check.namespace}/${check.name} restricts other directions`;
  }
  return undefined;
}

function envProblems(r: GradeReport): string[] {
  return r.checks
    .filter((c) => c.status === 'error')
    .flatMap((c) => c.messages.map((m) => `environment error in ${c.id}: ${m}`));
}

function failingLines(r: GradeReport): string[] {
  return r.checks.filter((c) => c.status !== 'pass').flatMap((c) => c.messages.map((m) => `${c.id}: ${m}`));
}
