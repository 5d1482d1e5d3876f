/**
 * Loading and validating labs/<id>/: lab.yaml against its schema, then everything it points at
 * (pages, solution, known attempts, the scenario) and every check against what the scenario runs.
 * All problems are collected, so an author fixes a lab in one pass.
 */
import { readdirSync } from 'node:fs';
import { OTHERS_UNCHANGED_ID } from './model.js';
import { basename, dirname, join, relative } from 'node:path';
import type { Problem } from '../errors.js';
import { formatPath, isRecord, problemAt, type FieldPath, type LoadedDocument } from '../manifests/load.js';
import { matchesSelector, formatSelector, validateNetworkPolicy } from '../netpol/index.js';
import { cidrRange } from '../netpol/ip-classes.js';
import type { LabelSelector } from '../netpol/types.js';
import type { ChangeableObject, Check, EndpointSet, Lab, PodSet, ProbeTarget, StateAssertion, TrafficRegion } from './model.js';
import { fileKind, insideFolder, isNamespaced, kubeObjectsOf, readYamlFile, type CheckedObject } from './files.js';
import { problemIn as at, zodProblems } from './problems.js';
import { inspectScenario, singleDocument, type ScenarioInspection } from './scenario.js';
import {
  checkSchema,
  CLUSTER_SCOPED_CHANGEABLE,
  knownRightSchema,
  knownWrongSchema,
  labFileSchema,
  pagesSchema,
  type LabFile,
  type ParsedCheck,
} from './schema.js';

export const LAB_FILE = 'lab.yaml';

/** Where labs and the scenarios they use live. */
export interface CatalogRoots {
  labs: string;
  scenarios: string;
}

export interface LabInspection {
  /** False when labs/<id>/lab.yaml does not exist. */
  found: boolean;
  file: string;
  lab?: Lab;
  problems: Problem[];
  /** The scenario as inspected for this lab (reused by validateAll). */
  scenario?: ScenarioInspection;
}

/** Namespaces a lab may point at without the scenario creating them. */
const SYSTEM_NAMESPACES = new Set(['kube-system']);

export interface InspectOptions {
  /**
   * Leaves out reading the known attempts (knownWrong, knownRight, unlisted files): only for a lab
   * whose folder is byte for byte one that was inspected in full without a problem (see
   * validated.ts), so leaving them out cannot hide one.
   */
  attemptsKnownValid?: boolean;
}

