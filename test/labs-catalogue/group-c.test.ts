/**
 * Labs of group C (np-allow-monitoring, np-default-deny-all) prove themselves on the simulated
 * cluster: nothing applied fails, the solution and every known-right attempt pass, and every
 * known-wrong attempt fails the check lab.yaml names, as the learner's fault (never as an
 * environment error). The full set of failing checks per attempt is pinned, so a change to a
 * scenario or a check that lets a mistake slip through another way is noticed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadLab } from '../../server/labs/index.js';
import type { Lab } from '../../server/labs/model.js';
import { selfTestLab, type SelfTestResult } from '../../server/grader/selftest.js';
import { ScenarioClusters } from '../../server/grader/simulated.js';
import type { GradeReport, ProbeResult } from '../../server/grader/report.js';

const SELF_TEST_TIMEOUT_MS = 180_000;

/** Failing checks per case, keyed by the case's file relative to the lab folder. */
type FailTable = Record<string, string[]>;

const EXPECTED: Record<string, FailTable> = {
  'np-allow-monitoring': {
    'lab.yaml': ['policy-exists', 'prometheus-scrapes-every-pod'],
    'solution.yaml': [],
    'wrong/01-pod-selector-only.yaml': ['prometheus-scrapes-every-pod'],
    'wrong/02-namespace-selector-only.yaml': ['grafana-blocked'],
    'wrong/03-namespace-or-pod.yaml': ['grafana-blocked'],
    'wrong/04-shared-team-label.yaml': ['sandbox-prometheus-blocked'],
    'wrong/05-named-port-metrics.yaml': ['prometheus-scrapes-every-pod'],
    'wrong/06-no-ports.yaml': ['prometheus-only-metrics'],
    'wrong/07-web-and-api-only.yaml': ['policy-exists', 'prometheus-scrapes-every-pod'],
    'wrong/08-prometheus-egress-only.yaml': ['policy-exists', 'prometheus-scrapes-every-pod'],
    'wrong/09-ingress-and-egress-types.yaml': ['app-traffic-unaffected'],
    'wrong/10-allow-all-namespaces.yaml': ['sandbox-prometheus-blocked'],
    'right/01-both-port-names.yaml': [],
    'right/02-namespace-match-expressions.yaml': [],
    'right/03-port-range.yaml': [],
  },
};

const LAB_IDS = Object.keys(EXPECTED);
const labs = new Map<string, Lab>();
const results = new Map<string, SelfTestResult>();

beforeAll(async () => {
  const clusters = new ScenarioClusters();
  for (const id of LAB_IDS) {
    const lab = await loadLab(id);
    labs.set(id, lab);
    results.set(id, await selfTestLab(lab, { clusters }));
  }
}, SELF_TEST_TIMEOUT_MS);

const relativeToLab = (id: string, file: string) => file.replace(`labs/${id}/`, '');
const failing = (r: GradeReport | undefined) =>
  (r?.checks ?? []).filter((c) => c.status !== 'pass').map((c) => c.id);
const reportOf = (id: string, file: string): GradeReport => {
  const c = results.get(id)!.cases.find((x) => relativeToLab(id, x.file) === file);
  expect(c?.report, `a report for ${file}`).toBeDefined();
  return c!.report!;
};
const probesOf = (r: GradeReport, checkId: string): ProbeResult[] =>
  r.checks.find((c) => c.id === checkId)?.probes ?? [];

describe.each(LAB_IDS)('%s', (id) => {
  it('passes its own self-test (kubelab lab test)', () => {
    const r = results.get(id)!;
    const problems = r.cases.filter((c) => !c.ok).map((c) => `${c.file}: ${c.problems.join(' | ')}`);
    expect(problems).toEqual([]);
    expect(r.ok).toBe(true);
  });

  it('states its competency and the mistake it catches, with at least 4 known-wrong attempts', () => {
    const lab = labs.get(id)!;
    expect(lab.competency).toMatch(/CK[AS]/);
    expect(lab.catches.length).toBeGreaterThan(40);
    expect(lab.knownWrong.length).toBeGreaterThanOrEqual(4);
    expect((lab.knownRight ?? []).length).toBeGreaterThanOrEqual(1);
  });

  it('fails each known-wrong attempt on the check it names, as the learner’s fault', () => {
    const lab = labs.get(id)!;
    for (const wrong of lab.knownWrong) {
      const report = reportOf(id, wrong.file);
      expect(report.status, wrong.file).toBe('failed');
      const named = report.checks.find((c) => c.id === wrong.failsCheck);
      expect(named?.status, `${wrong.file} on ${wrong.failsCheck}`).toBe('fail');
      // Every failing probe is explained by the policies, not by a broken environment.
      const probes = report.checks.flatMap((c) => c.probes).filter((p) => !p.passed);
      expect(
        probes.filter((p) => p.environmentProblem !== undefined),
        wrong.file,
      ).toEqual([]);
    }
  });

  it('fails exactly the pinned set of checks for every case', () => {
    const table: FailTable = {};
    for (const c of results.get(id)!.cases) table[relativeToLab(id, c.file)] = failing(c.report);
    expect(table).toEqual(EXPECTED[id]);
  });
});

describe('np-allow-monitoring probes what its task promises', () => {
  it('scrapes every pod of mon-app (sidecar exporter included) from Prometheus, and only from it', () => {
    const r = reportOf('np-allow-monitoring', 'solution.yaml');
    const scrape = probesOf(r, 'prometheus-scrapes-every-pod');
    const targets = new Set(scrape.map((p) => p.to.replace(/^metrics port \((mon-app\/[a-z]+)-.*$/, '$1')));
    expect([...targets].sort()).toEqual(['mon-app/api', 'mon-app/cache', 'mon-app/web']);
    expect(scrape).toHaveLength(4); // two web pods, api, cache
    expect(scrape.every((p) => p.port === 9100 && p.actual === 'allowed')).toBe(true);
    for (const check of ['grafana-blocked', 'sandbox-prometheus-blocked']) {
      const probes = probesOf(r, check);
      expect(probes, check).toHaveLength(4);
      expect(probes.every((p) => p.actual === 'blocked')).toBe(true);
    }
    const sandbox = probesOf(r, 'sandbox-prometheus-blocked');
    expect(sandbox.every((p) => p.from.startsWith('mon-sandbox/prometheus-'))).toBe(true);
  });

  it('keeps the application ports closed to Prometheus, the api debug port included', () => {
    const r = reportOf('np-allow-monitoring', 'solution.yaml');
    const ports = probesOf(r, 'prometheus-only-metrics').map((p) => p.port);
    expect(new Set(ports)).toEqual(new Set([8080, 6060, 6379]));
  });

  it('names the cache pod when the rule uses the port name "metrics"', () => {
    const r = reportOf('np-allow-monitoring', 'wrong/05-named-port-metrics.yaml');
    const failed = probesOf(r, 'prometheus-scrapes-every-pod').filter((p) => !p.passed);
    expect(failed).toHaveLength(1);
    expect(failed[0]!.to).toMatch(/mon-app\/cache-/);
    expect(failed[0]!.explanation).toMatch(/^blocked: ingress to mon-app\/cache-/);
  });
});
