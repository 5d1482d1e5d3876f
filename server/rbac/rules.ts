/**
 * Rule matching, as the RBAC authorizer does it.
 *
 * A resource request is allowed by a rule when all four match:
 * - verb: the rule lists it or `*`;
 * - API group: the rule lists the request's group (`""` is the core group) or `*`;
 * - resource: the rule lists `*`, the resource itself (`pods` does NOT cover `pods/log`), the
 *   resource with its subresource (`pods/log`), or `*` with the subresource (`* /log`);
 * - name: the rule has no resourceNames, or lists the request's name (a request without a name,
 *   such as list or create, is never allowed by a rule with resourceNames).
 * A non-resource request (`/healthz`) is allowed when the verb matches and nonResourceURLs lists
 * the path, `*`, or a prefix ending in `*`.
 */
import type { AccessRequest, PolicyRule } from './types.js';

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.some((v) => v === '*' || v === verb);
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return rule.apiGroups.some((g) => g === '*' || g === group);
}

export function resourceMatches(
  rule: PolicyRule,
  resource: string,
  subresource: string | undefined,
): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  return rule.resources.some(
    (r) =>
      r === '*' ||
      r === combined ||
      (subresource !== undefined && subresource !== '' && r === `*/${subresource}`),
  );
}

export function resourceNameMatches(rule: PolicyRule, name: string | undefined): boolean {
  if (rule.resourceNames.length === 0) return true;
  return name !== undefined && name !== '' && rule.resourceNames.includes(name);
}

export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  return rule.nonResourceURLs.some(
    (u) => u === '*' || u === path || (u.endsWith('*') && path.startsWith(u.slice(0, -1))),
  );
}

export function ruleAllows(rule: PolicyRule, request: AccessRequest): boolean {
  if (request.kind === 'nonResource')
    return verbMatches(rule, request.verb) && nonResourceURLMatches(rule, request.path);
  return (
    verbMatches(rule, request.verb) &&
    apiGroupMatches(rule, request.apiGroup) &&
    resourceMatches(rule, request.resource, request.subresource) &&
    resourceNameMatches(rule, request.name)
  );
}

/** Which part of a rule fails the request first: for explanations of a denial. */
export function ruleMismatch(rule: PolicyRule, request: AccessRequest): string | undefined {
  if (!verbMatches(rule, request.verb))
    return `verbs ${JSON.stringify(rule.verbs)} do not include "${request.verb}"`;
  if (request.kind === 'nonResource') {
    if (rule.nonResourceURLs.length === 0) return 'it is about resources, not URLs';
    if (!nonResourceURLMatches(rule, request.path))
      return `nonResourceURLs ${JSON.stringify(rule.nonResourceURLs)} do not match "${request.path}"`;
    return undefined;
  }
  if (rule.nonResourceURLs.length > 0 && rule.resources.length === 0) return 'it is about non-resource URLs';
  if (!apiGroupMatches(rule, request.apiGroup))
    return `apiGroups ${JSON.stringify(rule.apiGroups)} do not include "${request.apiGroup}"`;
  if (!resourceMatches(rule, request.resource, request.subresource)) {
    const combined = request.subresource ? `${request.resource}/${request.subresource}` : request.resource;
    const hint =
      request.subresource && rule.resources.includes(request.resource)
        ? ` (a subresource must be listed itself: "${combined}")`
        : '';
    return `resources ${JSON.stringify(rule.resources)} do not include "${combined}"${hint}`;
  }
  if (!resourceNameMatches(rule, request.name)) {
    return request.name
      ? `resourceNames ${JSON.stringify(rule.resourceNames)} do not include "${request.name}"`
      : `it is limited to resourceNames ${JSON.stringify(rule.resourceNames)}, and this request names no object`;
  }
  return undefined;
}

/** `{APIGroups:[""], Resources:["pods"], Verbs:["get"]}`: the form the API server lists missing permissions in. */
export function compactRule(rule: PolicyRule): string {
  const parts: string[] = [];
  const field = (label: string, values: string[]) => {
    if (values.length > 0) parts.push(`${label}:[${values.map((v) => JSON.stringify(v)).join(' ')}]`);
  };
  field('APIGroups', rule.apiGroups);
  field('Resources', rule.resources);
  field('NonResourceURLs', rule.nonResourceURLs);
  field('ResourceNames', rule.resourceNames);
  field('Verbs', rule.verbs);
  return `{${parts.join(', ')}}`;
}

export function rule(partial: Partial<PolicyRule> & { verbs: string[] }): PolicyRule {
  return {
    verbs: partial.verbs,
    apiGroups: partial.apiGroups ?? [],
    resources: partial.resources ?? [],
    resourceNames: partial.resourceNames ?? [],
    nonResourceURLs: partial.nonResourceURLs ?? [],
  };
}

export function sameRule(a: PolicyRule, b: PolicyRule): boolean {
  const eq = (x: string[], y: string[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  return (
    eq(a.verbs, b.verbs) &&
    eq(a.apiGroups, b.apiGroups) &&
    eq(a.resources, b.resources) &&
    eq(a.resourceNames, b.resourceNames) &&
    eq(a.nonResourceURLs, b.nonResourceURLs)
  );
}
