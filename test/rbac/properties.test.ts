/** RBAC invariants over random roles, bindings and requests. */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  authorize,
  compileRbac,
  impersonatedUser,
  isAllowed,
  ruleAllows,
  uncovered,
  type AccessRequest,
  type BindingModel,
  type PolicyRule,
  type RoleModel,
} from '../../server/rbac/index.js';

const NS = ['a', 'b'];
const policyRule: fc.Arbitrary<PolicyRule> = fc.record({
  verbs: fc.subarray(['get', 'list', 'create', 'delete', '*'], { minLength: 1 }),
  apiGroups: fc.subarray(['', 'apps', '*'], { minLength: 1 }),
  resources: fc.subarray(['pods', 'pods/log', 'deployments', 'secrets', '*', '*/log'], { minLength: 1 }),
  resourceNames: fc.subarray(['x', 'y'], { maxLength: 1 }),
  nonResourceURLs: fc.constant([]),
});
const roleArb: fc.Arbitrary<RoleModel> = fc
  .record({
    kind: fc.constantFrom('Role' as const, 'ClusterRole' as const),
    namespace: fc.constantFrom(...NS),
    name: fc.constantFrom('r1', 'r2'),
    labels: fc.constant({}),
    rules: fc.array(policyRule, { maxLength: 3 }),
  })
  .map((r) =>
    r.kind === 'ClusterRole' ? { kind: r.kind, name: r.name, labels: r.labels, rules: r.rules } : r,
  );
const bindingArb: fc.Arbitrary<BindingModel> = fc
  .record({
    cluster: fc.boolean(),
    namespace: fc.constantFrom(...NS),
    name: fc.constantFrom('b1', 'b2', 'b3'),
    roleKind: fc.constantFrom('Role' as const, 'ClusterRole' as const),
    roleName: fc.constantFrom('r1', 'r2', 'view', 'edit'),
    subjects: fc.array(
      fc.oneof(
        fc.record({ kind: fc.constant('User' as const), name: fc.constantFrom('alice', 'bob') }),
        fc.record({
          kind: fc.constant('Group' as const),
          name: fc.constantFrom('devs', 'system:serviceaccounts:a'),
        }),
        fc.record({
          kind: fc.constant('ServiceAccount' as const),
          name: fc.constant('ci'),
          namespace: fc.constantFrom(...NS),
        }),
      ),
      { maxLength: 2 },
    ),
  })
  .map((b) =>
    b.cluster
      ? {
          kind: 'ClusterRoleBinding' as const,
          name: b.name,
          roleRef: { kind: 'ClusterRole' as const, name: b.roleName },
          subjects: b.subjects,
        }
      : {
          kind: 'RoleBinding' as const,
          namespace: b.namespace,
          name: b.name,
          roleRef: { kind: b.roleKind, name: b.roleName },
          subjects: b.subjects,
        },
  );
const request: fc.Arbitrary<AccessRequest> = fc
  .record({
    kind: fc.constant('resource' as const),
    verb: fc.constantFrom('get', 'list', 'create', 'delete'),
    apiGroup: fc.constantFrom('', 'apps'),
    resource: fc.constantFrom('pods', 'deployments', 'secrets'),
    subresource: fc.constantFrom(undefined, 'log'),
    name: fc.constantFrom(undefined, 'x'),
    namespace: fc.constantFrom(...NS),
  })
  .map((r) => JSON.parse(JSON.stringify(r)) as AccessRequest);
const user = fc.constantFrom(
  impersonatedUser('alice'),
  impersonatedUser('bob', ['devs']),
  impersonatedUser('system:serviceaccount:a:ci'),
);

describe('RBAC invariants', () => {
  it('isAllowed (the fast answer sweeps use) always agrees with authorize', () => {
    const nonResource = fc
      .record({ verb: fc.constantFrom('get', 'post'), path: fc.constantFrom('/healthz', '/api', '/logs/x') })
      .map((r): AccessRequest => ({ kind: 'nonResource', ...r }));
    fc.assert(
      fc.property(
        fc.array(roleArb, { maxLength: 4 }),
        fc.array(bindingArb, { maxLength: 5 }),
        user,
        fc.oneof(request, nonResource),
        (roles, bindings, u, req) => {
          const rbac = compileRbac({ roles, bindings });
          expect(isAllowed(rbac, u, req)).toBe(authorize(rbac, u, req).allowed);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('adding a binding never removes access (RBAC only grants)', () => {
    fc.assert(
      fc.property(
        fc.array(roleArb, { maxLength: 4 }),
        fc.array(bindingArb, { maxLength: 4 }),
        bindingArb,
        user,
        request,
        (roles, bindings, extra, u, req) => {
          const before = authorize(compileRbac({ roles, bindings }), u, req).allowed;
          const names = new Set(bindings.map((b) => `${b.kind}/${b.namespace}/${b.name}`));
          fc.pre(!names.has(`${extra.kind}/${extra.namespace}/${extra.name}`)); // a new binding, not a replacement
          const after = authorize(compileRbac({ roles, bindings: [...bindings, extra] }), u, req).allowed;
          if (before) expect(after).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('an allowed verdict names a grant, a denied one names none', () => {
    fc.assert(
      fc.property(
        fc.array(roleArb, { maxLength: 4 }),
        fc.array(bindingArb, { maxLength: 4 }),
        user,
        request,
        (roles, bindings, u, req) => {
          const v = authorize(compileRbac({ roles, bindings }), u, req);
          expect(v.grants.length > 0).toBe(v.allowed);
          expect(v.reasons.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rules that cover others allow every request those allow', () => {
    fc.assert(
      fc.property(
        fc.array(policyRule, { maxLength: 3 }),
        fc.array(policyRule, { maxLength: 2 }),
        request,
        (owned, wanted, req) => {
          expect(uncovered(wanted, wanted)).toEqual([]);
          if (uncovered(owned, wanted).length === 0 && wanted.some((w) => ruleAllows(w, req))) {
            expect(owned.some((o) => ruleAllows(o, req))).toBe(true);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
