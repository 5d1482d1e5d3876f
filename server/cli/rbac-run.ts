/** What `kubelab rbac can-i` and `kubelab rbac who-can` do (rbac.ts declares them). */
import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { badInput, KubelabError, type Problem } from '../errors.js';
import { loadManifestInputs, objectsOf, problemAt } from '../manifests/load.js';
import {
  authorize,
  buildRbacModel,
  compileRbac,
  impersonatedUser,
  isRbacKind,
  parseResourceRequest,
  whoCan,
  type CompiledRbac,
  type ParsedRequest,
} from '../rbac/index.js';
import type { CliIO } from './io.js';
import type { CommonOptions } from './rbac.js';

const QUESTION_HELP =
  'Give the manifests first, then VERB RESOURCE[/SUBRESOURCE] [NAME], e.g. `kubelab rbac can-i rbac/ --as jane get pods/log -n dev`.';

export async function runCanI(
  args: string[],
  opts: CommonOptions & { as: string; asGroup: string[] },
  io: CliIO,
): Promise<void> {
  const { inputs, question } = splitArgs(args, io);
  const parsed = parseQuestion(question, opts.namespace);
  const compiled = await loadRbac(inputs, io);
  const user = impersonatedUser(opts.as, opts.asGroup);
  const verdict = authorize(compiled, user, parsed.request);
  const reasons = [...verdict.reasons, ...parsed.warnings.map((w) => `note: ${w}`)];
  if (opts.json) {
    io.stdout(
      `${JSON.stringify(
        {
          allowed: verdict.allowed,
          reasons,
          user,
          request: parsed.request,
          grants: verdict.grants,
        },
        null,
        2,
      )}\n`,
    );
  } else {
    io.stdout(`${verdict.allowed ? 'yes' : 'no'}\n${reasons.map((r) => `  ${r}`).join('\n')}\n`);
  }
  if (!verdict.allowed) io.exitCode = 1;
}

export async function runWhoCan(args: string[], opts: CommonOptions, io: CliIO): Promise<void> {
  const { inputs, question } = splitArgs(args, io);
  const parsed = parseQuestion(question, opts.namespace);
  const compiled = await loadRbac(inputs, io);
  const result = whoCan(compiled, parsed.request);
  const reasons = [...result.reasons, ...parsed.warnings.map((w) => `note: ${w}`)];
  if (opts.json) {
    io.stdout(
      `${JSON.stringify(
        {
          allowed: result.entries.length > 0,
          subjects: result.entries.map((e) => ({
            kind: e.subject.kind,
            name: e.subject.name,
            ...(e.subject.namespace ? { namespace: e.subject.namespace } : {}),
            binding: e.binding,
            role: e.role,
            rule: e.rule,
          })),
          reasons,
        },
        null,
        2,
      )}\n`,
    );
    return;
  }
  const rows = result.entries.map((e) => [e.subjectText, e.binding, `${e.role} rule ${e.rule}`]);
  const header = ['SUBJECT', 'BINDING', 'ROLE'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) =>
    r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ');
  const table = rows.length > 0 ? `${[line(header), ...rows.map(line)].join('\n')}\n` : '';
  io.stdout(`${table}${reasons.map((r) => `${r}\n`).join('')}`);
}

function splitArgs(args: string[], io: CliIO): { inputs: string[]; question: string[] } {
  let i = 0;
  while (i < args.length && (args[i] === '-' || existsSync(resolve(io.cwd, args[i]!)))) i++;
  const inputs = args.slice(0, i);
  const question = args.slice(i);
  if (inputs.length === 0) {
    throw new KubelabError('USAGE', `no manifests given: "${args[0] ?? ''}" is not a file or directory`, {
      hint: QUESTION_HELP,
    });
  }
  if (question.length < 2 || question.length > 3) {
    throw new KubelabError(
      'USAGE',
      question.length < 2
        ? 'missing VERB and RESOURCE after the manifests'
        : `too many arguments: ${question.join(' ')}`,
      { hint: `${QUESTION_HELP} An argument that is not an existing path ends the list of manifests.` },
    );
  }
  return { inputs, question };
}

function parseQuestion(question: string[], namespace: string): ParsedRequest {
  const [verb, resource, name] = question as [string, string, string | undefined];
  if (!/^[a-z*][a-z]*$/i.test(verb)) throw badInput(`"${verb}" is not a verb`, [], QUESTION_HELP);
  if (resource.startsWith('/') && name !== undefined) {
    throw badInput('a non-resource URL takes no NAME', [], QUESTION_HELP);
  }
  return parseResourceRequest(verb, resource, name, namespace);
}

async function loadRbac(inputs: string[], io: CliIO): Promise<CompiledRbac> {
  const paths = inputs.map((p) => (p === '-' ? p : relative(io.cwd, resolve(io.cwd, p)) || '.'));
  const docs = await loadManifestInputs(paths, { stdin: () => io.readStdin() });
  const { objects, problems } = objectsOf(docs);
  const { model, problems: modelProblems } = buildRbacModel(objects.map((o) => o.object));
  const all: Problem[] = [...problems];
  for (const p of modelProblems) all.push(problemAt(objects[p.index]!, p.fieldPath, p.message));
  if (all.length > 0) {
    throw badInput(
      `the manifests have ${all.length} problem${all.length === 1 ? '' : 's'}`,
      all,
      'Fix each field shown (the API server would refuse these objects too), then run again.',
    );
  }
  if (!objects.some((o) => isRbacKind(o.object.kind))) {
    io.stderr(
      'kubelab: note: the inputs hold no Role, ClusterRole or binding; only the default ones apply\n',
    );
  }
  return compileRbac(model);
}
