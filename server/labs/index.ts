/**
 * The lab catalogue: find, load and validate labs/<id>/ and scenarios/<name>/. Everything returned
 * has been validated in full (schema, files, scenario, checks against the scenario); anything wrong
 * is a BAD_INPUT KubelabError listing every problem with file:line and field path.
 */
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubeObject } from '../cluster/types.js';
import { badInput, notFound, type Problem } from '../errors.js';
import type { Lab, Scenario } from './model.js';
import { fileKind, readObjects } from './files.js';
import { inspectLab, LAB_FILE, type CatalogRoots } from './lab.js';
import { inspectScenario, SCENARIO_FILE } from './scenario.js';
import { defaultValidatedDir, labDigest, recordValidated, wasValidated } from './validated.js';
import { ID_PATTERN } from './schema.js';

export type { CatalogRoots } from './lab.js';
export { LAB_FILE } from './lab.js';
export { SCENARIO_FILE } from './scenario.js';
export { COURSE_FILE, orderLabs, readCoursePath } from './course.js';
export type * from './model.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The repository's labs/ folder. */
export function labsRoot(): string {
  return join(REPO_ROOT, 'labs');
}

/** The repository's scenarios/ folder. */
export function scenariosRoot(): string {
  return join(REPO_ROOT, 'scenarios');
}

/**
 * Roots from an argument: nothing = the repository's; a string = that labs folder, with the
 * scenarios in the `scenarios` folder next to it (the repository's layout).
 */
export function catalogRoots(root?: string | Partial<CatalogRoots>): CatalogRoots {
  if (root === undefined) return { labs: labsRoot(), scenarios: scenariosRoot() };
  if (typeof root === 'string') {
    const labs = resolve(root);
    return { labs, scenarios: join(dirname(labs), 'scenarios') };
  }
  const labs = resolve(root.labs ?? labsRoot());
  return { labs, scenarios: resolve(root.scenarios ?? join(dirname(labs), 'scenarios')) };
}

export type RootArg = string | Partial<CatalogRoots>;

function assertId(id: string, what: 'lab' | 'scenario'): void {
  if (!ID_PATTERN.test(id)) {
    throw badInput(
      `${JSON.stringify(id)} is not a valid ${what} ${what === 'lab' ? 'id' : 'name'}`,
      [],
      `${what === 'lab' ? 'Lab ids' : 'Scenario names'} use lowercase letters, digits and dashes only${what === 'lab' ? ' (see kubelab lab list)' : ''}.`,
    );
  }
}

/** Every lab, sorted by id. Any invalid lab makes this throw with all problems of all labs. */
export async function listLabs(root?: RootArg): Promise<Lab[]> {
  const { labs, problems } = await validateAll(root);
  if (problems.length > 0) {
    throw badInput(`the lab catalogue has ${count(problems, 'problem')}`, problems, 'Run kubelab lab validate for details.');
  }
  return labs;
}

export async function loadLab(id: string, root?: RootArg): Promise<Lab> {
  assertId(id, 'lab');
  const roots = catalogRoots(root);
  const inspection = await inspectLab(id, roots);
  if (!inspection.found) {
    throw notFound(`no lab named "${id}" (looked for ${inspection.file})`, 'Run kubelab lab list to see the labs there are.');
  }
  if (!inspection.lab) {
    const problems = unique(inspection.problems);
    throw badInput(`lab ${id} is not valid: ${count(problems, 'problem')}`, problems, hintFor('lab'));
  }
  return inspection.lab;
}

/**
 * One lab and its scenario, for grading: the same problems as loadLab, but the lab's known attempts
 * are read only when the lab folder is not byte for byte one that was already found valid (they do
 * not take part in a grade, and a lab has dozens of them). The scenario comes from the same
 * inspection, so it is not read again.
 */
export async function loadLabForCheck(
  id: string,
  root?: RootArg,
  store: string = defaultValidatedDir(),
): Promise<{ lab: Lab; scenario: Scenario }> {
  assertId(id, 'lab');
  const roots = catalogRoots(root);
  const before = await labDigest(id, roots);
  const known = before !== undefined && (await wasValidated(store, id, before));
  const inspection = await inspectLab(id, roots, { attemptsKnownValid: known });
  if (!inspection.found) {
    throw notFound(`no lab named "${id}" (looked for ${inspection.file})`, 'Run kubelab lab list to see the labs there are.');
  }
  if (!inspection.lab || !inspection.scenario?.scenario) {
    const problems = unique(inspection.problems);
    throw badInput(`lab ${id} is not valid: ${count(problems, 'problem')}`, problems, hintFor('lab'));
  }
  // Recorded only if nothing changed while it was read, so the record describes what was checked.
  if (!known && before !== undefined && (await labDigest(id, roots)) === before) await recordValidated(store, id, before);
  return { lab: inspection.lab, scenario: inspection.scenario.scenario };
}

export async function loadScenario(name: string, root?: string): Promise<Scenario> {
  assertId(name, 'scenario');
  const inspection = await inspectScenario(name, resolve(root ?? scenariosRoot()));
  if (!inspection.found) throw notFound(`no scenario named "${name}" (looked for ${inspection.file})`);
  if (!inspection.scenario || inspection.problems.length > 0) {
    const problems = unique(inspection.problems);
    throw badInput(`scenario ${name} is not valid: ${count(problems, 'problem')}`, problems, hintFor('scenario'));
  }
  return inspection.scenario;
}

