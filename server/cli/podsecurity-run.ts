/** What `kubelab podsecurity check` does (podsecurity.ts declares it). */
import { relative, resolve } from 'node:path';
import { badInput, KubelabError, type Problem } from '../errors.js';
import { loadManifestInputs, objectsOf, problemAt, isRecord, type LoadedObject } from '../manifests/load.js';
import {
  admit,
  CONFIG_KIND,
  DEFAULT_CONFIG,
  formatVersion,
  hasPodSpec,
  isLevel,
  LABEL_PREFIX,
  LEVEL_PROBLEM,
  NEWEST_MINOR,
  parseVersion,
  policyFromLabels,
  POD_SPEC_LOCATIONS,
  readPodSecurityConfiguration,
  readPodSpec,
  type AdmissionVerdict,
  type PodSecurityConfig,
  type PodSpecModel,
} from '../podsecurity/index.js';
import type { CliIO } from './io.js';

import type { CheckOptions } from './podsecurity.js';

export async function runCheck(inputs: string[], opts: CheckOptions, io: CliIO): Promise<void> {
  const verdicts = await checkInputs(inputs, opts, io);
  const allowed = verdicts.every((v) => v.verdict.allowed);
  io.stdout(
    opts.json
      ? `${JSON.stringify({ allowed, results: verdicts.map(resultJson) }, null, 2)}\n`
      : formatVerdicts(verdicts),
  );
  if (!allowed) io.exitCode = 1;
}

interface Located {
  verdict: AdmissionVerdict;
  obj: LoadedObject;
  file: string;
  line: number;
}

async function checkInputs(inputs: string[], opts: CheckOptions, io: CliIO): Promise<Located[]> {
  if (opts.level !== undefined && !isLevel(opts.level)) {
    throw badInput(`--level ${opts.level}: ${LEVEL_PROBLEM}`);
  }
  if (opts.version !== undefined && opts.level === undefined) {
    throw new KubelabError('USAGE', '--version needs --level', {
      hint: 'Without --level each namespace says its own version in pod-security.kubernetes.io/enforce-version.',
    });
  }
  const version = opts.version === undefined ? undefined : parseVersion(opts.version);
  if (opts.version !== undefined && version === undefined) {
    throw badInput(
      `--version ${opts.version}: must be "latest" or "v1.x"`,
      [],
      `For example --version v1.${NEWEST_MINOR}.`,
    );
  }

  const paths = inputs.map((p) => (p === '-' ? p : relative(io.cwd, resolve(io.cwd, p)) || '.'));
  const docs = await loadManifestInputs(paths, { stdin: () => io.readStdin() });
  const { objects, problems: docProblems } = objectsOf(docs);
  const problems: Problem[] = [...docProblems];

  let config: PodSecurityConfig = DEFAULT_CONFIG;
  const namespaceLabels = new Map<string, Record<string, string>>();
  for (const obj of objects) {
    const o = obj.object;
    if (o.kind === CONFIG_KIND) {
      const read = readPodSecurityConfiguration(o);
      for (const p of read.problems) problems.push(problemAt(obj, p.fieldPath, p.message));
      config = read.config;
    } else if (o.kind === 'Namespace') {
      const meta = isRecord(o.metadata) ? o.metadata : {};
      if (typeof meta.name !== 'string') {
        problems.push(problemAt(obj, ['metadata', 'name'], 'a Namespace needs a name'));
        continue;
      }
      const labels: Record<string, string> = {};
      if (isRecord(meta.labels)) {
        for (const [k, v] of Object.entries(meta.labels)) if (typeof v === 'string') labels[k] = v;
      }
      // The API server refuses a namespace whose Pod Security labels it cannot parse.
      for (const e of policyFromLabels(labels).errors) {
        problems.push(
          problemAt(
            obj,
            ['metadata', 'labels', e.label],
            `Invalid value: ${JSON.stringify(e.value)}: ${e.message}`,
          ),
        );
      }
      namespaceLabels.set(meta.name, labels);
    }
  }

  const pods: Array<{ obj: LoadedObject; kind: string; name: string; namespace: string; pod: PodSpecModel }> =
    [];
  for (const obj of objects) {
    const o = obj.object;
    if (typeof o.kind !== 'string' || !hasPodSpec(o.kind)) continue;
    const meta = isRecord(o.metadata) ? o.metadata : {};
    const name =
      typeof meta.name === 'string'
        ? meta.name
        : typeof meta.generateName === 'string'
          ? meta.generateName
          : undefined;
    if (name === undefined) {
      problems.push(problemAt(obj, ['metadata', 'name'], `a ${o.kind} needs metadata.name`));
      continue;
    }
    if (meta.namespace !== undefined && typeof meta.namespace !== 'string') {
      problems.push(problemAt(obj, ['metadata', 'namespace'], 'must be a string'));
      continue;
    }
    const where = POD_SPEC_LOCATIONS[o.kind]!;
    const read = readPodSpec(o, where.metadata, where.spec);
    for (const p of read.problems) problems.push(problemAt(obj, p.fieldPath, p.message));
    pods.push({
      obj,
      kind: o.kind,
      name,
      namespace: (meta.namespace as string | undefined) ?? 'default',
      pod: read.pod,
    });
  }
  if (problems.length > 0) {
    throw badInput(
      `the manifests have ${problems.length} problem${problems.length === 1 ? '' : 's'}`,
      problems,
      'Fix each field shown (the API server would refuse these objects too), then run again.',
    );
  }
  if (pods.length === 0) {
    throw badInput(
      'no Pods or workloads in the inputs',
      [],
      `Pod Security checks ${Object.keys(POD_SPEC_LOCATIONS).join(', ')}.`,
    );
  }

  return pods.map(({ obj, kind, name, namespace, pod }) => {
    let policy;
    let policySource: string;
    if (opts.level !== undefined) {
      const labels: Record<string, string> = { [`${LABEL_PREFIX}enforce`]: opts.level };
      if (opts.version !== undefined) labels[`${LABEL_PREFIX}enforce-version`] = opts.version;
      policy = policyFromLabels(labels, config.defaults).policy;
      policySource = `--level ${opts.level}${version ? ` --version ${formatVersion(version)}` : ''}`;
    } else {
      const labels = namespaceLabels.get(namespace);
      policy = policyFromLabels(labels ?? {}, config.defaults).policy;
      policySource = labels
        ? `the labels of namespace ${namespace}`
        : `the cluster defaults: namespace ${namespace} is not among the inputs`;
    }
    const verdict = admit(
      { kind, name, namespace, pod, ...(opts.user !== undefined ? { username: opts.user } : {}) },
      policy,
      config,
      { policySource },
    );
    return { verdict, obj, file: obj.doc.source.file, line: obj.doc.locate(obj.basePath).line };
  });
}

