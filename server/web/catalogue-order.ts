/**
 * How the catalogue page presents the labs: each lab's exam domain, for the card, and the
 * sections. The order itself is the course's (server/labs/course.ts).
 */
import type { Lab } from '../labs/model.js';

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
