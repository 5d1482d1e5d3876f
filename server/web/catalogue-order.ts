/**
 * The order of the catalogue: the course path an instructor wrote in labs/course.yaml, then the
 * labs it does not list, easiest first. And each lab's exam domain, for the card.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { Lab } from '../labs/model.js';

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

/** "CKA Services & Networking: define..." -> "CKA Services & Networking"; short competencies whole. */
export function domainOf(lab: Lab): string | undefined {
  const head = lab.competency.split(':')[0]?.trim();
  return head && head.length <= 60 ? head : undefined;
}

/** The catalogue's sections (lab.yaml `domain`), with the words the page uses for them. */
export const DOMAIN_TITLES: Record<NonNullable<Lab['domain']>, string> = {
  networkpolicy: 'Network policies',
  rbac: 'RBAC',
  podsecurity: 'Pod Security',
  serviceaccounts: 'ServiceAccounts',
  troubleshooting: 'Troubleshooting',
};

/**
 * Labs grouped by domain, keeping the course order inside each section; a section comes where its
 * first lab comes in that order, so the course path still reads top to bottom.
 */
export function groupByDomain<T extends { section: NonNullable<Lab['domain']> }>(
  labs: T[],
): Array<{ domain: NonNullable<Lab['domain']>; title: string; labs: T[] }> {
  const groups = new Map<NonNullable<Lab['domain']>, T[]>();
  for (const lab of labs) {
    const list = groups.get(lab.section) ?? [];
    list.push(lab);
    groups.set(lab.section, list);
  }
  return [...groups].map(([domain, list]) => ({ domain, title: DOMAIN_TITLES[domain], labs: list }));
}
