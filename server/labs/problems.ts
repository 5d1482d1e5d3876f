/**
 * Turns zod issues into kubelab Problems that point at the YAML line of the offending field, with
 * messages written for people (`checks[2].expect: must be one of open, blocked`).
 */
import type { z } from 'zod';
import type { Problem } from '../errors.js';
import { formatPath, type FieldPath, type LoadedDocument } from '../manifests/load.js';

export function zodProblems(issues: readonly z.core.$ZodIssue[], doc: LoadedDocument): Problem[] {
  const problems: Problem[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      // schema.ts writes one line per unknown key, in key order; anything else gets a plain message.
      const lines = issue.message.split('\n');
      issue.keys.forEach((key, i) => {
        const message =
          lines.length === issue.keys.length ? (lines[i] ?? '') : `unknown field "${key}" (check the spelling)`;
        problems.push(problemIn(doc, [...path, key], message));
      });
      continue;
    }
    if (issue.code === 'invalid_union' && 'discriminator' in issue && typeof issue.discriminator === 'string') {
      const options = 'options' in issue && Array.isArray(issue.options) ? issue.options.map(String) : [];
      const given = valueAt(doc.value, [...path]);
      const message =
        given === undefined
          ? `is required (one of ${options.join(', ')})`
          : `must be one of ${options.join(', ')}`;
      // zod already appends the discriminator to the path.
      const full = path[path.length - 1] === issue.discriminator ? path : [...path, issue.discriminator];
      problems.push(problemIn(doc, full, message));
      continue;
    }
    problems.push(problemIn(doc, path, messageFor(issue, valueAt(doc.value, path))));
  }
  return dedupe(problems);
}

function messageFor(issue: z.core.$ZodIssue, given: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      if (given === undefined) return 'is required';
      return issue.message.startsWith('Invalid input') ? `must be ${article(issue.expected)}` : issue.message;
    case 'invalid_value':
      return issue.message.startsWith('Invalid option') || issue.message.startsWith('Invalid input')
        ? `must be one of ${issue.values.map(String).join(', ')}`
        : issue.message;
    case 'too_small':
      if (!issue.message.startsWith('Too small')) return issue.message;
      return issue.origin === 'array'
        ? `must have at least ${String(issue.minimum)} item(s)`
        : `must be at least ${String(issue.minimum)}`;
    case 'too_big':
      if (!issue.message.startsWith('Too big')) return issue.message;
      return issue.origin === 'array'
        ? `must have at most ${String(issue.maximum)} item(s)`
        : `must be at most ${String(issue.maximum)}`;
    default:
      return issue.message;
  }
}

function article(expected: string): string {
  if (expected === 'array') return 'a list';
  if (expected === 'object') return 'a mapping (key: value)';
  if (expected === 'int') return 'a whole number';
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

/** A problem at a field of a YAML document: file, line and column of the field, and its path. */
export function problemIn(doc: LoadedDocument, path: FieldPath, message: string): Problem {
  const where = doc.locate(path);
  return { file: where.file, line: where.line, ...(where.column ? { column: where.column } : {}), path: formatPath(path), message };
}

export function valueAt(root: unknown, path: FieldPath): unknown {
  let v: unknown = root;
  for (const part of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[part];
  }
  return v;
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.file}:${p.line}:${p.path}:${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
