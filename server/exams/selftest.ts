/**
 * `kubelab exam test`: an exam proves its scoring on the simulated cluster. The untouched cluster
 * scores 0; every solution together scores 100%; each solution alone earns exactly its own task's
 * points and nothing of the others (so no task's objects fake or break another's); and the first
 * half of the solutions scores strictly in between.
 */
import type { KubeObject } from '../cluster/types.js';
import { isNamespaced } from '../labs/files.js';
import { readManifestFile } from '../labs/index.js';
import type { Lab } from '../labs/model.js';
import { PreflightCache } from '../grader/index.js';
import { createExamCluster, gradeExam, taskLabs } from './grade.js';
import type { LoadedExam } from './model.js';
import type { ExamScore } from './score.js';

export interface ExamCase {
  name: string;
  ok: boolean;
  /** What was scored, e.g. `0/40 points`. */
  detail: string;
  problems: string[];
}

export interface ExamSelfTest {
  exam: string;
  ok: boolean;
  cases: ExamCase[];
}

/** A lab's reference solution, namespaced objects defaulting to the lab's namespace (as kubectl -n does). */
export async function solutionObjects(lab: Lab): Promise<KubeObject[]> {
  return (await readManifestFile(lab.files.solution)).map((o) =>
    o.metadata.namespace === undefined && isNamespaced(o.kind)
      ? { ...o, metadata: { ...o.metadata, namespace: lab.namespace } }
      : o,
  );
}

const pts = (s: ExamScore) => `${s.earned}/${s.totalPoints} points`;

export async function testExam(loaded: LoadedExam): Promise<ExamSelfTest> {
  const { exam } = loaded;
  const base = await createExamCluster(loaded);
  const cache = new PreflightCache();
  const labs = taskLabs(loaded);
  const solutions = new Map<string, KubeObject[]>();
  for (const lab of labs) solutions.set(lab.id, await solutionObjects(lab));
  const at = new Date(0);
  const scoreWith = async (solved: string[]) => {
    const cluster = base.fork();
    for (const id of solved) await cluster.apply(solutions.get(id)!);
    return gradeExam(loaded, cluster, at, { preflightCache: cache });
  };
  const cases: ExamCase[] = [];
  const lostLines = (s: ExamScore) =>
    s.tasks
      .filter((t) => t.earned < t.points)
      .map((t) => `${t.lab}: ${t.earned}/${t.points}: ${t.diagnosis ?? t.lost[0] ?? 'points lost'}`);

  const untouched = await scoreWith([]);
  const earnedUntouched = untouched.tasks.filter((t) => t.earned > 0 || t.status === 'not-graded');
  cases.push({
    name: 'the untouched cluster scores 0',
    ok: untouched.earned === 0 && untouched.notGraded.length === 0,
    detail: pts(untouched),
    problems: earnedUntouched.map((t) =>
      t.status === 'not-graded'
        ? `${t.lab}: not graded: ${t.lost[0] ?? ''}`
        : `${t.lab}: earns ${t.earned} point(s) with nothing done (checks ${t.checks
            .filter((c) => c.earned > 0)
            .map((c) => c.id)
            .join(', ')} pass on the untouched scenario: make them conditions, not points)`,
    ),
  });

  const all = await scoreWith(labs.map((l) => l.id));
  cases.push({
    name: 'every solution together scores 100%',
    ok: all.earned === exam.totalPoints,
    detail: `${pts(all)} (${all.percent}%)`,
    problems: lostLines(all),
  });

  for (const lab of labs) {
    const alone = await scoreWith([lab.id]);
    const problems: string[] = [];
    for (const t of alone.tasks) {
      const want = t.lab === lab.id ? exam.tasks.find((x) => x.lab === lab.id)!.points : 0;
      if (t.earned !== want)
        problems.push(
          t.lab === lab.id
            ? `${t.lab}: its solution alone earns ${t.earned}/${want}: ${t.diagnosis ?? t.lost[0] ?? ''}`
            : `${t.lab}: earns ${t.earned} point(s) from the solution of ${lab.id} (another task's objects must not count)`,
        );
    }
    cases.push({
      name: `the solution of ${lab.id} alone earns exactly its task's points`,
      ok: problems.length === 0,
      detail: pts(alone),
      problems,
    });
  }

  if (labs.length > 1) {
    const half = labs.slice(0, Math.ceil(labs.length / 2)).map((l) => l.id);
    const partial = await scoreWith(half);
    const want = exam.tasks.filter((t) => half.includes(t.lab)).reduce((n, t) => n + t.points, 0);
    cases.push({
      name: `the solutions of ${half.join(', ')} score in between`,
      ok: partial.earned === want && partial.earned > 0 && partial.earned < exam.totalPoints,
      detail: `${pts(partial)} (${partial.percent}%, expected ${want})`,
      problems: partial.earned === want ? [] : lostLines(partial),
    });
  }
  return { exam: exam.id, ok: cases.every((c) => c.ok), cases };
}
