/**
 * `access` checks: what a subject may and may not do, proven by asking the cluster's authorizer
 * about every request the check names, and with `nothingElse` about every request the cluster
 * could be asked: every resource and subresource discovery lists x every standard verb (and every
 * verb a role in the cluster names) x every namespace that has a RoleBinding, the namespaces the
 * check names and one namespace nobody bound anything in (standing for all the others) x
 * cluster-wide; and for resources some rule limits by name, each such name and one other name.
 * No binding can tell apart two namespaces without RoleBindings, or two names no rule lists, so
 * these witnesses are every answer there is.
 *
 * The verdicts come from the cluster (SubjectAccessReview on a real one); the RBAC engine, fed
 * the roles and bindings read from the same cluster, only explains them: which binding and which
 * rule allowed a request. A review that fails is an environment problem, and so is a denial that
 * came with an evaluation error where the check needs that denial: never a pass.
 *
 * Requests every signed-in user (or every ServiceAccount) may make on any cluster, through the API
 * server's default bindings (system:basic-user, system:discovery, ...), are not counted against
 * `nothingElse`: no learner can take them away, and they are not what an RBAC task is about.
 */
import type { AccessAnswer, AccessQuery, Cluster, KubeObject, ServedResource } from '../cluster/types.js';
import { accessRequestOf } from '../cluster/access-query.js';
import { isKubelabError } from '../errors.js';
import type { AccessCheck, AccessStatement } from '../labs/model.js';
import {
  authorize,
  buildRbacModel,
  compileRbac,
  impersonatedUser,
  isAllowed,
  serviceAccountUsername,
  type CompiledRbac,
  type UserInfo,
} from '../rbac/index.js';
import type { CheckResult } from './report.js';

/** Verbs asked about every resource. */
export const STANDARD_VERBS = [
  'get',
  'list',
  'watch',
  'create',
  'update',
  'patch',
  'delete',
  'deletecollection',
];
/** Stands for every namespace no RoleBinding lives in. */
export const OTHER_NAMESPACE = 'kubelab-any-other-namespace';
/** Stands for every object name no rule lists. */
export const OTHER_NAME = 'kubelab-any-other-name';
/** Verbs that name one object (requests with these verbs are asked with and without names). */
const NAMED_VERBS = new Set(['get', 'update', 'patch', 'delete']);
const SHOWN = 8;

export interface AccessWorld {
  served: ServedResource[];
  /** The roles and bindings in the cluster, compiled (defaults underneath), to explain verdicts. */
  rbac: CompiledRbac;
  /** Only the API server's defaults: what every subject may do anyway. */
  ambient: CompiledRbac;
}

const RBAC_KINDS = ['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'] as const;

/** Reads what the access checks need from the cluster (discovery and its RBAC objects). */
export async function readAccessWorld(cluster: Cluster): Promise<AccessWorld> {
  if (!cluster.servedResources || !cluster.reviewAccess)
    throw new Error(`${cluster.description} cannot answer access reviews`);
  const [served, ...lists] = await Promise.all([
    cluster.servedResources(),
    ...RBAC_KINDS.map((k) => cluster.list(k)),
  ]);
  return worldOf(served, lists.flat());
}

export function worldOf(served: ServedResource[], rbacObjects: KubeObject[]): AccessWorld {
  return {
    served,
    rbac: compileRbac(buildRbacModel(rbacObjects).model),
    ambient: compileRbac({ roles: [], bindings: [] }),
  };
}

/** The user a check's subject names, with the groups the API server gives it. */
export function subjectUser(check: Pick<AccessCheck, 'subject' | 'groups'>): UserInfo {
  return impersonatedUser(check.subject, check.groups);
}

interface Resolved {
  group: string;
  resource: string;
  subresource?: string;
  namespaced: boolean;
}

/**
 * resolveResource's answers per discovery list (a list is read once and never changed): `covers`
 * resolves a statement's resources for each of the thousands of requests of a sweep.
 */
const resolvedIn = new WeakMap<readonly ServedResource[], Map<string, Resolved | undefined>>();

/** `pods`, `pods/log`, `deployments.apps` against discovery; undefined when the cluster does not serve it. */
export function resolveResource(served: ServedResource[], text: string): Resolved | undefined {
  let known = resolvedIn.get(served);
  if (!known) resolvedIn.set(served, (known = new Map()));
  if (!known.has(text)) known.set(text, resolveUncached(served, text));
  return known.get(text);
}

