/**
 * Escalation prevention: what the API server checks before it stores a Role, ClusterRole,
 * RoleBinding or ClusterRoleBinding, so nobody can grant more than they hold.
 *
 * Writing a role: allowed if the user is in system:masters, or may `escalate` roles/clusterroles
 * (that name, that namespace), or already holds every permission the role grants (in the role's
 * namespace; cluster-wide for a ClusterRole). A ClusterRole with an aggregationRule needs
 * cluster-admin's power (every verb on every resource and URL) unless `escalate` is held.
 *
 * Writing a binding: allowed if the user is in system:masters, or may `bind` the referenced role
 * (roles or clusterroles, by name, in the binding's namespace), or already holds every permission
 * of the referenced role in the binding's scope. The referenced role must exist for the last test.
 *
 * Both also need the ordinary permission to create the object (`create roles`, ...).
 */
import { authorize } from './authorize.js';
import type { CompiledRbac } from './compile.js';
import { uncovered } from './coverage.js';
import { RBAC_GROUP } from './model.js';
import { compactRule, rule } from './rules.js';
import { describeUser, MASTERS, subjectAppliesTo } from './subjects.js';
import type { BindingModel, PolicyRule, RoleModel, UserInfo } from './types.js';

/** Every rule granted to the user in a namespace ('' or undefined: cluster-wide grants only). */
export function rulesFor(
  rbac: CompiledRbac,
  user: UserInfo,
  namespace?: string,
): { rules: PolicyRule[]; errors: string[] } {
  const rules: PolicyRule[] = [];
  const errors: string[] = [];
  for (const b of rbac.bindings) {
    if (b.kind === 'RoleBinding' && (!namespace || b.namespace !== namespace)) continue;
    if (!b.subjects.some((s) => subjectAppliesTo(s, user, b.namespace))) continue;
    const { key, rules: granted } = rbac.roleOfBinding(b);
    if (!granted) errors.push(`${b.kind} ${b.name} refers to ${key}, which does not exist`);
    else rules.push(...granted);
  }
  return { rules, errors };
}

export interface WriteVerdict {
  allowed: boolean;
  reasons: string[];
  /** The permissions the user would grant without holding them (empty when allowed for that reason). */
  missing: PolicyRule[];
  /** The API server's error when refused. */
  error?: string;
}

const FULL_AUTHORITY = [
  rule({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }),
  rule({ verbs: ['*'], nonResourceURLs: ['*'] }),
];

const resourceOf = (kind: string) => `${kind.toLowerCase()}s`;

function notHeld(kind: string, name: string, user: UserInfo, missing: PolicyRule[], extra = ''): string {
  return `${resourceOf(kind)}.${RBAC_GROUP} "${name}" is forbidden: ${describeUser(user)} is attempting to grant RBAC permissions not currently held:\n${missing.map(compactRule).join('\n')}${extra}`;
}

function createAllowed(rbac: CompiledRbac, user: UserInfo, kind: string, name: string, namespace?: string) {
  return authorize(rbac, user, {
    kind: 'resource',
    verb: 'create',
    apiGroup: RBAC_GROUP,
    resource: resourceOf(kind),
    name,
    ...(namespace ? { namespace } : {}),
  });
}

