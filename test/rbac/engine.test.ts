/** The RBAC rules from the Kubernetes documentation ("Using RBAC Authorization"), one by one. */
import { describe, it, expect } from 'vitest';
import {
  authorize,
  buildRbacModel,
  canWriteBinding,
  canWriteRole,
  compileRbac,
  impersonatedUser,
  parseResourceRequest,
  rule,
  ruleAllows,
  uncovered,
  whoCan,
  type AccessRequest,
  type BindingModel,
  type RbacModel,
  type RoleModel,
} from '../../server/rbac/index.js';

const res = (
  verb: string,
  resource: string,
  namespace?: string,
  extra: Partial<Extract<AccessRequest, { kind: 'resource' }>> = {},
): AccessRequest => ({
  kind: 'resource',
  verb,
  apiGroup: '',
  resource,
  ...(namespace ? { namespace } : {}),
  ...extra,
});

const role = (
  name: string,
  namespace: string | undefined,
  rules: RoleModel['rules'],
  labels: Record<string, string> = {},
): RoleModel => ({
  kind: namespace ? 'Role' : 'ClusterRole',
  name,
  ...(namespace ? { namespace } : {}),
  labels,
  rules,
});

const binding = (
  name: string,
  namespace: string | undefined,
  roleRef: BindingModel['roleRef'],
  subjects: BindingModel['subjects'],
): BindingModel => ({
  kind: namespace ? 'RoleBinding' : 'ClusterRoleBinding',
  name,
  ...(namespace ? { namespace } : {}),
  roleRef,
  subjects,
});

const alice = impersonatedUser('alice');

describe('rule matching', () => {
  const podReader = rule({ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] });
  it('matches verb, group and resource; `pods` does not cover `pods/log`', () => {
    expect(ruleAllows(podReader, res('get', 'pods'))).toBe(true);
    expect(ruleAllows(podReader, res('delete', 'pods'))).toBe(false);
    expect(ruleAllows(podReader, res('get', 'pods', undefined, { apiGroup: 'apps' }))).toBe(false);
    expect(ruleAllows(podReader, res('get', 'pods', undefined, { subresource: 'log' }))).toBe(false);
    expect(
      ruleAllows(
        rule({ verbs: ['get'], apiGroups: [''], resources: ['pods/log'] }),
        res('get', 'pods', undefined, { subresource: 'log' }),
      ),
    ).toBe(true);
    expect(
      ruleAllows(
        rule({ verbs: ['create'], apiGroups: [''], resources: ['*/exec'] }),
        res('create', 'pods', undefined, { subresource: 'exec' }),
      ),
    ).toBe(true);
  });
  it('treats * as every verb, group and resource', () => {
    const all = rule({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] });
    expect(
      ruleAllows(all, res('escalate', 'clusterroles', undefined, { apiGroup: 'rbac.authorization.k8s.io' })),
    ).toBe(true);
    expect(ruleAllows(all, res('get', 'pods', undefined, { subresource: 'log' }))).toBe(true);
  });
  it('limits resourceNames to named requests', () => {
    const one = rule({
      verbs: ['get', 'list'],
      apiGroups: [''],
      resources: ['configmaps'],
      resourceNames: ['app-config'],
    });
    expect(ruleAllows(one, res('get', 'configmaps', 'x', { name: 'app-config' }))).toBe(true);
    expect(ruleAllows(one, res('get', 'configmaps', 'x', { name: 'other' }))).toBe(false);
    expect(ruleAllows(one, res('list', 'configmaps', 'x'))).toBe(false);
  });
  it('matches nonResourceURLs exactly or by a trailing *', () => {
    const r = rule({ verbs: ['get'], nonResourceURLs: ['/healthz', '/api/*'] });
    expect(ruleAllows(r, { kind: 'nonResource', verb: 'get', path: '/healthz' })).toBe(true);
    expect(ruleAllows(r, { kind: 'nonResource', verb: 'get', path: '/api/v1' })).toBe(true);
    expect(ruleAllows(r, { kind: 'nonResource', verb: 'get', path: '/healthz/etcd' })).toBe(false);
    expect(ruleAllows(r, { kind: 'nonResource', verb: 'post', path: '/healthz' })).toBe(false);
  });
});

