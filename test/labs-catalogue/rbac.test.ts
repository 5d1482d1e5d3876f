/**
 * The RBAC labs prove themselves as `kubelab lab test` does, with zero surviving mutants, and the
 * implicit "nobody else's access changes" check catches rights handed to a subject no access
 * check names (a false pass before it existed).
 */
import { describe, expect, it } from 'vitest';
import { caseFile, notPassing, selfTestedLabs } from './support.js';

const IDS = [
  'rbac-ci-deployer',
  'rbac-support-logs',
  'rbac-edit-no-secrets',
  'rbac-aggregated-clusterrole',
  'rbac-cut-clusterrolebinding',
];
const { results } = selfTestedLabs(IDS);

describe.each(IDS)('%s', (id) => {
  it('passes its own self-test with every behaviour-changing mutant caught', () => {
    const r = results.get(id)!;
    expect(r.cases.filter((c) => !c.ok).map((c) => `${c.file}: ${c.problems.join(' | ')}`)).toEqual([]);
    expect(r.mutants?.survived).toEqual([]);
    expect(r.ok).toBe(true);
  });

  it('runs the implicit others-unchanged check, which the solution and the right answers pass', () => {
    for (const c of results.get(id)!.cases) {
      const check = c.report!.checks.find((x) => x.id === 'others-unchanged');
      expect(check, c.file).toBeDefined();
      const file = caseFile(id, c.file);
      if (file === 'solution.yaml' || file.startsWith('right/')) expect(check!.status, file).toBe('pass');
    }
  });
});

describe('rights handed to a subject no access check names', () => {
  it('fail others-unchanged alone, naming the subject and the binding', () => {
    const c = results
      .get('rbac-cut-clusterrolebinding')!
      .cases.find(
        (x) =>
          caseFile('rbac-cut-clusterrolebinding', x.file) === 'wrong/10-binding-repointed-at-a-user.yaml',
      )!;
    expect(notPassing(c.report!)).toEqual(['others-unchanged']);
    const check = c.report!.checks.find((x) => x.id === 'others-unchanged')!;
    expect(check.messages[0]).toMatch(/^also allowed: bob may .*ClusterRoleBinding exporter-admin/);
  });
});
