/**
 * Deploying an exam (every task's scenario on one cluster) and grading it task by task, each task
 * through its own view of the cluster (view.ts), with the same grader a lab uses.
 */
import type { Cluster, KubeObject, ProgressFn } from '../cluster/types.js';
import { SimulatedCluster } from '../cluster/sim/index.js';
import { deployScenario } from '../cluster/deploy.js';
import { gradeLab, PreflightCache, type GradeReport } from '../grader/index.js';
import { guardScenarioObjects, scenarioObjects } from '../grader/scenario-objects.js';
import type { Lab } from '../labs/model.js';
import type { LoadedExam } from './model.js';
import { scoreExam, type ExamScore } from './score.js';
import { TaskView } from './view.js';

/** The tasks' labs in the exam's order. */
export function taskLabs(loaded: LoadedExam): Lab[] {
  return loaded.exam.tasks.map((t) => loaded.labs.get(t.lab)!);
}

/** Every scenario object of the exam, scenario by scenario in task order. */
export async function examObjects(loaded: LoadedExam): Promise<KubeObject[]> {
  const out: KubeObject[] = [];
  const seen = new Set<string>();
  for (const lab of taskLabs(loaded)) {
    for (const o of await scenarioObjects(loaded.scenarios.get(lab.scenario)!)) {
      // Identical cluster-wide objects are shared between scenarios (load.ts refuses different ones).
      const key = `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(o);
    }
  }
  return out;
}

/** A simulated cluster with every scenario of the exam deployed. */
export async function createExamCluster(loaded: LoadedExam): Promise<SimulatedCluster> {
  const externalHosts = [...loaded.scenarios.values()].flatMap((s) => s.externalHosts);
  const unique = [...new Map(externalHosts.map((h) => [h.ip, h])).values()];
  const cluster = new SimulatedCluster({ externalHosts: unique });
  await cluster.apply(await examObjects(loaded));
  return cluster;
}

/** Deploys every scenario of the exam on a real cluster (`reset`: their namespaces wiped first). */
export async function deployExam(
  loaded: LoadedExam,
  cluster: Cluster,
  opts: { reset?: boolean; onProgress?: ProgressFn } = {},
): Promise<void> {
  for (const lab of taskLabs(loaded)) {
    const scenario = loaded.scenarios.get(lab.scenario)!;
    await deployScenario(
      cluster,
      { name: scenario.name, namespaces: scenario.namespaces, objects: await scenarioObjects(scenario) },
      { reset: opts.reset ?? false, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) },
    );
  }
}

/** Refuses objects that would replace an object of any of the exam's scenarios. */
export async function guardExamObjects(loaded: LoadedExam, task: Lab, objects: KubeObject[]): Promise<void> {
  for (const lab of taskLabs(loaded))
    guardScenarioObjects(
      objects,
      await scenarioObjects(loaded.scenarios.get(lab.scenario)!),
      lab.id === task.id ? task : lab,
    );
}

export interface ExamGradeOptions {
  /** Grade these tasks only (default: every task). */
  only?: string[];
  settleMs?: number;
  concurrency?: number;
  preflightCache?: PreflightCache;
  onProgress?: ProgressFn;
}

/** Grades the tasks, each as if its scenario were alone on the cluster. */
export async function gradeTasks(
  loaded: LoadedExam,
  cluster: Cluster,
  opts: ExamGradeOptions = {},
): Promise<Map<string, GradeReport>> {
  const reports = new Map<string, GradeReport>();
  for (const lab of taskLabs(loaded)) {
    if (opts.only && !opts.only.includes(lab.id)) continue;
    const scenario = loaded.scenarios.get(lab.scenario)!;
    opts.onProgress?.({ step: 'grading', detail: lab.id, elapsedMs: 0 });
    reports.set(
      lab.id,
      await gradeLab({
        lab,
        scenario,
        cluster: new TaskView(cluster, scenario.namespaces),
        scenarioObjects: await scenarioObjects(scenario),
        ...(opts.settleMs !== undefined ? { settleMs: opts.settleMs } : {}),
        ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
        ...(opts.preflightCache ? { preflightCache: opts.preflightCache } : {}),
      }),
    );
  }
  return reports;
}

export function titlesOf(loaded: LoadedExam): Map<string, string> {
  return new Map(taskLabs(loaded).map((l) => [l.id, l.title]));
}

/** Grades every task and scores the exam. */
export async function gradeExam(
  loaded: LoadedExam,
  cluster: Cluster,
  at: Date,
  opts: ExamGradeOptions = {},
): Promise<ExamScore> {
  const { only: _ignored, ...every } = opts;
  const reports = await gradeTasks(loaded, cluster, every);
  return scoreExam(loaded.exam, titlesOf(loaded), reports, at);
}