export async function inspectLab(id: string, roots: CatalogRoots, opts: InspectOptions = {}): Promise<LabInspection> {
  const dir = join(roots.labs, id);
  const file = join(dir, LAB_FILE);
  const result: LabInspection = { found: false, file, problems: [] };
  if ((await fileKind(file)) !== 'file') return result;
  result.found = true;

  const read = await readYamlFile(file);
  result.problems.push(...read.problems);
  if (read.problems.length > 0) return result;
  const doc = singleDocument(read.docs, file, result.problems);
  if (!doc || !isRecord(doc.value)) return result;
  const raw = doc.value;

  const parsed = labFileSchema.safeParse(raw);
  if (!parsed.success) result.problems.push(...zodProblems(parsed.error.issues, doc));

  // Cross-file checks run on every part that parsed on its own, so a typo in one field does not
  // hide a missing page elsewhere.
  const ctx: CrossContext = { dir, doc, problems: result.problems, namespace: part(labFileSchema.shape.namespace, raw.namespace) };
  const idField = part(labFileSchema.shape.id, raw.id);
  if (idField !== undefined && idField !== basename(dir)) {
    result.problems.push(at(doc, ['id'], `must be "${basename(dir)}", the name of the lab's folder`));
  }

  const pages = part(pagesSchema, raw.pages);
  const pageFiles: Partial<Record<'task' | 'concept' | 'completion', string>> = {};
  if (pages) {
    for (const page of ['task', 'concept', 'completion'] as const) {
      const path = await existingFile(ctx, ['pages', page], pages[page]);
      if (path) pageFiles[page] = path;
    }
  }

  const rawChecks = Array.isArray(raw.checks) ? raw.checks : [];
  const checkIds = new Set<string>();
  rawChecks.forEach((c, i) => {
    if (!isRecord(c) || typeof c.id !== 'string') return;
    if (checkIds.has(c.id)) result.problems.push(at(doc, ['checks', i, 'id'], `check id "${c.id}" is used twice; ids must be unique`));
    checkIds.add(c.id);
  });
  const policyChecks: Array<{ namespace: string; name: string; index: number }> = [];
  rawChecks.forEach((c, index) => {
    const check = part(checkSchema, c);
    if (check?.kind === 'policy' && ctx.namespace) policyChecks.push({ namespace: check.namespace ?? ctx.namespace, name: check.name, index });
  });

  const solutionRel = part(labFileSchema.shape.solution, raw.solution);
  let solutionFile: string | undefined;
  if (solutionRel !== undefined) {
    solutionFile = await existingFile(ctx, ['solution'], solutionRel);
    if (solutionFile) {
      const objects = await checkAttemptFile(ctx, ['solution'], solutionFile);
      for (const pc of policyChecks) {
        const found = objects?.some(
          (o) => o.object.kind === 'NetworkPolicy' && o.object.metadata.name === pc.name && o.object.metadata.namespace === pc.namespace,
        );
        if (objects && !found) {
          result.problems.push(
            at(doc, ['checks', pc.index, 'name'], `the solution (${solutionRel}) has no NetworkPolicy ${pc.name} in namespace ${pc.namespace}`),
          );
        }
      }
    }
  }

  const attemptFiles = new Map<string, FieldPath>();
  if (solutionFile) attemptFiles.set(solutionFile, ['solution']);
  for (const [field, schema] of [
    ['knownWrong', knownWrongSchema],
    ['knownRight', knownRightSchema],
  ] as const) {
    const list = Array.isArray(raw[field]) ? (raw[field] as unknown[]) : [];
    for (const [i, item] of list.entries()) {
      const attempt = part<{ file: string; failsCheck?: string }>(schema, item);
      if (!attempt) {
        // The entry has its own error already; its file is still listed, so do not also call it unlisted.
        if (isRecord(item) && typeof item.file === 'string') {
          const { path, escapes } = await insideFolder(ctx.dir, item.file);
          if (!escapes) attemptFiles.set(path, [field, i, 'file']);
        }
        continue;
      }
      const path = await existingFile(ctx, [field, i, 'file'], attempt.file);
      if (path) {
        const earlier = attemptFiles.get(path);
        if (earlier) {
          result.problems.push(at(doc, [field, i, 'file'], `${attempt.file} is already used by ${formatPath(earlier)}`));
        } else {
          attemptFiles.set(path, [field, i, 'file']);
          if (!opts.attemptsKnownValid) await checkAttemptFile(ctx, [field, i, 'file'], path);
        }
      }
      // scenario-intact is every lab's own check (the learner changed what the scenario ships), and
      // others-unchanged every lab's with access checks (someone the checks do not name gained access).
      const implicit =
        attempt.failsCheck === 'scenario-intact' ||
        (attempt.failsCheck === OTHERS_UNCHANGED_ID &&
          Array.isArray(raw.checks) &&
          raw.checks.some((c: unknown) => typeof c === 'object' && c !== null && (c as { kind?: unknown }).kind === 'access'));
      if (attempt.failsCheck !== undefined && !implicit && Array.isArray(raw.checks) && !checkIds.has(attempt.failsCheck)) {
        const known = [...checkIds].join(', ') || 'none';
        result.problems.push(at(doc, [field, i, 'failsCheck'], `no check has id "${attempt.failsCheck}" (check ids: ${known})`));
      }
    }
  }
  if (!opts.attemptsKnownValid) await unlistedAttempts(ctx, attemptFiles);

  const scenarioName = part(labFileSchema.shape.scenario, raw.scenario);
  if (scenarioName !== undefined) {
    const scenario = await inspectScenario(scenarioName, roots.scenarios);
    result.scenario = scenario;
    if (!scenario.found) {
      result.problems.push(at(doc, ['scenario'], `no scenario named "${scenarioName}" (looked for ${scenario.file})`));
    } else {
      result.problems.push(...scenario.problems);
      if (scenario.scenario) {
        if (ctx.namespace && !scenario.scenario.namespaces.includes(ctx.namespace)) {
          result.problems.push(
            at(doc, ['namespace'], `scenario ${scenarioName} does not create namespace ${ctx.namespace} (it creates ${scenario.scenario.namespaces.join(', ')})`),
          );
        }
        // A scenario file that does not parse leaves its objects out of the inventory: every check
        // naming one would be a follow-on error listed next to (and before) the cause.
        if (ctx.namespace && !scenario.unreadableManifests) {
          rawChecks.forEach((c, i) => {
            const check = part(checkSchema, c);
            if (check) checkAgainstScenario(ctx, scenario, check, ['checks', i]);
          });
        }
      }
    }
  }

  if (parsed.success && result.problems.length === 0 && solutionFile && pageFiles.task && pageFiles.concept && pageFiles.completion) {
    result.lab = toLab(parsed.data, dir, file, roots.scenarios, {
      task: pageFiles.task,
      concept: pageFiles.concept,
      completion: pageFiles.completion,
      solution: solutionFile,
    });
  }
  return result;
}

