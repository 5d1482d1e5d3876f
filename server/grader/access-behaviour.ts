/**
 * Does a mutant of an RBAC lab's solution behave differently from the solution? Decided by the
 * RBAC engine alone, independently of the lab's checks: for every subject the lab names, every
 * ServiceAccount a binding of either names, and a witness ServiceAccount and user nobody names,
 * the requests allowed over the whole request space (see access.ts) must be the same, outside what
 * the lab tolerates and what every subject may do anyway.
 */
import { accessRequestOf } from '../cluster/access-query.js';
import type { Cluster } from '../cluster/types.js';
import type { AccessCheck, Lab } from '../labs/model.js';
import { impersonatedUser, isAllowed, type UserInfo } from '../rbac/index.js';
import {
  boundSubjects,
  covers,
  describeAccess,
  keyOf,
  readAccessWorld,
  universe,
  type AccessWorld,
} from './access.js';

/** The lab's own subjects, and every subject a binding of either world names (see boundSubjects). */
function subjectsOf(lab: Lab, worlds: AccessWorld[]): UserInfo[] {
  const users = new Map<string, UserInfo>();
  const add = (u: UserInfo) => users.set(`${u.name}|${u.groups.join(',')}`, u);
  for (const c of lab.checks) if (c.kind === 'access') add(impersonatedUser(c.subject, c.groups));
  for (const u of boundSubjects(worlds, lab.namespace)) add(u);
  return [...users.values()];
}

export async function accessBehaviourDifference(
  lab: Lab,
  namespaces: readonly string[],
  solution: Cluster,
  mutant: Cluster,
): Promise<string | undefined> {
  const checks = lab.checks.filter((c): c is AccessCheck => c.kind === 'access');
  if (checks.length === 0) return undefined;
  const [a, b] = await Promise.all([readAccessWorld(solution), readAccessWorld(mutant)]);
  const named = checks.flatMap((c) => [...c.can, ...c.cannot, ...c.tolerate].flatMap((s) => s.namespaces));
  for (const user of subjectsOf(lab, [a, b])) {
    const tolerated = checks.filter((c) => c.subject === user.name).flatMap((c) => c.tolerate);
    const stated = checks.filter((c) => c.subject === user.name).flatMap((c) => [...c.can, ...c.cannot]);
    const space = new Map<string, ReturnType<typeof universe>[number]>();
    for (const w of [a, b])
      for (const q of universe(w, user, [...namespaces, ...named])) space.set(keyOf(q), q);
    for (const q of space.values()) {
      const req = accessRequestOf(q);
      if (isAllowed(a.ambient, user, req)) continue;
      const inSolution = isAllowed(a.rbac, user, req);
      const inMutant = isAllowed(b.rbac, user, req);
      if (inSolution === inMutant) continue;
      // A region one check tolerates may be exactly what another requires or forbids.
      const isTolerated =
        tolerated.some((t) => covers(t, q, a.served)) && !stated.some((t) => covers(t, q, a.served));
      if (isTolerated) continue;
      return `${user.name} ${inMutant ? 'may' : 'may no longer'} ${q.verb} ${describeAccess(q)}`;
    }
  }
  return undefined;
}