function resolveUncached(served: ServedResource[], text: string): Resolved | undefined {
  const [main, subresource] = text.split('/') as [string, string | undefined];
  const dot = main.indexOf('.');
  const resource = dot < 0 ? main : main.slice(0, dot);
  const group = dot < 0 ? undefined : main.slice(dot + 1);
  const found = served.filter(
    (s) =>
      s.resource === resource &&
      (subresource === undefined ? s.subresource === undefined : s.subresource === subresource) &&
      (group === undefined || s.group === group),
  );
  // Without a group, kubectl prefers the core group, then the first group served.
  const pick = found.find((s) => s.group === '') ?? found[0];
  if (!pick) return undefined;
  return {
    group: pick.group,
    resource,
    ...(subresource ? { subresource } : {}),
    namespaced: pick.namespaced,
  };
}

/** One string per distinct request of a user (the user is the same across a sweep). */
export const keyOf = (q: AccessQuery) =>
  `${q.verb}\0${q.group}\0${q.resource}\0${q.subresource ?? ''}\0${q.namespace ?? '\0'}\0${q.name ?? '\0'}`;

/** The requests one statement stands for (undefined names: one request without a name). */
function expand(
  st: AccessStatement,
  user: UserInfo,
  served: ServedResource[],
  unknown: string[],
): AccessQuery[] {
  const out: AccessQuery[] = [];
  for (const text of st.resources) {
    const r = resolveResource(served, text);
    if (!r) {
      unknown.push(text);
      continue;
    }
    const scopes: Array<string | undefined> = st.cluster || !r.namespaced ? [undefined] : st.namespaces;
    for (const verb of st.verbs)
      for (const namespace of scopes)
        for (const name of st.names ?? [undefined])
          out.push({
            user: user.name,
            groups: user.groups,
            verb,
            group: r.group,
            resource: r.resource,
            ...(r.subresource ? { subresource: r.subresource } : {}),
            ...(name !== undefined ? { name } : {}),
            ...(namespace !== undefined ? { namespace } : {}),
          });
  }
  return out;
}

/** Does a statement cover this request? A statement without names covers every name. */
export function covers(st: AccessStatement, q: AccessQuery, served: ServedResource[]): boolean {
  if (!st.verbs.includes(q.verb)) return false;
  if (st.names && (q.name === undefined || !st.names.includes(q.name))) return false;
  const resolved = st.resources.map((t) => resolveResource(served, t));
  if (
    !resolved.some(
      (r) => r && r.group === q.group && r.resource === q.resource && r.subresource === q.subresource,
    )
  )
    return false;
  if (q.namespace === undefined) return st.cluster || resolved.some((r) => r && !r.namespaced);
  return st.namespaces.includes(q.namespace);
}

/** Every request the cluster could be asked for this user (see the file comment). */
export function universe(world: AccessWorld, user: UserInfo, namespaces: readonly string[]): AccessQuery[] {
  const verbs = new Set(STANDARD_VERBS);
  const named = new Map<string, Set<string>>();
  const bindingNamespaces = new Set<string>([...namespaces, OTHER_NAMESPACE]);
  for (const b of world.rbac.bindings)
    if (b.kind === 'RoleBinding' && b.namespace) bindingNamespaces.add(b.namespace);
  for (const role of world.rbac.roles.values()) {
    if (role.builtIn) continue;
    for (const rule of role.rules) {
      for (const v of rule.verbs) if (v !== '*') verbs.add(v);
      if (rule.resourceNames.length === 0) continue;
      for (const res of rule.resources) {
        const set = named.get(res) ?? new Set<string>();
        for (const n of rule.resourceNames) set.add(n);
        named.set(res, set);
      }
    }
  }
  const out: AccessQuery[] = [];
  for (const s of world.served) {
    const full = s.subresource ? `${s.resource}/${s.subresource}` : s.resource;
    const names = new Set<string>([...(named.get(full) ?? []), ...(named.get('*') ?? [])]);
    if (names.size > 0) names.add(OTHER_NAME);
    const scopes: Array<string | undefined> = s.namespaced ? [undefined, ...bindingNamespaces] : [undefined];
    const resourceVerbs = s.subresource
      ? new Set([...s.verbs, 'get', 'create', 'update', 'patch'])
      : new Set([...verbs, ...s.verbs]);
    for (const verb of resourceVerbs)
      for (const namespace of scopes)
        for (const name of [undefined, ...(NAMED_VERBS.has(verb) ? names : [])]) {
          // Built field by field: a sweep makes thousands of these, and spreads cost several times more.
          const q: AccessQuery = {
            user: user.name,
            groups: user.groups,
            verb,
            group: s.group,
            resource: s.resource,
          };
          if (s.subresource) q.subresource = s.subresource;
          if (name !== undefined) q.name = name;
          if (namespace !== undefined) q.namespace = namespace;
          out.push(q);
        }
  }
  return out;
}

