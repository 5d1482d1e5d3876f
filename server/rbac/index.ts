/**
 * The RBAC engine's public API. Read the files in this order to follow the rules:
 *   types.ts       the data model (rules, roles, bindings, subjects, requests) and the verdict shape
 *   subjects.ts    users, groups, ServiceAccounts, implicit groups, impersonation; who a subject names
 *   rules.ts       how a rule matches a request: verbs, API groups, resources/subresources, names, URLs
 *   ../selectors/  label selectors (for aggregation), shared with the NetworkPolicy engine
 *   defaults.ts    the API server's default ClusterRoles (cluster-admin, admin, edit, view, ...) and bindings
 *   model.ts       buildRbacModel from Kubernetes objects: validation with field paths, defaulting
 *   compile.ts     compileRbac: defaults + inputs, aggregated ClusterRoles filled in
 *   request.ts     `VERB RESOURCE[/SUB] [NAME]` as kubectl resolves it
 *   authorize.ts   authorize -> allowed, the grants, and the reasons (or why nothing grants it)
 *   who-can.ts     every subject that may make a request, and through which binding
 *   coverage.ts    does one rule set cover another (the escalation test)
 *   escalation.ts  may this user write this role or binding (escalate, bind, or already holds it)
 */
export * from './types.js';
export {
  impersonatedUser,
  parseServiceAccountUsername,
  serviceAccountUsername,
  subjectAppliesTo,
  describeSubject,
  describeUser,
  AUTHENTICATED,
  UNAUTHENTICATED,
  ANONYMOUS,
  MASTERS,
} from './subjects.js';
export { ruleAllows, ruleMismatch, compactRule, rule, sameRule } from './rules.js';
export { matchesSelector } from '../selectors/index.js';
export { DEFAULT_CLUSTER_ROLES, DEFAULT_CLUSTER_ROLE_BINDINGS } from './defaults.js';
export { buildRbacModel, isRbacKind, RBAC_GROUP, type IndexedProblem } from './model.js';
export { compileRbac, CompiledRbac, roleKey, bindingKey, type CompileOptions } from './compile.js';
export { parseResourceRequest, KNOWN_RESOURCES, type ParsedRequest } from './request.js';
export { authorize, describeRequest, bindingsInScope, isAllowed } from './authorize.js';
export { whoCan, type WhoCanEntry, type WhoCanResult } from './who-can.js';
export { breakdownRule, ruleCovers, uncovered } from './coverage.js';
export { canWriteRole, canWriteBinding, rulesFor, type WriteVerdict } from './escalation.js';