function toLab(
  data: LabFile,
  dir: string,
  labYaml: string,
  scenariosRoot: string,
  files: Omit<Lab['files'], 'labYaml'>,
): Lab {
  const podSet = (p: { namespace?: string | undefined; podSelector: LabelSelector }): PodSet => ({
    namespace: p.namespace ?? data.namespace,
    podSelector: p.podSelector,
  });
  const checks = data.checks.map((c): Check => {
    switch (c.kind) {
      case 'policy':
        return { ...c, namespace: c.namespace ?? data.namespace };
      case 'dns':
        return { ...c, from: podSet(c.from) };
      case 'connectivity':
        return {
          ...c,
          from: podSet(c.from),
          to: c.to.map((t): ProbeTarget => {
            const { pods, ...rest } = t;
            return pods ? { ...rest, pods: podSet(pods) } : rest;
          }),
        };
      case 'traffic':
        return {
          ...c,
          ...withLabNamespace(c, data.namespace),
          open: c.open.map((r) => withLabNamespace(r, data.namespace)),
          tolerate: c.tolerate.map((r) => ({ ...withLabNamespace(r, data.namespace), why: r.why })),
        };
      case 'unchanged':
        return {
          ...c,
          except: c.except.map((r) => withLabNamespace(r, data.namespace)),
          tolerate: c.tolerate.map((r) => ({ ...withLabNamespace(r, data.namespace), why: r.why })),
        };
      case 'admission': {
        const { manifest, workloads, warnings, ...rest } = c;
        return {
          ...rest,
          namespace: c.namespace ?? data.namespace,
          ...(manifest !== undefined ? { manifest: join(dir, manifest) } : {}),
          ...(workloads !== undefined ? { workloads } : {}),
          ...(warnings !== undefined ? { warnings } : {}),
        };
      }
      case 'state': {
        const { object, pods, ...rest } = c;
        return {
          ...rest,
          ...(object ? { object: { ...object, namespace: object.namespace ?? data.namespace } } : {}),
          ...(pods ? { pods: podSet(pods) } : {}),
          assert: c.assert.map((a) => Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined)) as unknown as StateAssertion),
        };
      }
      case 'access': {
        const statement = <T extends { namespaces?: string[] | undefined; cluster: boolean; names?: string[] | undefined }>(st: T) => {
          const { names, namespaces, ...rest } = st;
          return { ...rest, namespaces: st.cluster ? [] : (namespaces ?? [data.namespace]), ...(names ? { names } : {}) };
        };
        return {
          ...c,
          can: c.can.map(statement),
          cannot: c.cannot.map(statement),
          tolerate: c.tolerate.map(statement),
        };
      }
    }
  });
  return {
    id: data.id,
    title: data.title,
    summary: data.summary,
    difficulty: data.difficulty,
    tags: data.tags,
    minutes: data.minutes,
    competency: data.competency,
    catches: data.catches,
    scenario: data.scenario,
    namespace: data.namespace,
    hints: data.hints,
    checks,
    knownWrong: data.knownWrong,
    knownRight: data.knownRight,
    domain: data.domain ?? 'networkpolicy',
    changeable: data.changeable.map((o) => ({ ...o, namespace: o.namespace ?? (CLUSTER_SCOPED_CHANGEABLE.has(o.kind) ? undefined : data.namespace) })).map((o) =>
      Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as unknown as ChangeableObject,
    ),
    ...(data.starter ? { starter: join(dir, data.starter) } : {}),
    dir,
    scenariosRoot,
    files: { labYaml, ...files },
  };
}