describe('subjects', () => {
  it('gives ServiceAccounts their implicit groups and everyone system:authenticated', () => {
    expect(impersonatedUser('system:serviceaccount:ci:deployer').groups).toEqual([
      'system:serviceaccounts',
      'system:serviceaccounts:ci',
      'system:authenticated',
    ]);
    expect(impersonatedUser('system:serviceaccount:ci:deployer', ['team']).groups).toEqual([
      'team',
      'system:authenticated',
    ]);
    expect(impersonatedUser('system:anonymous').groups).toEqual(['system:unauthenticated']);
  });

  it('matches a ServiceAccount subject, its namespace defaulting to the RoleBinding', () => {
    const model: RbacModel = {
      roles: [role('reader', 'ci', [rule({ verbs: ['get'], apiGroups: [''], resources: ['pods'] })])],
      bindings: [
        binding('b', 'ci', { kind: 'Role', name: 'reader' }, [{ kind: 'ServiceAccount', name: 'deployer' }]),
      ],
    };
    const rbac = compileRbac(model);
    expect(
      authorize(rbac, impersonatedUser('system:serviceaccount:ci:deployer'), res('get', 'pods', 'ci'))
        .allowed,
    ).toBe(true);
    expect(
      authorize(rbac, impersonatedUser('system:serviceaccount:other:deployer'), res('get', 'pods', 'ci'))
        .allowed,
    ).toBe(false);
  });

  it('grants to every ServiceAccount of a namespace through system:serviceaccounts:NS', () => {
    const rbac = compileRbac({
      roles: [],
      bindings: [
        binding('all-sa', 'ci', { kind: 'ClusterRole', name: 'view' }, [
          { kind: 'Group', name: 'system:serviceaccounts:ci' },
        ]),
      ],
    });
    expect(
      authorize(rbac, impersonatedUser('system:serviceaccount:ci:any'), res('list', 'pods', 'ci')).allowed,
    ).toBe(true);
    expect(authorize(rbac, alice, res('list', 'pods', 'ci')).allowed).toBe(false);
  });
});

describe('bindings and scope', () => {
  const rbac = compileRbac({
    roles: [],
    bindings: [
      binding('dev-edit', 'dev', { kind: 'ClusterRole', name: 'edit' }, [{ kind: 'User', name: 'alice' }]),
    ],
  });
  it('a RoleBinding to a ClusterRole grants only in its namespace, never cluster-scoped resources', () => {
    const ok = authorize(rbac, alice, res('create', 'deployments', 'dev', { apiGroup: 'apps' }));
    expect(ok.allowed).toBe(true);
    expect(ok.reasons[0]).toBe(
      'RBAC: allowed by RoleBinding "dev-edit/dev" of ClusterRole "edit" to User "alice"',
    );
    const other = authorize(rbac, alice, res('create', 'deployments', 'prod', { apiGroup: 'apps' }));
    expect(other.allowed).toBe(false);
    expect(other.reasons).toContain('RoleBinding dev/dev-edit would allow it, but only in namespace dev');
    expect(authorize(rbac, alice, res('list', 'namespaces')).allowed).toBe(false);
  });
  it('grants non-resource URLs only through ClusterRoleBindings (and the discovery defaults)', () => {
    expect(authorize(rbac, alice, { kind: 'nonResource', verb: 'get', path: '/healthz' }).allowed).toBe(true);
    expect(authorize(rbac, alice, { kind: 'nonResource', verb: 'get', path: '/metrics' }).allowed).toBe(
      false,
    );
  });
  it('a binding to a missing role grants nothing and says so', () => {
    const broken = compileRbac({
      roles: [],
      bindings: [binding('b', 'x', { kind: 'Role', name: 'nope' }, [{ kind: 'User', name: 'alice' }])],
    });
    const v = authorize(broken, alice, res('get', 'pods', 'x'));
    expect(v.allowed).toBe(false);
    expect(v.reasons.join('\n')).toContain('refers to Role x/nope, which does not exist');
  });
  it('cluster-admin is bound to system:masters', () => {
    expect(
      authorize(rbac, impersonatedUser('root', ['system:masters']), res('delete', 'nodes')).allowed,
    ).toBe(true);
  });
});