export function canWriteRole(rbac: CompiledRbac, user: UserInfo, role: RoleModel): WriteVerdict {
  const what = `${role.kind} ${role.namespace ? `${role.namespace}/` : ''}${role.name}`;
  const create = createAllowed(rbac, user, role.kind, role.name, role.namespace);
  if (!create.allowed) {
    return {
      allowed: false,
      missing: [],
      reasons: [
        `${what} cannot be created: the user may not create ${resourceOf(role.kind)}`,
        ...create.reasons,
      ],
      error: `${resourceOf(role.kind)}.${RBAC_GROUP} is forbidden: User "${user.name}" cannot create resource "${resourceOf(role.kind)}" in API group "${RBAC_GROUP}"${role.namespace ? ` in the namespace "${role.namespace}"` : ' at the cluster scope'}`,
    };
  }
  if (user.groups.includes(MASTERS))
    return {
      allowed: true,
      missing: [],
      reasons: [`${what} may be written: members of ${MASTERS} bypass escalation checks`],
    };
  const escalate = authorize(rbac, user, {
    kind: 'resource',
    verb: 'escalate',
    apiGroup: RBAC_GROUP,
    resource: resourceOf(role.kind),
    name: role.name,
    ...(role.namespace ? { namespace: role.namespace } : {}),
  });
  if (escalate.allowed)
    return {
      allowed: true,
      missing: [],
      reasons: [
        `${what} may be written: the user may escalate ${resourceOf(role.kind)}`,
        escalate.reasons[0]!,
      ],
    };
  const held = rulesFor(rbac, user, role.namespace).rules;
  if (role.aggregationRule) {
    const missing = uncovered(held, FULL_AUTHORITY);
    if (missing.length > 0) {
      return {
        allowed: false,
        missing,
        reasons: [
          `${what} uses an aggregationRule, which only a user with cluster-admin's permissions (or escalate) may write`,
        ],
        error: `clusterroles.${RBAC_GROUP} "${role.name}" is forbidden: must have cluster-admin privileges to use the aggregationRule`,
      };
    }
  }
  const missing = uncovered(held, role.rules);
  if (missing.length > 0) {
    return {
      allowed: false,
      missing,
      reasons: [
        `${what} would grant ${missing.length} permission(s) the user does not hold${role.namespace ? ` in namespace ${role.namespace}` : ' cluster-wide'}: ${missing.map(compactRule).join(', ')}`,
      ],
      error: notHeld(role.kind, role.name, user, missing),
    };
  }
  return {
    allowed: true,
    missing: [],
    reasons: [`${what} may be written: the user already holds every permission it grants`],
  };
}

export function canWriteBinding(rbac: CompiledRbac, user: UserInfo, binding: BindingModel): WriteVerdict {
  const what = `${binding.kind} ${binding.namespace ? `${binding.namespace}/` : ''}${binding.name}`;
  const create = createAllowed(rbac, user, binding.kind, binding.name, binding.namespace);
  if (!create.allowed) {
    return {
      allowed: false,
      missing: [],
      reasons: [
        `${what} cannot be created: the user may not create ${resourceOf(binding.kind)}`,
        ...create.reasons,
      ],
      error: `${resourceOf(binding.kind)}.${RBAC_GROUP} is forbidden: User "${user.name}" cannot create resource "${resourceOf(binding.kind)}" in API group "${RBAC_GROUP}"${binding.namespace ? ` in the namespace "${binding.namespace}"` : ' at the cluster scope'}`,
    };
  }
  if (user.groups.includes(MASTERS))
    return {
      allowed: true,
      missing: [],
      reasons: [`${what} may be written: members of ${MASTERS} bypass escalation checks`],
    };
  const bind = authorize(rbac, user, {
    kind: 'resource',
    verb: 'bind',
    apiGroup: RBAC_GROUP,
    resource: resourceOf(binding.roleRef.kind),
    name: binding.roleRef.name,
    ...(binding.namespace ? { namespace: binding.namespace } : {}),
  });
  if (bind.allowed) {
    return {
      allowed: true,
      missing: [],
      reasons: [
        `${what} may be written: the user may bind ${binding.roleRef.kind} ${binding.roleRef.name}`,
        bind.reasons[0]!,
      ],
    };
  }
  const { key, rules } = rbac.roleOfBinding(binding);
  if (!rules) {
    return {
      allowed: false,
      missing: [],
      reasons: [`${what} refers to ${key}, which does not exist, and the user may not bind it`],
      error: `${resourceOf(binding.roleRef.kind)}.${RBAC_GROUP} "${binding.roleRef.name}" not found`,
    };
  }
  const missing = uncovered(rulesFor(rbac, user, binding.namespace).rules, rules);
  if (missing.length > 0) {
    return {
      allowed: false,
      missing,
      reasons: [
        `${what} would grant ${key}, which holds ${missing.length} permission(s) the user does not hold${binding.namespace ? ` in namespace ${binding.namespace}` : ' cluster-wide'}, and the user may not bind it`,
      ],
      error: notHeld(binding.kind, binding.name, user, missing),
    };
  }
  return {
    allowed: true,
    missing: [],
    reasons: [`${what} may be written: the user already holds every permission of ${key}`],
  };
}
