/**
 * Finding, reading and validating exams/<id>/exam.yaml: the schema, then the tasks against the lab
 * catalogue (labs exist, check ids exist), then the scenarios of all tasks against each other,
 * since an exam deploys them together on one cluster. Every problem comes back at once, with
 * file:line and field path.
 */
import { readdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { badInput, notFound, type Problem } from '../errors.js';
import { catalogRoots, loadLab, loadScenario, readScenarioObjects, type RootArg } from '../labs/index.js';
import type { Lab, Scenario } from '../labs/model.js';
import { fileKind, isNamespaced, readYamlFile } from '../labs/files.js';
import { problemIn, zodProblems } from '../labs/problems.js';
import { ID_PATTERN } from '../labs/schema.js';
import { isKubelabError } from '../errors.js';
import type { KubeObject } from '../cluster/types.js';
import type { LoadedDocument } from '../manifests/load.js';
import type { Exam, ExamTask, LoadedExam } from './model.js';
import { examFileSchema } from './schema.js';

export const EXAM_FILE = 'exam.yaml';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ExamRoots {
  exams: string;
  /** Where the tasks' labs and scenarios are (default: the repository's). */
  labs?: RootArg;
}

export function examsRoot(): string {
  return join(REPO_ROOT, 'exams');
}

function rootsOf(roots?: Partial<ExamRoots>): ExamRoots {
  return {
    exams: resolve(roots?.exams ?? examsRoot()),
    ...(roots?.labs !== undefined ? { labs: roots.labs } : {}),
  };
}

export interface ExamInspection {
  file: string;
  loaded?: LoadedExam;
  problems: Problem[];
}

/** Reads and checks one exam folder; never throws for content problems. */
export async function inspectExamDir(dir: string, labsRoot?: RootArg): Promise<ExamInspection> {
  const file = join(resolve(dir), EXAM_FILE);
  const result: ExamInspection = { file, problems: [] };
  if ((await fileKind(file)) !== 'file') {
    result.problems.push({
      file,
      message: `no ${EXAM_FILE} here (an exam is a folder exams/<id>/ with ${EXAM_FILE})`,
    });
    return result;
  }
  const read = await readYamlFile(file);
  result.problems.push(...read.problems);
  if (read.problems.length > 0) return result;
  if (read.docs.length !== 1) {
    result.problems.push({
      file,
      message: `must hold exactly one YAML document (found ${read.docs.length})`,
    });
    return result;
  }
  const doc = read.docs[0]!;
  const parsed = examFileSchema.safeParse(doc.value);
  if (!parsed.success) {
    result.problems.push(...zodProblems(parsed.error.issues, doc));
    return result;
  }
  const data = parsed.data;
  const folder = basename(resolve(dir));
  if (data.id !== folder)
    result.problems.push(problemIn(doc, ['id'], `must be "${folder}", the name of the exam's folder`));

  const labs = new Map<string, Lab>();
  const scenarios = new Map<string, Scenario>();
  const tasks: ExamTask[] = [];
  const seenLabs = new Map<string, number>();
  for (const [i, t] of data.tasks.entries()) {
    const earlier = seenLabs.get(t.lab);
    if (earlier !== undefined) {
      result.problems.push(
        problemIn(
          doc,
          ['tasks', i, 'lab'],
          `lab ${t.lab} is already task ${earlier + 1}: a lab can be one task only`,
        ),
      );
      continue;
    }
    seenLabs.set(t.lab, i);
    let lab: Lab;
    try {
      lab = await loadLab(t.lab, labsRoot);
    } catch (e) {
      if (!isKubelabError(e)) throw e;
      const why =
        e.code === 'NOT_FOUND'
          ? `there is no lab ${t.lab} (kubelab lab list shows the catalogue)`
          : `lab ${t.lab} is invalid: ${e.message} (run kubelab lab validate)`;
      result.problems.push(problemIn(doc, ['tasks', i, 'lab'], why));
      continue;
    }
    labs.set(lab.id, lab);
    const task: ExamTask = {
      lab: lab.id,
      scoring: t.checks ? 'check' : 'task',
      points: t.points ?? 0,
      checks: [],
    };
    if (t.checks) {
      const known = lab.checks.map((c) => c.id);
      for (const checkId of Object.keys(t.checks)) {
        if (!known.includes(checkId)) {
          result.problems.push(
            problemIn(
              doc,
              ['tasks', i, 'checks', checkId],
              `lab ${lab.id} has no check ${checkId} (its checks: ${known.join(', ')})`,
            ),
          );
          continue;
        }
        if (lab.checks.find((c) => c.id === checkId)?.kind === 'unchanged')
          result.problems.push(
            problemIn(
              doc,
              ['tasks', i, 'checks', checkId],
              `${checkId} says what must not change: it is a condition of the task (when it fails the task earns nothing) and cannot carry points`,
            ),
          );
      }
      task.checks = known
        .filter((k) => t.checks![k] !== undefined)
        .map((k) => ({ id: k, points: t.checks![k]! }));
      task.points = task.checks.reduce((n, c) => n + c.points, 0);
    }
    tasks.push(task);
    if (!scenarios.has(lab.scenario)) {
      try {
        scenarios.set(lab.scenario, await loadScenario(lab.scenario, catalogRoots(labsRoot).scenarios));
      } catch (e) {
        if (!isKubelabError(e)) throw e;
        result.problems.push(
          problemIn(doc, ['tasks', i, 'lab'], `the scenario of lab ${lab.id} cannot be loaded: ${e.message}`),
        );
      }
    }
  }
  if (result.problems.length === 0)
    result.problems.push(
      ...(await collisions(
        doc,
        data.tasks.map((t) => t.lab),
        labs,
        scenarios,
      )),
    );
  if (result.problems.length > 0) return result;
  const exam: Exam = {
    id: data.id,
    title: data.title,
    description: data.description,
    style: data.style,
    minutes: data.minutes,
    passPercent: data.passPercent,
    checkPerTask: data.checkPerTask,
    tasks,
    totalPoints: tasks.reduce((n, t) => n + t.points, 0),
    dir: resolve(dir),
    file,
  };
  result.loaded = { exam, labs, scenarios };
  return result;
}

/**
 * One cluster holds every task's scenario, so two tasks must not own the same namespace (each
 * reset would delete the other's, and their policies would meet), nor bring different versions of
 * the same cluster-scoped object or external host. Identical cluster-scoped objects are shared.
 */
async function collisions(
  doc: LoadedDocument,
  order: string[],
  labs: Map<string, Lab>,
  scenarios: Map<string, Scenario>,
): Promise<Problem[]> {
  const problems: Problem[] = [];
  const nsOwner = new Map<string, { task: number; lab: string; scenario: string }>();
  const clusterScoped = new Map<string, { task: number; lab: string; json: string }>();
  const hosts = new Map<string, { task: number; lab: string; json: string }>();
  const scenarioOwner = new Map<string, { task: number; lab: string }>();
  for (const [i, labId] of order.entries()) {
    const lab = labs.get(labId);
    const scenario = lab && scenarios.get(lab.scenario);
    if (!lab || !scenario) continue;
    const where = ['tasks', i, 'lab'];
    const sameScenario = scenarioOwner.get(scenario.name);
    if (sameScenario) {
      problems.push(
        problemIn(
          doc,
          where,
          `labs ${sameScenario.lab} (task ${sameScenario.task + 1}) and ${lab.id} run on the same scenario ${scenario.name}: their policies would meet in the same namespaces, so one exam cannot hold both`,
        ),
      );
      continue;
    }
    scenarioOwner.set(scenario.name, { task: i, lab: lab.id });
    for (const ns of scenario.namespaces) {
      const owner = nsOwner.get(ns);
      if (owner)
        problems.push(
          problemIn(
            doc,
            where,
            `namespace ${ns} belongs to the scenarios of both task ${owner.task + 1} (lab ${owner.lab}, scenario ${owner.scenario}) and this task (lab ${lab.id}, scenario ${scenario.name}): one cluster cannot hold both. Rename the namespace in one scenario (and its lab), or take one of the labs out`,
          ),
        );
      else nsOwner.set(ns, { task: i, lab: lab.id, scenario: scenario.name });
    }
    let objects: KubeObject[];
    try {
      objects = await readScenarioObjects(scenario);
    } catch (e) {
      if (!isKubelabError(e)) throw e;
      problems.push(problemIn(doc, where, `the scenario ${scenario.name} cannot be read: ${e.message}`));
      continue;
    }
    for (const o of objects) {
      if (o.kind === 'Namespace' || isNamespaced(o.kind)) continue;
      const key = `${o.kind}/${o.metadata.name}`;
      const json = stableJson(o);
      const other = clusterScoped.get(key);
      if (!other) clusterScoped.set(key, { task: i, lab: lab.id, json });
      else if (other.json !== json)
        problems.push(
          problemIn(
            doc,
            where,
            `${o.kind} ${o.metadata.name} (cluster-wide) is defined differently by the scenarios of task ${other.task + 1} (lab ${other.lab}) and this task (lab ${lab.id}): make the two identical (then they are shared) or rename one`,
          ),
        );
    }
    for (const h of scenario.externalHosts) {
      const json = stableJson(h);
      const other = hosts.get(h.ip);
      if (!other) hosts.set(h.ip, { task: i, lab: lab.id, json });
      else if (other.json !== json)
        problems.push(
          problemIn(
            doc,
            where,
            `external host ${h.ip} is described differently by the scenarios of task ${other.task + 1} (lab ${other.lab}) and this task (lab ${lab.id}): one simulated cluster has one host per address`,
          ),
        );
    }
  }
  return problems;
}

function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(
          Object.entries(x as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : x,
  );
}

/** Loads one exam of the catalogue, fully validated; BAD_INPUT with every problem otherwise. */
export async function loadExam(id: string, roots?: Partial<ExamRoots>): Promise<LoadedExam> {
  const r = rootsOf(roots);
  if (!ID_PATTERN.test(id))
    throw badInput(
      `${JSON.stringify(id)} is not a valid exam id`,
      [],
      'Exam ids use lowercase letters, digits and dashes (kubelab exam list).',
    );
  const dir = join(r.exams, id);
  if ((await fileKind(join(dir, EXAM_FILE))) !== 'file')
    throw notFound(`there is no exam called "${id}"`, 'kubelab exam list shows the exams.');
  const inspection = await inspectExamDir(dir, r.labs);
  if (!inspection.loaded)
    throw badInput(
      `exam ${id} is invalid`,
      inspection.problems,
      'Fix the lines shown, then run kubelab exam validate.',
    );
  return inspection.loaded;
}

/** Every exam folder (sorted), with the problems of the invalid ones. */
export async function validateExams(
  roots?: Partial<ExamRoots>,
): Promise<{ exams: LoadedExam[]; problems: Problem[] }> {
  const r = rootsOf(roots);
  let names: string[];
  try {
    names = (await readdir(r.exams, { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch {
    return { exams: [], problems: [] };
  }
  const exams: LoadedExam[] = [];
  const problems: Problem[] = [];
  for (const name of names) {
    if ((await fileKind(join(r.exams, name, EXAM_FILE))) !== 'file') continue;
    const inspection = await inspectExamDir(join(r.exams, name), r.labs);
    problems.push(...inspection.problems);
    if (inspection.loaded) exams.push(inspection.loaded);
  }
  return { exams, problems };
}

/** The exam folder a path names: the folder itself, or the exam.yaml in it. */
export function examDirOf(path: string): string {
  const abs = resolve(path);
  return basename(abs) === EXAM_FILE ? dirname(abs) : abs;
}