describe('default ClusterRoles and aggregation', () => {
  const rbac = compileRbac({ roles: [], bindings: [] });
  const can = (roleName: string, req: AccessRequest) =>
    (rbac.rulesOf('ClusterRole', roleName) ?? []).some((r) => ruleAllows(r, req));
  it('view reads but does not see Secrets or exec into pods', () => {
    expect(can('view', res('list', 'pods'))).toBe(true);
    expect(can('view', res('get', 'pods', undefined, { subresource: 'log' }))).toBe(true);
    expect(can('view', res('get', 'secrets'))).toBe(false);
    expect(can('view', res('create', 'pods', undefined, { subresource: 'exec' }))).toBe(false);
    expect(can('view', res('delete', 'pods'))).toBe(false);
  });
  it('edit writes workloads and Secrets but not Roles; admin adds Roles and RoleBindings', () => {
    expect(can('edit', res('delete', 'deployments', undefined, { apiGroup: 'apps' }))).toBe(true);
    expect(can('edit', res('get', 'secrets'))).toBe(true);
    expect(can('edit', res('create', 'pods', undefined, { subresource: 'exec' }))).toBe(true);
    expect(can('edit', res('create', 'roles', undefined, { apiGroup: 'rbac.authorization.k8s.io' }))).toBe(
      false,
    );
    expect(
      can('admin', res('create', 'rolebindings', undefined, { apiGroup: 'rbac.authorization.k8s.io' })),
    ).toBe(true);
    expect(can('admin', res('list', 'pods'))).toBe(true);
    expect(can('admin', res('create', 'resourcequotas'))).toBe(false);
  });
  it('a labelled ClusterRole joins view, edit and admin', () => {
    const withCrd = compileRbac({
      roles: [
        role(
          'crontabs-view',
          undefined,
          [rule({ verbs: ['get', 'list'], apiGroups: ['stable.example.com'], resources: ['crontabs'] })],
          {
            'rbac.authorization.k8s.io/aggregate-to-view': 'true',
          },
        ),
      ],
      bindings: [],
    });
    const req = res('list', 'crontabs', undefined, { apiGroup: 'stable.example.com' });
    for (const r of ['view', 'edit', 'admin'])
      expect(
        (withCrd.rulesOf('ClusterRole', r) ?? []).some((x) => ruleAllows(x, req)),
        r,
      ).toBe(true);
    expect(withCrd.aggregatedFrom.get('view')).toEqual(['crontabs-view', 'system:aggregate-to-view']);
  });
  it('replaces the rules written in an aggregated ClusterRole', () => {
    const agg = compileRbac({
      roles: [
        {
          ...role('monitoring', undefined, [rule({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] })]),
          aggregationRule: { clusterRoleSelectors: [{ matchLabels: { team: 'mon' } }] },
        },
        role('mon-pods', undefined, [rule({ verbs: ['get'], apiGroups: [''], resources: ['pods'] })], {
          team: 'mon',
        }),
      ],
      bindings: [],
    });
    expect(agg.rulesOf('ClusterRole', 'monitoring')).toEqual([
      rule({ verbs: ['get'], apiGroups: [''], resources: ['pods'] }),
    ]);
  });
});

describe('who-can', () => {
  it('lists every subject with the binding that grants it', () => {
    const rbac = compileRbac({
      roles: [],
      bindings: [
        binding('support', 'shop', { kind: 'ClusterRole', name: 'view' }, [
          { kind: 'Group', name: 'support' },
          { kind: 'ServiceAccount', name: 'bot' },
        ]),
      ],
    });
    const r = whoCan(rbac, res('get', 'pods', 'shop', { subresource: 'log' }));
    expect(r.entries.map((e) => e.subjectText)).toEqual([
      'Group "system:masters"',
      'Group "support"',
      'ServiceAccount "bot/shop"',
    ]);
    expect(whoCan(rbac, res('get', 'secrets', 'shop')).entries.map((e) => e.subjectText)).toEqual([
      'Group "system:masters"',
    ]);
  });
});