export function describeAccess(q: AccessQuery): string {
  const res = q.subresource ? `${q.resource}/${q.subresource}` : q.resource;
  const group = q.group ? `.${q.group}` : '';
  const name = q.name === OTHER_NAME ? ' (any other name)' : q.name ? ` "${q.name}"` : '';
  const where =
    q.namespace === OTHER_NAMESPACE
      ? ' in any other namespace'
      : q.namespace
        ? ` in ${q.namespace}`
        : ' cluster-wide';
  return `${res}${group}${name}${where}`;
}

/** `via RoleBinding app/ci -> Role app/ci rules[2]`, or the cluster's own reason. */
function via(world: AccessWorld, user: UserInfo, q: AccessQuery, answer: AccessAnswer | undefined): string {
  const verdict = authorize(world.rbac, user, accessRequestOf(q));
  const g = verdict.grants[0];
  if (g) return `via ${g.binding} -> ${g.role} rules[${g.rule}]`;
  return `allowed by the cluster${answer?.reason ? ` (${answer.reason})` : ''}; no RBAC object kubelab can read grants it`;
}

/** Lines `also allowed: U may delete, patch secrets in app, via ...`, grouped by resource, scope and grant. */
function groupLines(prefix: string, user: UserInfo, items: Array<{ q: AccessQuery; why: string }>): string[] {
  const groups = new Map<string, { verbs: string[]; what: string; why: string }>();
  for (const { q, why } of items) {
    const what = describeAccess(q);
    const k = `${what}|${why}`;
    const g = groups.get(k) ?? { verbs: [], what, why };
    if (!g.verbs.includes(q.verb)) g.verbs.push(q.verb);
    groups.set(k, g);
  }
  const lines = [...groups.values()].map(
    (g) =>
      `${prefix}: ${user.name} may${prefix.startsWith('not') ? ' not' : ''} ${g.verbs.join(', ')} ${g.what}${g.why ? `, ${g.why}` : ''}`,
  );
  return lines.length > SHOWN
    ? [...lines.slice(0, SHOWN), `... and ${lines.length - SHOWN} more like these.`]
    : lines;
}

export async function runAccessChecks(
  checks: AccessCheck[],
  cluster: Cluster,
  labNamespaces: readonly string[],
): Promise<CheckResult[]> {
  const result = (c: AccessCheck, status: CheckResult['status'], messages: string[]): CheckResult => ({
    id: c.id,
    title: c.title,
    kind: 'access',
    status,
    messages,
    probes: [],
  });
  if (!cluster.reviewAccess || !cluster.servedResources)
    return checks.map((c) =>
      result(c, 'error', [
        `${cluster.description} cannot answer access reviews, so this check cannot be graded.`,
      ]),
    );
  let world: AccessWorld;
  try {
    world = await readAccessWorld(cluster);
  } catch (e) {
    if (!isKubelabError(e)) throw e;
    return checks.map((c) =>
      result(c, 'error', [`could not read the cluster's discovery and RBAC objects: ${e.message}`]),
    );
  }
  const out: CheckResult[] = [];
  for (const check of checks) {
    try {
      out.push(await runOne(check, cluster, world, labNamespaces));
    } catch (e) {
      if (!isKubelabError(e)) throw e;
      out.push(result(check, 'error', [`an access review failed: ${e.message}`]));
    }
  }
  return out;
}

