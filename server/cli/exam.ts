/**
 * `kubelab exam`: list, validate and test exams (authors), and take one on a real cluster
 * (start, status, submit). Everything heavy is imported when a command runs.
 */
import type { Command } from 'commander';
import type { CliIO } from './io.js';
import type { ProvisionDeps } from '../cluster/provision.js';
import { KubelabError, formatProblem, badInput } from '../errors.js';

interface TargetFlags {
  context?: string;
  kubeconfig?: string;
  name?: string;
  db?: string;
}

const DB_FLAG = '--db <path>';

export function registerExam(program: Command, io: CliIO, overrides: Partial<ProvisionDeps> = {}): void {
  const exam = program.command('exam').description('Timed exams of several labs on one cluster');

  exam
    .command('list')
    .description('The exams')
    .action(async () => {
      const { validateExams } = await import('../exams/load.js');
      const { exams, problems } = await validateExams();
      for (const { exam: e } of exams)
        io.stdout(
          `${e.id.padEnd(16)} ${e.style.padEnd(4)} ${String(e.minutes).padStart(3)} min  ${e.tasks.length} tasks  ${e.totalPoints} points  pass ${e.passPercent}%  ${e.title}\n`,
        );
      for (const p of problems) io.stderr(`${formatProblem(p)}\n`);
      if (problems.length > 0) io.exitCode = 2;
    });

  exam
    .command('validate')
    .description('Check exam files: every problem as file:line: field: message')
    .argument('[path]', 'an exam folder or its exam.yaml (default: every exam)')
    .action(async (path?: string) => {
      const { validateExams, inspectExamDir, examDirOf } = await import('../exams/load.js');
      const { exams, problems } = path
        ? await inspectExamDir(examDirOf(path)).then((r) => ({
            exams: r.loaded ? [r.loaded] : [],
            problems: r.problems,
          }))
        : await validateExams();
      for (const p of problems) io.stderr(`${formatProblem(p)}\n`);
      if (problems.length > 0) {
        io.stderr(`${problems.length} problem${problems.length === 1 ? '' : 's'}.\n`);
        io.exitCode = 2;
        return;
      }
      io.stdout(
        `${exams.length} exam${exams.length === 1 ? '' : 's'} valid: ${exams.map((e) => e.exam.id).join(', ')}\n`,
      );
    });

  exam
    .command('test')
    .description(
      'Prove exams on the simulated cluster: solutions 100%, untouched 0%, each solution alone its own points',
    )
    .argument('[id]', 'exam id (default: every exam)')
    .action(async (id?: string) => {
      const [{ loadExam, validateExams }, { testExam }] = await Promise.all([
        import('../exams/load.js'),
        import('../exams/selftest.js'),
      ]);
      let loaded;
      if (id) loaded = [await loadExam(id)];
      else {
        const all = await validateExams();
        if (all.problems.length > 0)
          throw badInput('some exams are invalid', all.problems, 'Run kubelab exam validate.');
        loaded = all.exams;
      }
      let failed = 0;
      for (const l of loaded) {
        const result = await testExam(l);
        io.stdout(`${result.ok ? 'ok  ' : 'FAIL'} exam ${result.exam}\n`);
        for (const c of result.cases) {
          io.stdout(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}\n`);
          for (const p of c.problems) io.stdout(`       ${p}\n`);
        }
        if (!result.ok) failed++;
      }
      if (failed > 0) io.exitCode = 1;
    });

  const target = (cmd: Command) =>
    cmd
      .option(
        '--context <name>',
        'kubeconfig context of a cluster you brought (default: the kubelab kind cluster)',
      )
      .option('--kubeconfig <file>', 'kubeconfig file of a cluster you brought')
      .option('--name <name>', 'kind cluster name (default: kubelab)')
      .option(DB_FLAG, 'progress database (default ./.kubelab/kubelab.db)');

  target(
    exam
      .command('start')
      .description('Deploy every task of an exam on the real cluster and start the clock')
      .argument('<id>', 'exam id'),
  ).action(async (id: string, flags: TargetFlags) => {
    const { loaded, store, cluster, learnerId } = await open(io, id, flags, overrides);
    try {
      const { deployExam } = await import('../exams/grade.js');
      const { progressPrinter } = await import('./cluster.js');
      await deployExam(loaded, cluster, { reset: true, onProgress: progressPrinter((s) => io.stderr(s)) });
      const attempt = store.exams.start({
        learnerId,
        examId: id,
        mode: 'kube',
        labs: loaded.exam.tasks.map((t) => t.lab),
        at: new Date(overrides.clock?.now() ?? Date.now()),
        minutes: loaded.exam.minutes,
      });
      io.stdout(
        `Exam ${id} started on ${cluster.description}: ${loaded.exam.minutes} minutes, until ${attempt.deadlineAt}.\n`,
      );
      loaded.exam.tasks.forEach((t, i) => {
        const lab = loaded.labs.get(t.lab)!;
        io.stdout(
          `  ${i + 1}. ${lab.title} (${t.points} points): namespace ${lab.namespace}, task text in ${lab.files.task}\n`,
        );
      });
      io.stdout(`When you are done: kubelab exam submit ${id}\n`);
    } finally {
      store.close();
    }
  });

  exam
    .command('status')
    .description('Time left and the tasks of your running attempt (or the last score)')
    .argument('<id>', 'exam id')
    .option(DB_FLAG, 'progress database (default ./.kubelab/kubelab.db)')
    .action(async (id: string, flags: TargetFlags) => {
      const { store, learnerId } = await openStore(io, flags);
      try {
        const attempt = store.exams.attempts(learnerId, id)[0];
        if (!attempt)
          throw new KubelabError('NOT_FOUND', `you have no attempt of exam ${id}`, {
            hint: `Start one: kubelab exam start ${id}`,
          });
        const now = overrides.clock?.now() ?? Date.now();
        if (attempt.score) {
          const s = attempt.score as {
            earned: number;
            totalPoints: number;
            percent: number;
            passed: boolean;
          };
          io.stdout(
            `Exam ${id}: finished (${attempt.finishedHow}), ${s.earned}/${s.totalPoints} points (${s.percent}%), ${s.passed ? 'passed' : 'not passed'}.\n`,
          );
          return;
        }
        const left = Date.parse(attempt.deadlineAt) - now;
        io.stdout(
          left > 0
            ? `Exam ${id}: ${Math.ceil(left / 60_000)} min left (until ${attempt.deadlineAt}).\n`
            : `Exam ${id}: the time ran out at ${attempt.deadlineAt}; submit to record the score.\n`,
        );
        for (const t of store.exams.tasks(attempt.id))
          io.stdout(`  - ${t.labId}${t.flagged ? ' (flagged)' : ''}\n`);
      } finally {
        store.close();
      }
    });

  target(
    exam
      .command('submit')
      .description('Grade every task on the real cluster and record the score')
      .argument('<id>', 'exam id'),
  )
    .option('--json', 'the score as JSON')
    .action(async (id: string, flags: TargetFlags & { json?: boolean }) => {
      const { loaded, store, cluster, learnerId } = await open(io, id, flags, overrides);
      try {
        const attempt = store.exams.attempts(learnerId, id).find((a) => !a.finishedAt);
        if (!attempt)
          throw new KubelabError('NOT_FOUND', `you have no running attempt of exam ${id}`, {
            hint: `Start one: kubelab exam start ${id}`,
          });
        const [{ gradeExam }, { REAL_CLUSTER_CONCURRENCY, REAL_CLUSTER_SETTLE_MS }] = await Promise.all([
          import('../exams/grade.js'),
          import('../grader/index.js'),
        ]);
        const now = new Date(overrides.clock?.now() ?? Date.now());
        const late = now.getTime() > Date.parse(attempt.deadlineAt);
        const score = await gradeExam(loaded, cluster, now, {
          settleMs: REAL_CLUSTER_SETTLE_MS,
          concurrency: REAL_CLUSTER_CONCURRENCY,
        });
        // On a real cluster nothing stops kubectl after the deadline: a late submit is recorded, but never passes.
        if (late) score.passed = false;
        store.exams.finish(attempt, now, late ? 'time-up' : 'submitted', score);
        if (flags.json) io.stdout(`${JSON.stringify(score, null, 2)}\n`);
        else {
          io.stdout(
            `Exam ${id}: ${score.earned}/${score.totalPoints} points (${score.percent}%), pass mark ${score.passPercent}%: ${score.passed ? 'PASSED' : 'not passed'}${late ? ' (submitted after the deadline)' : ''}\n`,
          );
          for (const t of score.tasks) {
            io.stdout(
              `  ${t.lab}: ${t.earned}/${t.points}${t.status === 'not-graded' ? ' (not graded: environment problem)' : ''}\n`,
            );
            for (const l of t.lost) io.stdout(`      - ${l}\n`);
          }
        }
        io.exitCode = score.passed ? 0 : 1;
      } finally {
        store.close();
      }
    });
}

async function openStore(io: CliIO, flags: TargetFlags) {
  const { ProgressStore, DEFAULT_DB_PATH, newLearnerId } = await import('../store/index.js');
  const { resolve } = await import('node:path');
  const store = ProgressStore.open(flags.db ?? resolve(io.cwd, DEFAULT_DB_PATH));
  return { store, learnerId: store.cliLearnerId(newLearnerId) };
}

async function open(io: CliIO, id: string, flags: TargetFlags, overrides: Partial<ProvisionDeps>) {
  const [{ loadExam }, { openCluster }, { provisionDeps }] = await Promise.all([
    import('../exams/load.js'),
    import('../cluster/provision.js'),
    import('./cluster.js'),
  ]);
  const loaded = await loadExam(id);
  const t = {
    ...(flags.context ? { context: flags.context } : {}),
    ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}),
    ...(flags.name ? { name: flags.name } : {}),
  };
  const cluster = await openCluster(t, provisionDeps(io, overrides));
  const brought = t.context !== undefined || t.kubeconfig !== undefined || Boolean(io.env.KUBELAB_CONTEXT);
  // Before any grade: a cluster that does not enforce NetworkPolicy would pass wrong answers.
  if (brought) {
    const [{ assertEnforcing }, { progressPrinter }] = await Promise.all([
      import('../cluster/canary.js'),
      import('./cluster.js'),
    ]);
    await assertEnforcing(cluster, {
      onProgress: progressPrinter((s) => io.stderr(s)),
      ...(overrides.clock ? { clock: overrides.clock } : {}),
    });
  }
  const { store, learnerId } = await openStore(io, flags);
  return { loaded, store, cluster, learnerId };
}
