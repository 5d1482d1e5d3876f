/**
 * "Nobody else gains or loses anything": the check every lab with `access` checks gets. Those
 * checks prove what the subjects they name may do; a learner could still hand rights to a subject
 * none of them names (cluster-admin to some user, a too-wide binding re-pointed elsewhere). RBAC
 * grants only through bindings, so the subjects whose access can differ from the scenario's are
 * finite: every subject a binding (the scenario's or the learner's) names, a member of every group
 * a binding names, and a ServiceAccount and a user nobody names. Each is compared, over the whole
 * request space of access.ts, between the scenario's RBAC objects alone and the cluster as it is.
 *
 * Both sides are decided by the RBAC engine from the cluster's objects (on a real cluster too,
 * where the lab's own checks ask SubjectAccessReview); the lab's subjects and the groups they are
 * checked with are left to those checks.
 */
import { accessRequestOf } from '../cluster/access-query.js';
import type { KubeObject } from '../cluster/types.js';
import { OTHERS_UNCHANGED_ID, type AccessCheck, type Lab } from '../labs/model.js';

export { OTHERS_UNCHANGED_ID };
import { authorize, isAllowed, type UserInfo } from '../rbac/index.js';
import {
  GROUP_WITNESS,
  boundSubjects,
  describeAccess,
  keyOf,
  universe,
  worldOf,
  type AccessWorld,
} from './access.js';
import type { CheckResult } from './report.js';

const RBAC_KINDS = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);
const SHOWN = 3;

/** Every subject a binding of either world names, plus witnesses, minus what the lab's checks judge. */
function otherSubjects(lab: Lab, checks: AccessCheck[], worlds: AccessWorld[]): UserInfo[] {
  const judgedUsers = new Set(checks.map((c) => c.subject));
  const judgedGroups = new Set(checks.flatMap((c) => c.groups));
  return boundSubjects(worlds, lab.namespace).filter(
    (u) =>
      !judgedUsers.has(u.name) && !(u.name === GROUP_WITNESS && u.groups.some((g) => judgedGroups.has(g))),
  );
}

export function othersUnchangedCheck(
  lab: Lab,
  checks: AccessCheck[],
  now: AccessWorld,
  scenarioObjects: KubeObject[],
  namespaces: readonly string[],
): CheckResult {
  const before = worldOf(
    now.served,
    scenarioObjects.filter((o) => RBAC_KINDS.has(o.kind)),
  );
  const differences: string[] = [];
  for (const user of otherSubjects(lab, checks, [before, now])) {
    const space = new Map<string, ReturnType<typeof universe>[number]>();
    for (const w of [before, now]) for (const q of universe(w, user, namespaces)) space.set(keyOf(q), q);
    for (const q of space.values()) {
      const req = accessRequestOf(q);
      if (isAllowed(now.ambient, user, req)) continue;
      if (isAllowed(before.rbac, user, req) === isAllowed(now.rbac, user, req)) continue;
      const was = authorize(before.rbac, user, req);
      const is = authorize(now.rbac, user, req);
      const who =
        user.groups.length > 0 && user.name === GROUP_WITNESS
          ? `any member of group ${user.groups.join(', ')}`
          : user.name;
      differences.push(
        is.allowed
          ? `also allowed: ${who} may ${q.verb} ${describeAccess(q)}, which the scenario alone did not allow: ${is.reasons[1] ?? is.reasons[0] ?? 'a binding allows it'}.`
          : `no longer allowed: ${who} may not ${q.verb} ${describeAccess(q)}, which the scenario alone allowed: ${was.reasons[1] ?? was.reasons[0] ?? 'a binding allowed it'}.`,
      );
    }
  }
  const messages =
    differences.length === 0
      ? [
          'every other subject (each one a binding names, any member of a group a binding names, and any other user or ServiceAccount) has exactly the access it had with the scenario alone.',
        ]
      : [
          ...differences.slice(0, SHOWN),
          ...(differences.length > SHOWN
            ? [`... and ${differences.length - SHOWN} more requests like these.`]
            : []),
        ];
  return {
    id: OTHERS_UNCHANGED_ID,
    title:
      "Nobody else's access changes: every subject the access checks do not name may do exactly what the scenario alone allowed",
    kind: 'access',
    status: differences.length === 0 ? 'pass' : 'fail',
    messages,
    probes: [],
  };
}
