/**
 * The guard on scenario objects with a changeable cluster-scoped object: a learner may replace the
 * ClusterRoleBinding the lab lists, never any other object the scenario ships.
 */
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../server/cluster/types.js';
import { KubelabError } from '../../server/errors.js';
import { guardScenarioObjects, scenarioObjects } from '../../server/grader/scenario-objects.js';
import { loadLab, loadScenario } from '../../server/labs/index.js';

const obj = (
  apiVersion: string,
  kind: string,
  name: string,
  namespace?: string,
  rest: object = {},
): KubeObject =>
  ({ apiVersion, kind, metadata: { name, ...(namespace ? { namespace } : {}) }, ...rest }) as KubeObject;

const RBAC = 'rbac.authorization.k8s.io/v1';
const emptied = obj(RBAC, 'ClusterRoleBinding', 'exporter-admin', undefined, {
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
  subjects: [],
});

function refusal(
  submitted: KubeObject[],
  scenario: KubeObject[],
  lab: Parameters<typeof guardScenarioObjects>[2],
) {
  try {
    guardScenarioObjects(submitted, scenario, lab);
  } catch (e) {
    if (e instanceof KubelabError) return e.message;
    throw e;
  }
  return undefined;
}

describe('guardScenarioObjects with a changeable ClusterRoleBinding', async () => {
  const lab = await loadLab('rbac-cut-clusterrolebinding');
  const scenario = await scenarioObjects(await loadScenario(lab.scenario, lab.scenariosRoot));

  it('lets the learner replace the ClusterRoleBinding the lab lists as changeable', () => {
    expect(
      scenario.some((o) => o.kind === 'ClusterRoleBinding' && o.metadata.name === 'exporter-admin'),
    ).toBe(true);
    expect(refusal([emptied], scenario, lab)).toBeUndefined();
  });

  it('refuses the same replacement when the lab does not list it', () => {
    expect(refusal([emptied], scenario, { ...lab, changeable: [] })).toMatch(
      /ClusterRoleBinding exporter-admin belongs to the scenario of lab rbac-cut-clusterrolebinding/,
    );
    // Listed with a namespace (as the loader once filled in), it would protect nothing it names.
    const withNamespace = {
      ...lab,
      changeable: lab.changeable!.map((c) => ({ ...c, namespace: lab.namespace })),
    };
    expect(refusal([emptied], scenario, withNamespace)).toMatch(/ClusterRoleBinding exporter-admin belongs/);
  });

  it('still refuses every other scenario object, beside the changeable one', () => {
    for (const other of [
      obj('v1', 'ServiceAccount', 'exporter', 'reports'),
      obj('v1', 'Secret', 'exporter-s3', 'reports'),
      obj('apps/v1', 'Deployment', 'exporter', 'reports'),
      obj('v1', 'Namespace', 'billing'),
    ])
      expect(refusal([emptied, other], scenario, lab)).toBe(
        `${other.kind} ${other.metadata.namespace ? `${other.metadata.namespace}/` : ''}${other.metadata.name} belongs to the scenario of lab rbac-cut-clusterrolebinding and cannot be changed or replaced.`,
      );
  });
});
