/**
 * Users, groups and ServiceAccounts, as the authenticator and impersonation see them.
 *
 * - `system:serviceaccount:NS:NAME` is ServiceAccount NAME in NS; unless groups are given, it is
 *   in `system:serviceaccounts` and `system:serviceaccounts:NS`.
 * - Every user except `system:anonymous` is also in `system:authenticated` (unless
 *   `system:unauthenticated` was given); `system:anonymous` is in `system:unauthenticated`.
 * - A binding's subject applies to a user by kind: User by name, Group by membership,
 *   ServiceAccount by the user name it stands for (namespace defaulting to the RoleBinding's).
 */
import type { Subject, UserInfo } from './types.js';

export const AUTHENTICATED = 'system:authenticated';
export const UNAUTHENTICATED = 'system:unauthenticated';
export const ANONYMOUS = 'system:anonymous';
export const MASTERS = 'system:masters';
export const SERVICE_ACCOUNT_PREFIX = 'system:serviceaccount:';
export const SERVICE_ACCOUNTS_GROUP = 'system:serviceaccounts';

export function serviceAccountUsername(namespace: string, name: string): string {
  return `${SERVICE_ACCOUNT_PREFIX}${namespace}:${name}`;
}

/** `system:serviceaccount:NS:NAME` -> {namespace, name}; anything else -> undefined. */
export function parseServiceAccountUsername(user: string): { namespace: string; name: string } | undefined {
  if (!user.startsWith(SERVICE_ACCOUNT_PREFIX)) return undefined;
  const parts = user.slice(SERVICE_ACCOUNT_PREFIX.length).split(':');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return undefined;
  return { namespace: parts[0], name: parts[1] };
}

/** The user the API server sees for `--as USER [--as-group G]...`. */
export function impersonatedUser(name: string, groups: readonly string[] = []): UserInfo {
  let out = [...groups];
  const sa = parseServiceAccountUsername(name);
  if (sa && groups.length === 0) out = [SERVICE_ACCOUNTS_GROUP, `${SERVICE_ACCOUNTS_GROUP}:${sa.namespace}`];
  if (name === ANONYMOUS) {
    if (!out.includes(UNAUTHENTICATED)) out.push(UNAUTHENTICATED);
  } else if (!out.includes(AUTHENTICATED) && !out.includes(UNAUTHENTICATED)) {
    out.push(AUTHENTICATED);
  }
  return { name, groups: out };
}

export function subjectAppliesTo(
  subject: Subject,
  user: UserInfo,
  bindingNamespace: string | undefined,
): boolean {
  switch (subject.kind) {
    case 'User':
      return user.name === subject.name;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      const ns = subject.namespace || bindingNamespace;
      return ns !== undefined && user.name === serviceAccountUsername(ns, subject.name);
    }
  }
}

/** `User "alice"`, `Group "devs"`, `ServiceAccount "deployer/ci"`: the API server's wording. */
export function describeSubject(subject: Subject, bindingNamespace: string | undefined): string {
  if (subject.kind === 'ServiceAccount') {
    return `ServiceAccount "${subject.name}/${subject.namespace || bindingNamespace || ''}"`;
  }
  return `${subject.kind} "${subject.name}"`;
}

export function describeUser(user: UserInfo): string {
  return `user "${user.name}" (groups=${JSON.stringify(user.groups)})`;
}