describe('escalation prevention', () => {
  const model: RbacModel = {
    roles: [
      role('rbac-writer', 'dev', [
        rule({
          verbs: ['create'],
          apiGroups: ['rbac.authorization.k8s.io'],
          resources: ['roles', 'rolebindings'],
        }),
      ]),
    ],
    bindings: [
      binding('writer', 'dev', { kind: 'Role', name: 'rbac-writer' }, [{ kind: 'User', name: 'alice' }]),
      binding('viewer', 'dev', { kind: 'ClusterRole', name: 'view' }, [{ kind: 'User', name: 'alice' }]),
    ],
  };
  const rbac = compileRbac(model);
  it('lets a user write a Role with permissions it holds, and refuses one with more', () => {
    const reader = role('reader', 'dev', [
      rule({ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }),
    ]);
    expect(canWriteRole(rbac, alice, reader).allowed).toBe(true);
    const deleter = role('deleter', 'dev', [
      rule({ verbs: ['delete'], apiGroups: [''], resources: ['pods'] }),
    ]);
    const v = canWriteRole(rbac, alice, deleter);
    expect(v.allowed).toBe(false);
    expect(v.error).toBe(
      'roles.rbac.authorization.k8s.io "deleter" is forbidden: user "alice" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}',
    );
  });
  it('lets a user bind a role it holds, or one it may bind; refuses binding edit otherwise', () => {
    const bindView = binding('b', 'dev', { kind: 'ClusterRole', name: 'view' }, [
      { kind: 'User', name: 'bob' },
    ]);
    expect(canWriteBinding(rbac, alice, bindView).allowed).toBe(true);
    const bindEdit = binding('b2', 'dev', { kind: 'ClusterRole', name: 'edit' }, [
      { kind: 'User', name: 'bob' },
    ]);
    expect(canWriteBinding(rbac, alice, bindEdit).allowed).toBe(false);
    const withBind = compileRbac({
      roles: [
        ...model.roles,
        role('binder', 'dev', [
          rule({
            verbs: ['bind'],
            apiGroups: ['rbac.authorization.k8s.io'],
            resources: ['clusterroles'],
            resourceNames: ['edit'],
          }),
        ]),
      ],
      bindings: [
        ...model.bindings,
        binding('binder', 'dev', { kind: 'Role', name: 'binder' }, [{ kind: 'User', name: 'alice' }]),
      ],
    });
    expect(canWriteBinding(withBind, alice, bindEdit).allowed).toBe(true);
  });
  it('needs escalate (or cluster-admin) for more, and cluster-admin for an aggregationRule', () => {
    const big = role('big', 'dev', [rule({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] })]);
    const withEscalate = compileRbac({
      roles: [
        ...model.roles,
        role('esc', 'dev', [
          rule({ verbs: ['escalate'], apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'] }),
        ]),
      ],
      bindings: [
        ...model.bindings,
        binding('esc', 'dev', { kind: 'Role', name: 'esc' }, [{ kind: 'User', name: 'alice' }]),
      ],
    });
    expect(canWriteRole(rbac, alice, big).allowed).toBe(false);
    expect(canWriteRole(withEscalate, alice, big).allowed).toBe(true);
    const aggregated: RoleModel = {
      ...role('agg', undefined, []),
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { a: 'b' } }] },
    };
    const admins = compileRbac({
      roles: [],
      bindings: [
        binding('ca', undefined, { kind: 'ClusterRole', name: 'cluster-admin' }, [
          { kind: 'User', name: 'alice' },
        ]),
      ],
    });
    expect(canWriteRole(admins, alice, aggregated).allowed).toBe(true);
    const crWriter = compileRbac({
      roles: [
        role('cr', undefined, [
          rule({ verbs: ['create'], apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'] }),
        ]),
      ],
      bindings: [
        binding('cr', undefined, { kind: 'ClusterRole', name: 'cr' }, [{ kind: 'User', name: 'alice' }]),
      ],
    });
    expect(canWriteRole(crWriter, alice, aggregated).error).toMatch(
      /must have cluster-admin privileges to use the aggregationRule/,
    );
  });
  it('covers literally: a * verb is covered only by *', () => {
    expect(
      uncovered(
        [rule({ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] })],
        [rule({ verbs: ['*'], apiGroups: [''], resources: ['pods'] })],
      ),
    ).toHaveLength(1);
    expect(
      uncovered(
        [rule({ verbs: ['get'], apiGroups: [''], resources: ['*/log'] })],
        [rule({ verbs: ['get'], apiGroups: [''], resources: ['pods/log'] })],
      ),
    ).toEqual([]);
  });
});

describe('reading manifests', () => {
  it('reports every problem with its field path', () => {
    const { problems } = buildRbacModel([
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'r' },
        rules: [
          { verbs: ['get'], resources: ['pods'] },
          { nonResourceURLs: ['/x'], verbs: ['get'] },
        ],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'b' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' },
        subjects: [],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'c' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' },
        subjects: [
          { kind: 'ServiceAccount', name: 'system:serviceaccount:a:b' },
          { kind: 'user', name: 'x' },
        ],
      },
    ]);
    expect(problems.map((p) => `${p.index} ${p.path}`)).toEqual([
      '0 rules[0].apiGroups',
      '0 rules[1].nonResourceURLs',
      '1 roleRef.kind',
      '2 subjects[0].name',
      '2 subjects[1].kind',
    ]);
  });
  it('resolves resources as kubectl does', () => {
    expect(parseResourceRequest('get', 'deploy', undefined, 'x').request).toEqual({
      kind: 'resource',
      verb: 'get',
      apiGroup: 'apps',
      resource: 'deployments',
      namespace: 'x',
    });
    expect(parseResourceRequest('get', 'pods/log', 'web', 'x').request).toMatchObject({
      resource: 'pods',
      subresource: 'log',
      name: 'web',
    });
    const nodes = parseResourceRequest('list', 'nodes', undefined, 'x');
    expect(nodes.request).not.toHaveProperty('namespace');
    expect(nodes.warnings[0]).toMatch(/not namespace scoped/);
    expect(parseResourceRequest('get', '/healthz', undefined, 'x').request).toEqual({
      kind: 'nonResource',
      verb: 'get',
      path: '/healthz',
    });
  });
});