/** Endpoint sets without a namespace mean the lab's namespace; fill it in once, here. */
function withLabNamespace(region: TrafficRegion, labNamespace: string): TrafficRegion {
  const fill = (sets: EndpointSet[] | undefined) =>
    sets?.map((set): EndpointSet => {
      if (set.pods) {
        const { namespace, namespaceSelector, podSelector } = set.pods;
        return {
          pods: namespaceSelector ? { namespaceSelector, podSelector } : { namespace: namespace ?? labNamespace, podSelector },
        };
      }
      if (set.service !== undefined) return { service: set.service, namespace: set.namespace ?? labNamespace };
      return set;
    });
  const out: TrafficRegion = {};
  if (region.from) out.from = fill(region.from)!;
  if (region.to) out.to = fill(region.to)!;
  if (region.ports) out.ports = region.ports;
  return out;
}

interface CrossContext {
  dir: string;
  doc: LoadedDocument;
  problems: Problem[];
  /** The lab's namespace, when it parsed. */
  namespace: string | undefined;
}

/** Parses one part of lab.yaml on its own; its problems are already reported by the full parse. */
function part<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } }, value: unknown): T | undefined {
  const r = schema.safeParse(value);
  return r.success ? r.data : undefined;
}

async function existingFile(ctx: CrossContext, field: FieldPath, rel: string): Promise<string | undefined> {
  const { path, escapes } = await insideFolder(ctx.dir, rel);
  if (escapes) {
    ctx.problems.push(at(ctx.doc, field, `${rel} points outside the lab folder`));
    return undefined;
  }
  const kind = await fileKind(path);
  if (kind !== 'file') {
    ctx.problems.push(at(ctx.doc, field, kind === 'missing' ? `file not found: ${path}` : `${path} is not a file`));
    return undefined;
  }
  return path;
}

/**
 * A solution or known attempt must be applyable as it is: valid Kubernetes objects with explicit
 * namespaces, and NetworkPolicies the API server would accept. Problems point into that file.
 */
async function checkAttemptFile(ctx: CrossContext, field: FieldPath, path: string): Promise<CheckedObject[] | undefined> {
  const read = await readYamlFile(path);
  if (read.problems.length > 0) {
    ctx.problems.push(...read.problems);
    return undefined;
  }
  const { objects, problems } = kubeObjectsOf(read.docs);
  ctx.problems.push(...problems);
  if (objects.length === 0 && problems.length === 0) {
    ctx.problems.push(at(ctx.doc, field, `${relative(ctx.dir, path)} holds no Kubernetes objects`));
  }
  for (const obj of objects) {
    if (isNamespaced(obj.object.kind) && obj.object.metadata.namespace === undefined) {
      ctx.problems.push(
        problemAt(obj.loaded, ['metadata'], 'needs metadata.namespace: attempts are applied as written, not into a current namespace'),
      );
      continue;
    }
    if (obj.object.kind === 'NetworkPolicy') {
      for (const p of validateNetworkPolicy(obj.object).problems) {
        ctx.problems.push(problemAt(obj.loaded, p.fieldPath, p.message));
      }
    }
  }
  return problems.length === 0 ? objects : undefined;
}