async function runOne(
  check: AccessCheck,
  cluster: Cluster,
  world: AccessWorld,
  labNamespaces: readonly string[],
): Promise<CheckResult> {
  const user = subjectUser(check);
  const unknown: string[] = [];
  const can = check.can.flatMap((st) => expand(st, user, world.served, unknown));
  const cannot = check.cannot.flatMap((st) => expand(st, user, world.served, unknown));
  const base = { id: check.id, title: check.title, kind: 'access' as const, probes: [] };
  if (unknown.length > 0)
    return {
      ...base,
      status: 'error',
      messages: [
        `the cluster does not serve ${[...new Set(unknown)].join(', ')}: the lab names a resource this cluster lacks (a problem of the lab or the cluster, not of your answer).`,
      ],
    };
  const named = [...check.can, ...check.cannot, ...check.tolerate].flatMap((s) => s.namespaces);
  const everything = check.nothingElse ? universe(world, user, [...labNamespaces, ...named]) : [];
  const queries = new Map<string, AccessQuery>();
  for (const q of [...can, ...cannot, ...everything]) queries.set(keyOf(q), q);
  const list = [...queries.values()];
  const answers = new Map<string, AccessAnswer>();
  const got = await cluster.reviewAccess!(list);
  list.forEach((q, i) => answers.set(keyOf(q), got[i]!));

  const messages: string[] = [];
  const environment: string[] = [];
  const denials = (q: AccessQuery) => {
    const a = answers.get(keyOf(q))!;
    if (!a.allowed && a.evaluationError)
      environment.push(
        `${describeAccess(q)}: denied, but the authorizer reported an error (${a.evaluationError}), so the denial proves nothing.`,
      );
    return !a.allowed;
  };

  const missing = can.filter((q) => !answers.get(keyOf(q))!.allowed);
  messages.push(
    ...groupLines(
      'not allowed',
      user,
      missing.map((q) => {
        const reason = authorize(world.rbac, user, accessRequestOf(q)).reasons.slice(1, 2).join('');
        return { q, why: reason ? `(${reason})` : '' };
      }),
    ),
  );
  const alsoAllowed = cannot.filter((q) => !denials(q));
  const counted = everything.filter(
    (q) =>
      ![...check.can, ...check.tolerate].some((st) => covers(st, q, world.served)) &&
      !isAllowed(world.ambient, user, accessRequestOf(q)),
  );
  const extra = counted.filter((q) => !denials(q));
  const seen = new Set(alsoAllowed.map(keyOf));
  const counter = [...alsoAllowed, ...extra.filter((q) => !seen.has(keyOf(q)))];
  messages.push(
    ...groupLines(
      'also allowed',
      user,
      counter.map((q) => ({ q, why: via(world, user, q, answers.get(keyOf(q))) })),
    ),
  );
  if (messages.length > 0) return { ...base, status: 'fail', messages };
  if (environment.length > 0) return { ...base, status: 'error', messages: environment.slice(0, SHOWN) };
  const proven = [
    can.length > 0 ? `${can.length} required request(s) allowed` : '',
    cannot.length > 0 ? `${cannot.length} forbidden request(s) denied` : '',
    check.nothingElse
      ? `nothing else allowed across ${everything.length} requests (every served resource, verb and namespace class)`
      : '',
  ].filter(Boolean);
  return { ...base, status: 'pass', messages: [`${user.name}: ${proven.join('; ')}.`] };
}

/**
 * Every subject a binding of these worlds names, as the API server would see it asking: a
 * ServiceAccount or a user by name, a group through a member (`kubelab-witness-member`), plus a
 * ServiceAccount of `namespace` and a user that no binding names. Built-in bindings are skipped:
 * what they grant is the same in every world.
 */
export function boundSubjects(worlds: AccessWorld[], namespace: string): UserInfo[] {
  const users = new Map<string, UserInfo>();
  const add = (u: UserInfo) => users.set(`${u.name}|${u.groups.join(',')}`, u);
  for (const w of worlds)
    for (const b of w.rbac.bindings) {
      if (b.builtIn) continue;
      for (const s of b.subjects)
        if (s.kind === 'ServiceAccount')
          add(impersonatedUser(serviceAccountUsername(s.namespace ?? b.namespace ?? 'default', s.name)));
        else if (s.kind === 'User') add(impersonatedUser(s.name));
        else add(impersonatedUser(GROUP_WITNESS, [s.name]));
    }
  add(impersonatedUser(serviceAccountUsername(namespace, 'kubelab-witness')));
  add(impersonatedUser('kubelab-witness-user'));
  return [...users.values()];
}

/** The member a group subject is asked about as. */
export const GROUP_WITNESS = 'kubelab-witness-member';
