/**
 * Pod Security labs psa-baseline-warn and psa-privileged-pod prove themselves on the simulated
 * cluster as `kubelab lab test` does, with the whole set of failing checks per attempt pinned, so
 * a scenario or check change that lets a mistake through by another route shows up here. A
 * namespace relabelled with kubectl (the editor refuses it) fails too.
 */
import { describe, expect, it } from 'vitest';
import { gradeLab } from '../../server/grader/index.js';
import { loadScenario } from '../../server/labs/index.js';
import { caseFile, notPassing, selfTestedLabs } from './support.js';

/** Case file (relative to the lab folder; lab.yaml = nothing applied) -> checks that do not pass. */
const PINNED: Record<string, Record<string, string[]>> = {
  'psa-baseline-warn': {
    'lab.yaml': [
      'namespace-enforces-baseline',
      'namespace-warns-and-audits-restricted',
      'privileged-pod-refused',
      'restricted-violation-warned',
    ],
    'solution.yaml': [],
    'wrong/01-enforce-restricted.yaml': [
      'namespace-enforces-baseline',
      'restricted-violation-warned',
      'workloads-admitted',
      'reports-running',
    ],
    'wrong/02-warn-baseline.yaml': [
      'namespace-enforces-baseline',
      'namespace-warns-and-audits-restricted',
      'privileged-pod-refused',
      'restricted-violation-warned',
    ],
    'wrong/03-no-warn-label.yaml': ['namespace-warns-and-audits-restricted', 'restricted-violation-warned'],
    'wrong/04-no-audit-label.yaml': ['namespace-warns-and-audits-restricted'],
    'wrong/05-old-version.yaml': ['namespace-enforces-baseline'],
    'wrong/06-labels-only.yaml': ['workloads-admitted'],
    'wrong/07-hostpath-kept.yaml': ['workloads-admitted', 'reports-running'],
    'wrong/08-privileged-kept.yaml': ['workloads-admitted', 'reports-running'],
    'wrong/09-scratch-volume-removed.yaml': ['reports-keeps-scratch'],
    'wrong/10-reports-scaled-to-zero.yaml': ['scenario-intact', 'reports-running'],
    'right/01-versions-latest.yaml': [],
    'right/02-reports-restricted.yaml': [],
  },
  'psa-privileged-pod': {
    'lab.yaml': ['proxy-admitted', 'proxy-running'],
    'solution.yaml': [],
    'wrong/01-privileged-off-only.yaml': ['proxy-admitted', 'proxy-running'],
    'wrong/02-host-pid-kept.yaml': ['proxy-admitted', 'proxy-running'],
    'wrong/03-host-port-kept.yaml': ['proxy-admitted', 'proxy-running'],
    'wrong/04-sys-admin-kept.yaml': ['proxy-admitted', 'proxy-running'],
    'wrong/05-nonroot-without-user.yaml': ['proxy-running'],
    'wrong/06-scaled-to-zero.yaml': ['scenario-intact', 'proxy-running'],
    'wrong/07-fixed-copy-beside.yaml': ['proxy-admitted', 'proxy-running'],
    'wrong/08-other-port.yaml': ['scenario-intact'],
    'wrong/09-image-swapped.yaml': ['scenario-intact'],
    'right/01-drop-all-add-net-bind.yaml': [],
    'right/02-host-fields-false.yaml': [],
  },
};

const IDS = Object.keys(PINNED);
const { labs, results, clusters, report } = selfTestedLabs(IDS);
const messages = (id: string, file: string, check: string) =>
  report(id, file)
    .checks.find((c) => c.id === check)!
    .messages.join('\n');

describe.each(IDS)('%s', (id) => {
  it('passes its own self-test with no surviving mutant', () => {
    const r = results.get(id)!;
    expect(r.cases.filter((c) => !c.ok).map((c) => `${c.file}: ${c.problems.join(' | ')}`)).toEqual([]);
    expect(r.mutants!.survived).toEqual([]);
    expect(r.mutants!.failingEquivalent).toEqual([]);
    expect(r.mutants!.caught).toBe(r.mutants!.behaviourChanging);
    expect(r.mutants!.behaviourChanging).toBeGreaterThan(0);
    expect(r.ok).toBe(true);
  });

  it('fails exactly the pinned set of checks for every case', () => {
    const table: Record<string, string[]> = {};
    for (const c of results.get(id)!.cases) table[caseFile(id, c.file)] = notPassing(c.report);
    expect(table).toEqual(PINNED[id]);
  });

  it('states its domain, competency and the mistakes it catches', () => {
    const lab = labs.get(id)!;
    expect(lab.domain).toBe('podsecurity');
    expect(lab.competency).toMatch(/^CKS /);
    expect(lab.knownWrong.length).toBeGreaterThanOrEqual(8);
  });
});

describe('the reports name the cause', () => {
  it('psa-baseline-warn: each baseline violation of reports, and api refused under restricted', () => {
    const id = 'psa-baseline-warn';
    expect(messages(id, 'wrong/07-hostpath-kept.yaml', 'workloads-admitted')).toMatch(
      /Deployment reports \(its pods\) would be refused: .*violates PodSecurity "baseline:latest": hostPath volumes/,
    );
    expect(messages(id, 'wrong/08-privileged-kept.yaml', 'workloads-admitted')).toMatch(
      /violates PodSecurity "baseline:latest": privileged/,
    );
    expect(messages(id, 'wrong/01-enforce-restricted.yaml', 'workloads-admitted')).toMatch(
      /Deployment api \(its pods\) would be refused: .*"restricted:latest"/,
    );
    expect(messages(id, 'wrong/03-no-warn-label.yaml', 'restricted-violation-warned')).toMatch(
      /admitted without any warning/,
    );
  });

  it('psa-privileged-pod: the one violation left in each partial fix', () => {
    const id = 'psa-privileged-pod';
    const cases = {
      'wrong/02-host-pid-kept.yaml': /host namespaces \(hostPID=true\)$/,
      'wrong/03-host-port-kept.yaml': /hostPort \(container "proxy" uses hostPort 80\)$/,
      'wrong/04-sys-admin-kept.yaml':
        /non-default capabilities \(container "proxy" must not include "SYS_ADMIN"/,
    };
    for (const [file, pattern] of Object.entries(cases))
      expect(messages(id, file, 'proxy-admitted'), file).toMatch(pattern);
  });
});

describe('psa-privileged-pod: the namespace is not the learner’s to relabel', () => {
  it('fails scenario-intact and namespace-enforces-baseline when psa-edge is relabelled privileged with kubectl', async () => {
    const lab = labs.get('psa-privileged-pod')!;
    const scenario = await loadScenario(lab.scenario, lab.scenariosRoot);
    const cluster = await clusters.fresh(scenario);
    // kubectl label --overwrite bypasses the editor's guard: the grader must still see it.
    await cluster.apply([
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name: 'psa-edge',
          labels: { team: 'edge', 'pod-security.kubernetes.io/enforce': 'privileged' },
        },
      },
    ]);
    const r = await gradeLab({ lab, scenario, cluster });
    expect(r.passed).toBe(false);
    const failing = notPassing(r);
    expect(failing).toContain('scenario-intact');
    expect(failing).toContain('namespace-enforces-baseline');
    expect(failing).not.toContain('proxy-admitted');
  });
});