/** The scenario's objects in apply order (files in manifest order, documents in file order). */
export async function readScenarioObjects(scenario: Scenario): Promise<KubeObject[]> {
  // Read once per loaded Scenario (a reloaded scenario is a new object); each caller gets its own
  // copy, since applying objects may fill them in.
  let read = scenarioReads.get(scenario);
  if (!read) {
    read = (async () => {
      const objects: KubeObject[] = [];
      for (const file of scenario.manifests) objects.push(...(await readObjects(file)));
      return objects;
    })();
    scenarioReads.set(scenario, read);
    read.catch(() => scenarioReads.delete(scenario));
  }
  return structuredClone(await read);
}

const scenarioReads = new WeakMap<Scenario, Promise<KubeObject[]>>();

export type LabPage = 'task' | 'concept' | 'completion';

export async function readLabPage(lab: Lab, page: LabPage): Promise<string> {
  return readFile(lab.files[page], 'utf8');
}

/**
 * Kubernetes objects from a file, a folder of manifests, or `-` (read through `stdin`). Problems
 * come back as one BAD_INPUT with every file:line.
 */
export async function readManifestFile(path: string, stdin?: () => Promise<string>): Promise<KubeObject[]> {
  if (path !== '-') {
    const kind = await fileKind(path);
    if (kind === 'missing') throw badInput(`cannot read ${path}: no such file or folder`);
    if (kind === 'other') throw badInput(`${path} is neither a file nor a folder`);
  }
  return readObjects(path, stdin);
}

export interface ValidationResult {
  /** The labs that are valid, sorted by id. */
  labs: Lab[];
  problems: Problem[];
  /** How many labs and scenarios were looked at. */
  checked: { labs: number; scenarios: number };
}

/**
 * Validates every lab under the root and every scenario under the scenarios root (also those no
 * lab uses yet). Never throws for content problems: they are returned, each once.
 */
export async function validateAll(root?: RootArg): Promise<ValidationResult> {
  const roots = catalogRoots(root);
  const problems: Problem[] = [];
  const labs: Lab[] = [];
  const ids = await subfolders(roots.labs, problems);
  const scenarioNames = new Set<string>();
  let labCount = 0;
  for (const id of ids) {
    if ((await fileKind(join(roots.labs, id, LAB_FILE))) !== 'file') continue;
    labCount++;
    if (!ID_PATTERN.test(id)) {
      problems.push({ file: join(roots.labs, id), message: 'lab folder names use lowercase letters, digits and dashes only' });
      continue;
    }
    const inspection = await inspectLab(id, roots);
    problems.push(...inspection.problems);
    if (inspection.scenario?.scenario) scenarioNames.add(inspection.scenario.scenario.name);
    if (inspection.lab) labs.push(inspection.lab);
  }
  let scenarioCount = scenarioNames.size;
  if ((await fileKind(roots.scenarios)) === 'directory') {
    for (const name of await subfolders(roots.scenarios, problems)) {
      if (scenarioNames.has(name) || (await fileKind(join(roots.scenarios, name, SCENARIO_FILE))) !== 'file') continue;
      scenarioCount++;
      if (!ID_PATTERN.test(name)) {
        problems.push({ file: join(roots.scenarios, name), message: 'scenario folder names use lowercase letters, digits and dashes only' });
        continue;
      }
      problems.push(...(await inspectScenario(name, roots.scenarios)).problems);
    }
  }
  labs.sort((a, b) => a.id.localeCompare(b.id));
  return { labs, problems: unique(problems), checked: { labs: labCount, scenarios: scenarioCount } };
}

/** Validates one lab folder (its parent is the labs root). */
export async function validateLabDir(dir: string, scenarios?: string): Promise<ValidationResult> {
  const abs = resolve(dir);
  const roots = catalogRoots({ labs: dirname(abs), ...(scenarios ? { scenarios } : {}) });
  const id = basename(abs);
  if (!ID_PATTERN.test(id)) {
    return {
      labs: [],
      problems: [{ file: abs, message: 'lab folder names use lowercase letters, digits and dashes only' }],
      checked: { labs: 1, scenarios: 0 },
    };
  }
  const inspection = await inspectLab(id, roots);
  if (!inspection.found) throw notFound(`${abs} has no ${LAB_FILE}`);
  return {
    labs: inspection.lab ? [inspection.lab] : [],
    problems: unique(inspection.problems),
    checked: { labs: 1, scenarios: inspection.scenario?.found ? 1 : 0 },
  };
}

async function subfolders(dir: string, problems: Problem[]): Promise<string[]> {
  try {
    const entries = readdirSync(dir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    problems.push({ file: dir, message: `cannot read this folder: ${code === 'ENOENT' ? 'it does not exist' : (code ?? String(e))}` });
    return [];
  }
}

/** Each problem once, grouped by file and in line order (the order an author fixes them in). */
function unique(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems
    .filter((p) => {
      const key = JSON.stringify([p.file, p.line, p.column, p.path, p.message]);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => (a.file ?? '').localeCompare(b.file ?? '') || (a.line ?? 0) - (b.line ?? 0));
}

function count(items: unknown[], word: string): string {
  return `${items.length} ${word}${items.length === 1 ? '' : 's'}`;
}

function hintFor(what: 'lab' | 'scenario'): string {
  return `Fix the ${what} files at the lines shown, then run kubelab lab validate.`;
}
