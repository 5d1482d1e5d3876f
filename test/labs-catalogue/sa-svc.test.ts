/**
 * The ServiceAccount and Service troubleshooting labs (sa-automount, svc-broken-service) prove
 * themselves as `kubelab lab test` does, with zero surviving mutants; the whole set of failing
 * checks per attempt is pinned, and a probe through the learner's Service that fails is the
 * learner's result, never a broken environment.
 */
import { describe, expect, it } from 'vitest';
import { caseFile, notPassing, selfTestedLabs } from './support.js';

/** Case file (relative to the lab folder; lab.yaml = nothing applied) -> checks that do not pass. */
const EXPECTED: Record<string, Record<string, string[]>> = {
  'sa-automount': {
    'lab.yaml': ['web-no-token', 'worker-no-token'],
    'solution.yaml': [],
    'wrong/01-default-sa-only.yaml': ['worker-no-token'],
    'wrong/02-operator-too.yaml': ['operator-has-token'],
    'wrong/03-account-off-pod-on.yaml': ['worker-no-token'],
    'wrong/04-accounts-without-restart.yaml': ['web-no-token', 'worker-no-token'],
    'wrong/05-every-account-off.yaml': ['operator-has-token'],
    'wrong/06-worker-scaled-to-zero.yaml': ['scenario-intact', 'worker-no-token'],
    'right/01-service-accounts.yaml': [],
    'right/02-all-accounts-off-operator-opts-in.yaml': [],
    'right/03-both-levels.yaml': [],
  },
  'svc-broken-service': {
    'lab.yaml': ['client-reaches-api', 'service-selects-api', 'service-targets-http'],
    'solution.yaml': [],
    'wrong/01-selector-only.yaml': ['client-reaches-api', 'service-targets-http'],
    'wrong/02-target-port-only.yaml': ['client-reaches-api', 'service-selects-api'],
    'wrong/03-admin-selected.yaml': ['service-selects-api', 'service-targets-http'],
    'wrong/04-shared-label.yaml': ['service-selects-api'],
    'wrong/05-metrics-port.yaml': ['service-targets-http'],
    'wrong/06-port-renamed-on-pods.yaml': ['scenario-intact', 'service-targets-http'],
    'right/01-numeric-target-port.yaml': [],
    'right/02-two-label-selector.yaml': [],
  },
};

const IDS = Object.keys(EXPECTED);
const { labs, results } = selfTestedLabs(IDS);

describe.each(IDS)('%s', (id) => {
  it('passes its own self-test with every behaviour-changing mutant caught', () => {
    const r = results.get(id)!;
    expect(r.cases.filter((c) => !c.ok).map((c) => `${c.file}: ${c.problems.join(' | ')}`)).toEqual([]);
    expect(r.mutants?.survived).toEqual([]);
    expect(r.mutants?.failingEquivalent).toEqual([]);
    expect(r.mutants?.caught).toBeGreaterThanOrEqual(4);
    expect(r.ok).toBe(true);
  });

  it('fails exactly the pinned checks for every case, as the learner’s fault', () => {
    const lab = labs.get(id)!;
    expect(lab.domain).toMatch(/^(serviceaccounts|troubleshooting)$/);
    const seen: Record<string, string[]> = {};
    for (const c of results.get(id)!.cases) {
      seen[caseFile(id, c.file)] = notPassing(c.report!).sort();
      const envProblems = c.report!.checks.flatMap((x) => x.probes).filter((p) => p.environmentProblem);
      expect(envProblems, c.file).toEqual([]);
    }
    expect(seen).toEqual(EXPECTED[id]);
  });
});
