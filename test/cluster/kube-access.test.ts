/**
 * Access questions on a real cluster's path: SubjectAccessReviews and discovery, through
 * KubeCluster over HTTP against the simulated API server (which answers both from the RBAC
 * engine and its kinds), and the seams' failure handling with injected functions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectKube, type KubeCluster } from '../../server/cluster/kube.js';
import { reviewAccessWith, servedResourcesWith } from '../../server/cluster/kube-access.js';
import { isKubelabError } from '../../server/errors.js';
import { startSim, stopSim, type StartedSim } from './sim/api/support.js';
import type { AccessQuery } from '../../server/cluster/types.js';

const SA_GROUPS = ['system:serviceaccounts', 'system:serviceaccounts:np-lab', 'system:authenticated'];
const q = (verb: string, resource: string, namespace?: string): AccessQuery => ({
  user: 'system:serviceaccount:np-lab:reader',
  groups: SA_GROUPS,
  verb,
  group: '',
  resource,
  ...(namespace ? { namespace } : {}),
});

describe('KubeCluster.reviewAccess and servedResources against the simulated API', () => {
  let sim: StartedSim;
  let kube: KubeCluster;

  beforeAll(async () => {
    sim = await startSim();
    kube = await connectKube({ kubeconfig: sim.kubeconfigPath });
    await kube.apply([
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'reader', namespace: 'np-lab' },
        rules: [{ apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get', 'list'] }],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'reader', namespace: 'np-lab' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: 'np-lab' }],
      },
    ]);
  });
  afterAll(async () => {
    await stopSim(sim);
  });

  it('answers each review in order, with the authorizer reason', async () => {
    const answers = await kube.reviewAccess([
      q('list', 'pods', 'np-lab'),
      q('delete', 'pods', 'np-lab'),
      { ...q('get', 'pods', 'np-lab'), subresource: 'log', name: 'x' },
      q('list', 'pods'),
    ]);
    expect(answers.map((a) => a.allowed)).toEqual([true, false, true, false]);
    expect(answers[0]!.reason).toBe(
      'RBAC: allowed by RoleBinding "reader/np-lab" of Role "reader" to ServiceAccount "reader/np-lab"',
    );
  });

  it('lists every served resource and subresource', async () => {
    const served = await kube.servedResources();
    expect(served).toContainEqual(
      expect.objectContaining({ group: '', resource: 'pods', subresource: 'log', namespaced: true }),
    );
    expect(served).toContainEqual(
      expect.objectContaining({ group: 'apps', version: 'v1', resource: 'deployments', namespaced: true }),
    );
    expect(served).toContainEqual(
      expect.objectContaining({ group: '', resource: 'nodes', namespaced: false }),
    );
  });
});

describe('the seams fail as environment errors, never as answers', () => {
  it('a review that throws is an ENVIRONMENT error naming the question', async () => {
    const err = await reviewAccessWith(async () => {
      throw new Error('HTTP 403');
    }, [q('get', 'pods', 'np-lab')]).catch((e: unknown) => e);
    expect(isKubelabError(err) && err.code).toBe('ENVIRONMENT');
    expect((err as Error).message).toContain('get pods in np-lab');
  });

  it('a review without status.allowed is an ENVIRONMENT error', async () => {
    const err = await reviewAccessWith(async () => ({ status: {} }), [q('get', 'pods')]).catch(
      (e: unknown) => e,
    );
    expect(isKubelabError(err) && err.code).toBe('ENVIRONMENT');
  });

  it('keeps evaluationError', async () => {
    const [a] = await reviewAccessWith(
      async () => ({ status: { allowed: false, evaluationError: 'role.rbac "x" not found' } }),
      [q('get', 'pods')],
    );
    expect(a).toEqual({ allowed: false, reason: '', evaluationError: 'role.rbac "x" not found' });
  });

  it('discovery with nothing in it is an ENVIRONMENT error', async () => {
    const err = await servedResourcesWith(async () => ({})).catch((e: unknown) => e);
    expect(isKubelabError(err) && err.code).toBe('ENVIRONMENT');
  });
});