/** Every YAML file in a folder of known attempts must be listed: a forgotten file tests nothing. */
async function unlistedAttempts(ctx: CrossContext, listed: Map<string, FieldPath>): Promise<void> {
  const folders = new Set([...listed.entries()].filter(([, f]) => f[0] !== 'solution').map(([p]) => dirname(p)));
  folders.delete(ctx.dir);
  for (const folder of folders) {
    const entries = readdirSync(folder, { withFileTypes: true });
    for (const e of entries.filter((x) => x.isFile() && /\.ya?ml$/.test(x.name)).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(folder, e.name);
      if (!listed.has(path)) {
        ctx.problems.push({
          file: path,
          message: `is not listed under knownWrong or knownRight in ${LAB_FILE}; list it (with the check it must fail) or delete it`,
        });
      }
    }
  }
}

function checkAgainstScenario(ctx: CrossContext, scenario: ScenarioInspection, check: ParsedCheck, path: FieldPath): void {
  const labNs = ctx.namespace!;
  const created = new Set(scenario.scenario?.namespaces ?? []);
  const { workloads, services } = scenario.inventory;
  const add = (p: FieldPath, message: string) => ctx.problems.push(at(ctx.doc, [...path, ...p], message));

  /** Pods a pod set matches; reports sets outside the scenario's namespaces and empty sets. */
  const podsOf = (set: { namespace?: string | undefined; podSelector: LabelSelector }, p: FieldPath) => {
    const ns = set.namespace ?? labNs;
    if (SYSTEM_NAMESPACES.has(ns)) return undefined; // the cluster's, not the scenario's: cannot be checked here
    if (!created.has(ns)) {
      add([...p, 'namespace'], `namespace ${ns} is not created by scenario ${scenario.scenario?.name} (${[...created].join(', ')})`);
      return undefined;
    }
    const matched = workloads.filter((w) => w.namespace === ns && matchesSelector(set.podSelector, w.labels));
    if (matched.length === 0) {
      add([...p, 'podSelector'], `selects no pod of scenario ${scenario.scenario?.name} in ${ns} (${formatSelector(set.podSelector)}): the check would test nothing`);
    }
    return matched;
  };

  if (check.kind === 'policy') {
    const ns = check.namespace ?? labNs;
    if (!created.has(ns)) add(['namespace'], `namespace ${ns} is not created by scenario ${scenario.scenario?.name}`);
    else if (check.selects) podsOf({ namespace: ns, podSelector: check.selects }, ['selects']);
    return;
  }
  if (check.kind === 'access') return; // decided against the cluster's own discovery when graded
  if (check.kind === 'traffic' || check.kind === 'unchanged') {
    const regions: Array<[FieldPath, TrafficRegion]> =
      check.kind === 'traffic'
        ? [[[], check], ...check.open.map((r, i): [FieldPath, TrafficRegion] => [['open', i], r]), ...check.tolerate.map((r, i): [FieldPath, TrafficRegion] => [['tolerate', i], r])]
        : [...check.except.map((r, i): [FieldPath, TrafficRegion] => [['except', i], r]), ...check.tolerate.map((r, i): [FieldPath, TrafficRegion] => [['tolerate', i], r])];
    for (const [rp, region] of regions) {
      for (const side of ['from', 'to'] as const) {
        region[side]?.forEach((set, i) => {
          // A single set may have been written without a list: then the path stops at the field.
          const sp: FieldPath = [...rp, side, ...(region[side]!.length > 1 ? [i] : [])];
          if (set.service !== undefined) {
            const ns = set.namespace ?? labNs;
            if (!services.some((s) => s.namespace === ns && s.name === set.service)) add([...sp, 'service'], `scenario ${scenario.scenario?.name} has no Service ${set.service} in ${ns}`);
          } else if (set.pods?.namespace !== undefined && !created.has(set.pods.namespace) && !SYSTEM_NAMESPACES.has(set.pods.namespace)) {
            add([...sp, 'pods', 'namespace'], `namespace ${set.pods.namespace} is not created by scenario ${scenario.scenario?.name} (${[...created].join(', ')})`);
          } else if (set.external) {
            for (const [j, cidr] of [set.external.cidr, ...(set.external.except ?? [])].entries()) {
              if (cidr !== undefined && !cidrRange(cidr)) add([...sp, 'external', j === 0 ? 'cidr' : 'except'], `${cidr} is not a CIDR (like 203.0.113.0/24 or 2001:db8::/32)`);
            }
          }
        });
      }
    }
    return;
  }
  if (check.kind === 'admission' || check.kind === 'state') {
    const ns = check.kind === 'admission' ? (check.namespace ?? labNs) : check.object ? (check.object.namespace ?? labNs) : undefined;
    const field: FieldPath = check.kind === 'admission' ? ['namespace'] : ['object', 'namespace'];
    if (ns !== undefined && !created.has(ns) && !SYSTEM_NAMESPACES.has(ns) && !(check.kind === 'state' && check.object?.kind === 'Namespace'))
      add(field, `namespace ${ns} is not created by scenario ${scenario.scenario?.name} (${[...created].join(', ')})`);
    if (check.kind === 'state' && check.pods) podsOf(check.pods, ['pods']);
    return;
  }
  podsOf(check.from, ['from']);
  if (check.kind === 'dns') {
    check.names.forEach((name, i) => {
      if (!name.includes('.') && !services.some((s) => s.namespace === labNs && s.name === name)) {
        add(['names', i], `${name} is not a Service of scenario ${scenario.scenario?.name} in ${labNs}, so it can never resolve`);
      }
    });
    return;
  }
  check.to.forEach((target, i) => {
    const tp: FieldPath = ['to', i];
    if (target.service !== undefined) {
      const ns = target.namespace ?? labNs;
      const svc = services.find((s) => s.namespace === ns && s.name === target.service);
      if (!svc) {
        add([...tp, 'service'], `scenario ${scenario.scenario?.name} has no Service ${target.service} in ${ns}`);
        return;
      }
      target.ports.forEach((port, j) => {
        const ok = svc.ports.some((p) => (typeof port === 'number' ? p.port === port : p.name === port) && p.protocol === target.protocol);
        if (!ok) {
          const has = svc.ports.map((p) => `${p.name ? `${p.name}=` : ''}${p.port}/${p.protocol}`).join(', ');
          add([...tp, 'ports', j], `Service ${ns}/${svc.name} has no ${target.protocol} port ${port} (it has ${has || 'none'})`);
        }
      });
    } else if (target.pods !== undefined) {
      const pods = podsOf(target.pods, [...tp, 'pods']);
      if (!pods || pods.length === 0) return;
      target.ports.forEach((port, j) => {
        // Every matched pod must serve the port: for `open` a missing listener means "refused", and
        // a named port must resolve on every pod for the probe to have a number at all.
        const missing = pods.filter(
          (w) => !w.ports.some((p) => (typeof port === 'number' ? p.port === port : p.name === port) && p.protocol === target.protocol),
        );
        if (missing.length > 0 && (check.expect === 'open' || typeof port === 'string')) {
          add([...tp, 'ports', j], `${missing.map((w) => `${w.kind} ${w.name}`).join(', ')} declares no ${target.protocol} container port ${port}`);
        }
      });
    } else if (target.ip !== undefined) {
      const host = scenario.scenario?.externalHosts.find((h) => h.ip === target.ip);
      if (!host) {
        add([...tp, 'ip'], `${target.ip} is not one of the externalHosts of scenario ${scenario.scenario?.name}`);
        return;
      }
      target.ports.forEach((port, j) => {
        if (typeof port !== 'number') add([...tp, 'ports', j], 'must be a number for an ip target (names resolve only on pods)');
        else if (check.expect === 'open' && !host.ports.some((p) => p.port === port && p.protocol === target.protocol)) {
          add([...tp, 'ports', j], `external host ${host.name} does not serve ${target.protocol} ${port}`);
        }
      });
    }
  });
}
