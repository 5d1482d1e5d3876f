/**
 * RBAC in the simulated cluster, driven through the real kubectl: the learner's kubeconfig is the
 * admin, `--as`/`--as-group` impersonate, `auth can-i` (a protobuf SelfSubjectAccessReview) and
 * SubjectAccessReviews answer from the RBAC engine, denied requests get the API server's 403, and
 * a user may not grant what it does not hold.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl, kubectlSkipReason, startSim, stopSim, type StartedSim } from './support.js';

const SETUP = `
apiVersion: v1
kind: Namespace
metadata: {name: app}
---
apiVersion: v1
kind: Namespace
metadata: {name: ci}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: deployer, namespace: ci}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: deployer, namespace: app}
rules:
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, create]
- apiGroups: [rbac.authorization.k8s.io]
  resources: [roles]
  verbs: [create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: deployer, namespace: app}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}
subjects:
- {kind: ServiceAccount, name: deployer, namespace: ci}
`;

const SA = '--as=system:serviceaccount:ci:deployer';

describe.skipIf(kubectlSkipReason !== undefined)('RBAC in the simulated cluster (real kubectl)', () => {
  let sim: StartedSim;
  const k = (args: string[], stdin?: string) => kubectl(sim.kubeconfigPath, args, stdin);

  beforeAll(async () => {
    sim = await startSim();
    const applied = await k(['apply', '-f', '-'], SETUP);
    expect(applied.code, applied.stderr).toBe(0);
  });
  afterAll(async () => {
    await stopSim(sim);
  });

  it('auth can-i --as answers from the bindings (yes, no, other namespace)', async () => {
    expect(await k(['auth', 'can-i', SA, 'create', 'deployments', '-n', 'app'])).toMatchObject({
      code: 0,
      stdout: 'yes\n',
    });
    const no = await k(['auth', 'can-i', SA, 'delete', 'deployments', '-n', 'app']);
    expect(no.code).toBe(1);
    expect(no.stdout).toMatch(/^no/);
    expect((await k(['auth', 'can-i', SA, 'create', 'deployments', '-n', 'default'])).code).toBe(1);
    // --as-group: the group's bindings, not the ServiceAccount's.
    expect((await k(['auth', 'can-i', '--as=someone', '--as-group=devs', 'get', 'pods'])).code).toBe(1);
    expect((await k(['auth', 'can-i', 'delete', 'nodes'])).stdout).toBe('yes\n');
  });

  it('requests made as the ServiceAccount are authorized: 403 in the API server words', async () => {
    expect((await k(['get', 'deployments', '-n', 'app', SA])).code).toBe(0);
    const denied = await k(['get', 'pods', '-n', 'app', SA]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain(
      'Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:ci:deployer" cannot list resource "pods" in API group "" in the namespace "app"',
    );
    const cluster = await k(['get', 'nodes', SA]);
    expect(cluster.stderr).toContain('cannot list resource "nodes" in API group "" at the cluster scope');
  });

  it('escalation prevention: a Role granting more than its author holds is refused', async () => {
    const role = (name: string, verb: string) =>
      `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"${name}","namespace":"app"},"rules":[{"apiGroups":["apps"],"resources":["deployments"],"verbs":["${verb}"]}]}`;
    const refused = await k(['create', '-f', '-', SA], role('more', 'delete'));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      'roles.rbac.authorization.k8s.io "more" is forbidden: user "system:serviceaccount:ci:deployer"',
    );
    expect(refused.stderr).toContain('is attempting to grant RBAC permissions not currently held');
    const held = await k(['create', '-f', '-', SA], role('same', 'get'));
    expect(held.code, held.stderr).toBe(0);
  });

  it('typed generators (protobuf bodies) are refused with what to do instead', async () => {
    const typed = await k(['create', 'role', 'r1', '-n', 'app', '--verb=get', '--resource=pods']);
    expect(typed.code).toBe(1);
    expect(typed.stderr).toContain('kubectl apply -f or create -f');
  });

  it('SubjectAccessReview answers for the user and groups it names', async () => {
    const sar = JSON.stringify({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: 'system:serviceaccount:ci:deployer',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:ci', 'system:authenticated'],
        resourceAttributes: { verb: 'list', group: 'apps', resource: 'deployments', namespace: 'app' },
      },
    });
    const out = await k(['create', '--validate=false', '-f', '-', '-o', 'jsonpath={.status}'], sar);
    expect(out.code, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual({
      allowed: true,
      reason:
        'RBAC: allowed by RoleBinding "deployer/app" of Role "deployer" to ServiceAccount "deployer/ci"',
    });
  });
});