function locate(l: Located, fieldPath: ReadonlyArray<string | number>): number {
  return l.obj.doc.locate([...l.obj.basePath, ...fieldPath]).line;
}

function resultJson(l: Located) {
  const v = l.verdict;
  return {
    file: l.file,
    line: l.line,
    kind: v.kind,
    namespace: v.namespace,
    name: v.name,
    allowed: v.allowed,
    admitted: v.admitted,
    policy: v.enforce.policy,
    ...(v.exempt ? { exempt: v.exempt } : {}),
    violations: v.enforce.violations.map((x) => ({
      check: x.check,
      level: x.level,
      reason: x.reason,
      detail: x.detail,
      paths: x.paths,
      lines: x.fieldPaths.map((p) => locate(l, p)),
    })),
    ...(v.error ? { error: v.error } : {}),
    warnings: v.warnings,
    reasons: v.reasons,
  };
}

function formatVerdicts(list: Located[]): string {
  const out: string[] = [];
  for (const l of list) {
    const v = l.verdict;
    const status = v.exempt
      ? `admitted (exempt: ${v.exempt})`
      : v.allowed
        ? `admitted under ${v.enforce.policy}`
        : v.admitted
          ? `admitted, but its pods would be REJECTED under ${v.enforce.policy}`
          : `REJECTED under ${v.enforce.policy}`;
    out.push(`${v.kind} ${v.namespace}/${v.name} (${l.file}:${l.line}): ${status}`);
    for (const r of v.reasons) out.push(`  ${r}`);
    for (const x of v.enforce.violations) {
      out.push(`  - ${x.reason}: ${x.detail}`);
      // A long list of fields says nothing more after the first few.
      const shown = x.fieldPaths.length > 4 ? 3 : x.fieldPaths.length;
      x.fieldPaths
        .slice(0, shown)
        .forEach((p, i) => out.push(`      ${l.file}:${locate(l, p)}: ${x.paths[i]}`));
      if (shown < x.fieldPaths.length) out.push(`      (and ${x.fieldPaths.length - shown} more fields)`);
    }
    if (v.error) out.push(`  Error from server (Forbidden): ${v.error}`);
    for (const w of v.warnings) out.push(`  Warning: ${w}`);
    out.push('');
  }
  const rejected = list.filter((l) => !l.verdict.allowed).length;
  out.push(
    `${list.length} object${list.length === 1 ? '' : 's'}: ${list.length - rejected} admitted, ${rejected} with pods rejected`,
  );
  return `${out.join('\n')}\n`;
}
