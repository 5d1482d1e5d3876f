/**
 * The order of the catalogue, for the web page and `kubelab lab list` alike: the course path an
 * instructor wrote in labs/course.yaml, then the labs it does not list, easiest first.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { Lab } from './model.js';

export const COURSE_FILE = 'course.yaml';

const DIFFICULTY_RANK: Record<Lab['difficulty'], number> = { beginner: 0, intermediate: 1, advanced: 2 };

/** The lab ids of labs/course.yaml `path:`, in order; none when the file is missing or has no list. */
export async function readCoursePath(labsDir: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(join(labsDir, COURSE_FILE), 'utf8');
  } catch {
    return [];
  }
  try {
    const value: unknown = parse(text);
    const path = typeof value === 'object' && value !== null ? (value as { path?: unknown }).path : undefined;
    return Array.isArray(path) ? path.filter((id): id is string => typeof id === 'string') : [];
  } catch {
    return []; // a broken course file must not empty the catalogue; the labs still list, easiest first
  }
}

export function orderLabs(labs: Lab[], coursePath: string[]): Lab[] {
  const position = new Map(coursePath.map((id, i) => [id, i]));
  const key = (lab: Lab) => position.get(lab.id) ?? Number.MAX_SAFE_INTEGER;
  return [...labs].sort(
    (a, b) =>
      key(a) - key(b) ||
      DIFFICULTY_RANK[a.difficulty] - DIFFICULTY_RANK[b.difficulty] ||
      a.minutes - b.minutes ||
      a.id.localeCompare(b.id),
  );
}
