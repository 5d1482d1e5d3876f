/**
 * Group A labs (np-default-deny-ingress, np-namespace-isolation, np-and-vs-or) prove themselves on
 * the simulated cluster, as `kubelab lab test` does: nothing applied fails, the solution and the
 * known-right attempts pass, every known-wrong attempt fails the check lab.yaml names and does so
 * as the learner's fault. The whole set of failing checks per attempt is pinned too, so a scenario
 * or check change that lets a mistake through by another route shows up here.
 */
import { describe, expect, it } from 'vitest';
import type { GradeReport, ProbeResult } from '../../server/grader/report.js';
import { caseFile, notPassing, probesOf, selfTestedLabs, workloadOf } from './support.js';

/** Case file (relative to the lab folder; lab.yaml = nothing applied) -> checks that do not pass. */
type FailingChecks = Record<string, string[]>;

const PINNED: Record<string, FailingChecks> = {
  'np-default-deny-ingress': {
    'lab.yaml': [
      'default-deny',
      'allow-policy',
      'frontend-nothing-else',
      'others-cannot-reach-api',
      'namespace-isolated',
      'other-namespaces-blocked',
      'ingress-exactly',
    ],
    'solution.yaml': [],
    'wrong/01-allow-without-default-deny.yaml': [
      'default-deny',
      'frontend-nothing-else',
      'namespace-isolated',
      'other-namespaces-blocked',
      'ingress-exactly',
    ],
    'wrong/02-default-deny-allows-all.yaml': [
      'frontend-nothing-else',
      'others-cannot-reach-api',
      'namespace-isolated',
      'other-namespaces-blocked',
      'ingress-exactly',
    ],
    'wrong/03-default-deny-selects-api-only.yaml': [
      'default-deny',
      'frontend-nothing-else',
      'namespace-isolated',
      'other-namespaces-blocked',
      'ingress-exactly',
    ],
    'wrong/04-allow-every-port.yaml': ['frontend-nothing-else', 'ingress-exactly'],
    'wrong/05-frontend-from-any-namespace.yaml': ['other-namespaces-blocked', 'ingress-exactly'],
    'wrong/06-whole-namespace.yaml': ['others-cannot-reach-api', 'ingress-exactly'],
    'wrong/07-ports-as-separate-rule.yaml': [
      'frontend-nothing-else',
      'others-cannot-reach-api',
      'other-namespaces-blocked',
      'ingress-exactly',
    ],
    'wrong/08-deny-egress-too.yaml': [
      'default-deny',
      'frontend-reaches-api',
      'dns-still-works',
      'egress-unaffected',
      'ingress-exactly',
      'nothing-else-changes',
    ],
    'wrong/09-allow-rule-in-default-deny.yaml': ['frontend-nothing-else', 'ingress-exactly'],
    'wrong/10-egress-on-frontend.yaml': [
      'allow-policy',
      'frontend-reaches-api',
      'egress-unaffected',
      'ingress-exactly',
      'nothing-else-changes',
    ],
    'wrong/11-wrong-namespace.yaml': [
      'default-deny',
      'allow-policy',
      'frontend-nothing-else',
      'others-cannot-reach-api',
      'namespace-isolated',
      'other-namespaces-blocked',
      'ingress-exactly',
      'nothing-else-changes',
    ],
    'wrong/12-named-port.yaml': ['ingress-exactly'],
    'wrong/13-every-port-but-the-probed-ones.yaml': ['ingress-exactly'],
    'wrong/14-udp-left-open.yaml': ['ingress-exactly'],
    'wrong/15-replicas-reach-each-other.yaml': ['ingress-exactly'],
    'wrong/16-notin-admits-strangers.yaml': ['ingress-exactly'],
    'wrong/17-outside-world-admitted.yaml': ['ingress-exactly'],
    'wrong/18-egress-locked-to-probed-paths.yaml': ['nothing-else-changes'],
    'wrong/19-decoy-egress-locked.yaml': ['ingress-exactly'],
    'right/01-policytypes-defaulted.yaml': [],
    'right/03-namespace-and-pod-in-one-peer.yaml': [],
    'right/04-json-list.json': [],
    'right/05-split-allow.yaml': [],
  },
  'np-namespace-isolation': {
    'lab.yaml': [
      'policy-exists',
      'other-teams-blocked',
      'unlabelled-namespace-blocked',
      'own-namespace-blocked',
      'ingress-exactly',
    ],
    'solution.yaml': [],
    'wrong/01-pod-selector-instead-of-namespace.yaml': [
      'payments-reach-app',
      'payments-batch-reach-app',
      'ingress-exactly',
    ],
    'wrong/02-name-label.yaml': ['payments-reach-app', 'payments-batch-reach-app', 'ingress-exactly'],
    'wrong/03-one-namespace-by-name.yaml': ['payments-batch-reach-app', 'ingress-exactly'],
    'wrong/04-or-with-own-namespace.yaml': ['own-namespace-blocked', 'ingress-exactly'],
    'wrong/05-pod-label-any-namespace.yaml': ['payments-reach-app', 'other-teams-blocked', 'ingress-exactly'],
    'wrong/06-pods-must-carry-team-label.yaml': ['payments-reach-app', 'ingress-exactly'],
    'wrong/07-all-namespaces.yaml': [
      'other-teams-blocked',
      'unlabelled-namespace-blocked',
      'own-namespace-blocked',
      'ingress-exactly',
    ],
    'wrong/08-ledger-only.yaml': [
      'policy-exists',
      'other-teams-blocked',
      'unlabelled-namespace-blocked',
      'ingress-exactly',
    ],
    'wrong/09-port-list.yaml': ['payments-reach-app', 'payments-batch-reach-app', 'ingress-exactly'],
    'wrong/10-egress-too.yaml': ['policy-exists', 'egress-unaffected', 'nothing-else-changes'],
    'wrong/11-namespaces-by-name.yaml': ['ingress-exactly'],
    'wrong/12-notin-admits-unlabelled.yaml': ['ingress-exactly'],
    'wrong/13-range-short-of-probed-port.yaml': ['ingress-exactly'],
    'wrong/14-udp-for-everyone.yaml': ['ingress-exactly'],
    'wrong/15-ledger-replicas.yaml': ['ingress-exactly'],
    'wrong/16-outside-world-admitted.yaml': ['ingress-exactly'],
    'wrong/17-egress-locked-to-probed-paths.yaml': ['nothing-else-changes'],
    'wrong/18-everything-but-the-probed-decoys.yaml': ['ingress-exactly'],
    'right/01-match-expressions.yaml': [],
    'right/02-explicit-empty-pod-selector.yaml': [],
    'right/03-separate-default-deny.yaml': [],
    'right/04-policytypes-defaulted.yaml': [],
    'right/05-list-every-protocol.yaml': [],
  },
  'np-and-vs-or': {
    'lab.yaml': [
      'policy-exists',
      'prod-non-clients-blocked',
      'non-prod-clients-blocked',
      'same-namespace-client-blocked',
      'orders-ingress-exactly',
    ],
    'solution.yaml': [],
    'wrong/01-or-two-peers.yaml': [
      'prod-non-clients-blocked',
      'same-namespace-client-blocked',
      'orders-ingress-exactly',
    ],
    'wrong/02-or-two-rules.yaml': [
      'prod-non-clients-blocked',
      'same-namespace-client-blocked',
      'orders-ingress-exactly',
    ],
    'wrong/03-namespace-only.yaml': ['prod-non-clients-blocked', 'orders-ingress-exactly'],
    'wrong/04-pod-only.yaml': [
      'prod-clients-reach-orders',
      'prod-eu-clients-reach-orders',
      'same-namespace-client-blocked',
      'orders-ingress-exactly',
    ],
    'wrong/05-clients-of-any-namespace.yaml': [
      'non-prod-clients-blocked',
      'same-namespace-client-blocked',
      'orders-ingress-exactly',
    ],
    'wrong/06-prod-by-name.yaml': ['prod-eu-clients-reach-orders', 'orders-ingress-exactly'],
    'wrong/07-extra-pod-label.yaml': ['prod-eu-clients-reach-orders', 'orders-ingress-exactly'],
    'wrong/08-label-value-typo.yaml': [
      'prod-clients-reach-orders',
      'prod-eu-clients-reach-orders',
      'orders-ingress-exactly',
    ],
    'wrong/09-selects-every-pod.yaml': ['policy-exists', 'other-pods-unaffected', 'nothing-else-changes'],
    'wrong/10-namespace-in-pod-selector.yaml': [
      'prod-clients-reach-orders',
      'prod-eu-clients-reach-orders',
      'orders-ingress-exactly',
    ],
    'wrong/11-prod-namespaces-by-name.yaml': ['orders-ingress-exactly'],
    'wrong/12-clients-by-app-name.yaml': ['orders-ingress-exactly'],
    'wrong/13-notin-admits-unlabelled.yaml': ['orders-ingress-exactly'],
    'wrong/14-every-port-but-8080.yaml': ['orders-ingress-exactly'],
    'wrong/15-udp-for-everyone.yaml': ['orders-ingress-exactly'],
    'wrong/16-orders-replicas.yaml': ['orders-ingress-exactly'],
    'wrong/17-outside-world-admitted.yaml': ['orders-ingress-exactly'],
    'wrong/18-smoke-test-locked-to-probed-path.yaml': ['nothing-else-changes'],
    'wrong/19-decoy-egress-locked.yaml': ['orders-ingress-exactly'],
    'wrong/20-everything-but-the-probed-decoys.yaml': ['orders-ingress-exactly'],
    'right/01-match-expressions.yaml': [],
    'right/02-keys-swapped.yaml': [],
    'right/03-port-and-separate-deny.yaml': [],
    'right/04-json-duplicate-peers.json': [],
  },
};

const LAB_IDS = Object.keys(PINNED);
const { labs, results, report } = selfTestedLabs(LAB_IDS);
const probes = probesOf;

const sources = (list: ProbeResult[]) => new Set(list.map((p) => p.from));

describe.each(LAB_IDS)('%s', (id) => {
  it('passes its self-test (kubelab lab test)', () => {
    const r = results.get(id)!;
    expect(r.cases.filter((c) => !c.ok).map((c) => `${c.file}: ${c.problems.join(' | ')}`)).toEqual([]);
    expect(r.ok).toBe(true);
  });

  it('says what it trains and what it catches, with >= 4 known-wrong and >= 1 known-right attempts', () => {
    const lab = labs.get(id)!;
    expect(lab.competency).toMatch(/CKA|CKS/);
    expect(lab.catches.length).toBeGreaterThan(40);
    expect(lab.knownWrong.length).toBeGreaterThanOrEqual(4);
    expect((lab.knownRight ?? []).length).toBeGreaterThanOrEqual(1);
  });

  it('fails every known-wrong attempt on its named check, through the policies and not the environment', () => {
    for (const wrong of labs.get(id)!.knownWrong) {
      const r = report(id, wrong.file);
      expect(r.status, wrong.file).toBe('failed');
      expect(
        r.checks.find((c) => c.id === wrong.failsCheck)?.status,
        `${wrong.file}: ${wrong.failsCheck}`,
      ).toBe('fail');
      const failed = r.checks.flatMap((c) => c.probes).filter((p) => !p.passed);
      expect(
        failed.filter((p) => p.environmentProblem !== undefined),
        wrong.file,
      ).toEqual([]);
    }
  });

  it('fails exactly the pinned checks in every case', () => {
    const table: FailingChecks = {};
    for (const c of results.get(id)!.cases) table[caseFile(id, c.file)] = notPassing(c.report);
    expect(table).toEqual(PINNED[id]);
  });

  it('catches every behaviour-changing mutant of its solution and passes every equivalent one', () => {
    const m = results.get(id)!.mutants!;
    expect(m.survived).toEqual([]);
    expect(m.failingEquivalent).toEqual([]);
    expect(m.errors).toEqual([]);
    expect(m.behaviourChanging).toBeGreaterThan(0);
    expect(m.caught).toBe(m.behaviourChanging);
  });

  it('names a concrete connection and the rule or isolation behind it for every attempt failing a statement of intent', () => {
    const lab = labs.get(id)!;
    const statements = new Set(
      lab.checks.filter((c) => c.kind === 'traffic' || c.kind === 'unchanged').map((c) => c.id),
    );
    const hostile = lab.knownWrong.filter((w) => statements.has(w.failsCheck));
    expect(hostile.length).toBeGreaterThanOrEqual(4);
    for (const wrong of hostile) {
      const first = statementMessages(report(id, wrong.file), wrong.failsCheck)[0] ?? '';
      expect(first, wrong.file).toMatch(COUNTEREXAMPLE);
      expect(first, wrong.file).toMatch(
        /^(also|newly) reachable/.test(first)
          ? /(allowed|admitted) by [a-z0-9-]+\/[a-z0-9-]+ (ingress|egress) rule \d+/
          : /restricted by [a-z0-9-]+\/[a-z0-9-]+/,
      );
    }
  });
});

/** `also reachable: SOURCE -> DESTINATION on PORTS, ...` (the verdict may carry a note in brackets): one concrete connection, in words. */
const COUNTEREXAMPLE =
  /^(also reachable|not reachable|newly reachable|no longer reachable)(?: \([^)]*\))?: \S.* -> \S.* on (TCP|UDP|SCTP|every port) /;

function statementMessages(r: GradeReport, checkId: string): string[] {
  const check = r.checks.find((c) => c.id === checkId);
  expect(check?.status, `${checkId} fails`).toBe('fail');
  return check!.messages;
}

/** Asserts that one of a failed statement's counterexamples matches every pattern given. */
function expectCounterexample(id: string, file: string, checkId: string, ...patterns: RegExp[]) {
  const messages = statementMessages(report(id, file), checkId);
  expect(
    messages.some((m) => patterns.every((p) => p.test(m))),
    `${id} ${file}: a counterexample matching ${patterns.join(' and ')} in\n${messages.join('\n')}`,
  ).toBe(true);
}

describe('np-default-deny-ingress: the hostile answers fail with the connection they open or close', () => {
  const id = 'np-default-deny-ingress';
  it('names the ports, protocol and addresses beside the probed ones', () => {
    expectCounterexample(
      id,
      'wrong/13-every-port-but-the-probed-ones.yaml',
      'ingress-exactly',
      /^also reachable: .* -> ndi-app\/.* on TCP 1-8079, 8081-9089, 9091-65535, /,
      /ndi-app\/default-deny-ingress ingress rule 1/,
    );
    expectCounterexample(
      id,
      'wrong/14-udp-left-open.yaml',
      'ingress-exactly',
      /^also reachable: .* on UDP 1-65535, /,
    );
    expectCounterexample(
      id,
      'wrong/17-outside-world-admitted.yaml',
      'ingress-exactly',
      /^also reachable: \S+ \(any IPv4 address outside the cluster\) -> ndi-app\//,
    );
  });

  it('names two replicas of one app, and pods that do not exist yet', () => {
    expectCounterexample(
      id,
      'wrong/15-replicas-reach-each-other.yaml',
      'ingress-exactly',
      /^also reachable: ndi-app\/api\b -> ndi-app\/api\b on /,
      /ndi-app\/api-peers ingress rule 1/,
    );
    expectCounterexample(
      id,
      'wrong/19-decoy-egress-locked.yaml',
      'ingress-exactly',
      /^also reachable: a new pod in namespace \S+ with app=frontend -> ndi-app\/api\b on TCP 8080, /,
    );
    expectCounterexample(
      id,
      'wrong/12-named-port.yaml',
      'ingress-exactly',
      /^not reachable: ndi-app\/frontend\b -> a new pod in namespace ndi-app with app=api on TCP 8080\b/,
    );
    expectCounterexample(
      id,
      'wrong/12-named-port.yaml',
      'ingress-exactly',
      /naming the port "http" on TCP 1-8079, 8081-65535/,
    );
  });

  it('names an outgoing connection cut by an egress allow-list of exactly the probed paths', () => {
    expectCounterexample(
      id,
      'wrong/18-egress-locked-to-probed-paths.yaml',
      'nothing-else-changes',
      /^no longer reachable(?: \([^)]*\))?: ndi-app\/\S+ -> /,
      /\(open with the scenario alone\)/,
      /ndi-app\/egress-allowlist/,
    );
  });
});

describe('np-namespace-isolation: the hostile answers fail with the connection they open or close', () => {
  const id = 'np-namespace-isolation';
  it('names a future team=payments namespace left out, and unlabelled namespaces let in', () => {
    expectCounterexample(
      id,
      'wrong/11-namespaces-by-name.yaml',
      'ingress-exactly',
      /^not reachable: a new pod in a new namespace labelled team=payments with any labels -> nsi-app\//,
    );
    expectCounterexample(
      id,
      'wrong/12-notin-admits-unlabelled.yaml',
      'ingress-exactly',
      /^also reachable: kube-system\/coredns\b -> nsi-app\/ledger\b/,
    );
  });

  it('names the ports, protocol, replicas and addresses beside the probed ones', () => {
    expectCounterexample(
      id,
      'wrong/13-range-short-of-probed-port.yaml',
      'ingress-exactly',
      / on TCP 1024-8079, /,
    );
    expectCounterexample(id, 'wrong/14-udp-for-everyone.yaml', 'ingress-exactly', / on UDP 1-65535, /);
    expectCounterexample(
      id,
      'wrong/15-ledger-replicas.yaml',
      'ingress-exactly',
      /^also reachable: nsi-app\/ledger\b -> nsi-app\/ledger\b on every port of TCP, UDP and SCTP/,
    );
    expectCounterexample(
      id,
      'wrong/16-outside-world-admitted.yaml',
      'ingress-exactly',
      /outside the cluster\) -> nsi-app\//,
    );
  });
});

describe('np-and-vs-or: the hostile answers fail with the connection they open or close', () => {
  const id = 'np-and-vs-or';
  it('names future prod namespaces and clients left out, and unlabelled namespaces let in', () => {
    expectCounterexample(
      id,
      'wrong/11-prod-namespaces-by-name.yaml',
      'orders-ingress-exactly',
      /^not reachable: a new pod in a new namespace labelled env=prod with .*role=client -> avo-shared\/orders\b/,
    );
    expectCounterexample(
      id,
      'wrong/12-clients-by-app-name.yaml',
      'orders-ingress-exactly',
      /^not reachable: a new pod in namespace avo-prod with .*role=client -> /,
    );
    expectCounterexample(
      id,
      'wrong/12-clients-by-app-name.yaml',
      'orders-ingress-exactly',
      /^also reachable: a new pod in namespace avo-prod with app=web\|mobile-bff, role not in \(client\) -> /,
    );
    expectCounterexample(
      id,
      'wrong/13-notin-admits-unlabelled.yaml',
      'orders-ingress-exactly',
      /^also reachable: a new pod in namespace (default|kube-\S+) with .*role=client -> avo-shared\/orders\b/,
    );
    expectCounterexample(
      id,
      'wrong/19-decoy-egress-locked.yaml',
      'orders-ingress-exactly',
      /^also reachable: a new pod in namespace avo-prod with .*role not in \(batch, client\) -> avo-shared\/orders\b/,
    );
  });

  it('tolerates other ports for prod clients but not for anyone else', () => {
    expectCounterexample(
      id,
      'wrong/14-every-port-but-8080.yaml',
      'orders-ingress-exactly',
      /^also reachable: avo-prod\/cron\b -> avo-shared\/orders\b on TCP 1-8079, 8081-65535, /,
    );
    const messages = statementMessages(
      report(id, 'wrong/14-every-port-but-8080.yaml'),
      'orders-ingress-exactly',
    );
    expect(messages.some((m) => /^also reachable: avo-prod(-eu)?\/(web|mobile-bff)\b/.test(m))).toBe(false);
    expectCounterexample(id, 'wrong/15-udp-for-everyone.yaml', 'orders-ingress-exactly', / on UDP 8080, /);
    expectCounterexample(
      id,
      'wrong/16-orders-replicas.yaml',
      'orders-ingress-exactly',
      /^also reachable: avo-shared\/orders\b -> avo-shared\/orders\b /,
    );
  });

  it('names a client cut off from smoke-test when smoke-test is locked to the probed path', () => {
    expectCounterexample(
      id,
      'wrong/18-smoke-test-locked-to-probed-path.yaml',
      'nothing-else-changes',
      /^no longer reachable(?: \([^)]*\))?: \S+ -> avo-shared\/smoke-test\b/,
      /avo-shared\/smoke-test-from-staging/,
    );
  });
});

describe('np-default-deny-ingress probes what its task promises', () => {
  const id = 'np-default-deny-ingress';

  it('probes the API on 8080 from both frontend pods, by Service name', () => {
    const open = probes(report(id, 'solution.yaml'), 'frontend-reaches-api');
    expect(open).toHaveLength(2);
    expect([...sources(open)].map(workloadOf)).toEqual(['ndi-app/frontend', 'ndi-app/frontend']);
    expect(open.every((p) => p.port === 8080 && p.actual === 'allowed')).toBe(true);
    expect(open.every((p) => /api-allow-frontend ingress rule 1/.test(p.explanation))).toBe(true);
  });

  it('keeps 9090, the worker and the debug pod closed to the frontend', () => {
    const blocked = probes(report(id, 'solution.yaml'), 'frontend-nothing-else');
    const targets = new Set(
      blocked.map((p) => (p.to.startsWith('api.') ? `api:${p.port}` : workloadOf(p.to.split(' ')[0]!))),
    );
    expect(targets).toEqual(new Set(['api:9090', 'ndi-app/worker', 'ndi-app/debug']));
    expect(blocked.every((p) => p.actual === 'blocked')).toBe(true);
  });

  it('probes from every other pod: worker, debug, the API pods and both pods of ndi-outside', () => {
    const r = report(id, 'solution.yaml');
    expect(new Set([...sources(probes(r, 'others-cannot-reach-api'))].map(workloadOf))).toEqual(
      new Set(['ndi-app/worker', 'ndi-app/debug']),
    );
    expect(sources(probes(r, 'namespace-isolated')).size).toBe(2);
    const outside = [...sources(probes(r, 'other-namespaces-blocked'))].map(workloadOf).sort();
    expect(outside).toEqual(['ndi-outside/frontend', 'ndi-outside/web']);
    // Egress stays open from all six pods of ndi-app.
    expect(sources(probes(r, 'egress-unaffected')).size).toBe(6);
    expect(sources(probes(r, 'dns-still-works')).size).toBe(6);
  });

  it('blames the decoy frontend of ndi-outside when namespaceSelector {} is used', () => {
    const r = report(id, 'wrong/05-frontend-from-any-namespace.yaml');
    const failed = probes(r, 'other-namespaces-blocked').filter((p) => !p.passed);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((p) => p.from.startsWith('ndi-outside/frontend-') && p.port === 8080)).toBe(true);
  });
});

describe('np-namespace-isolation probes what its task promises', () => {
  const id = 'np-namespace-isolation';

  it('lets in every pod of both team=payments namespaces, whatever the pod labels, on both ledger ports', () => {
    const r = report(id, 'solution.yaml');
    const payments = probes(r, 'payments-reach-app');
    expect(new Set([...sources(payments)].map(workloadOf))).toEqual(
      new Set(['nsi-payments/client', 'nsi-payments/cron']),
    );
    expect(payments.filter((p) => p.to.startsWith('ledger.')).map((p) => p.port)).toEqual([
      8080, 9090, 8080, 9090,
    ]);
    expect(payments.every((p) => p.actual === 'allowed')).toBe(true);
    expect([...sources(probes(r, 'payments-batch-reach-app'))].map(workloadOf)).toEqual([
      'nsi-payments-batch/batch',
    ]);
  });

  it('probes the decoys: payments-agent in nsi-checkout, the sandbox client and nsi-app’s own reporter', () => {
    const r = report(id, 'solution.yaml');
    expect(new Set([...sources(probes(r, 'other-teams-blocked'))].map(workloadOf))).toEqual(
      new Set(['nsi-checkout/shop', 'nsi-checkout/payments-agent']),
    );
    expect([...sources(probes(r, 'unlabelled-namespace-blocked'))].map(workloadOf)).toEqual([
      'nsi-sandbox/client',
    ]);
    expect([...sources(probes(r, 'own-namespace-blocked'))].map(workloadOf)).toEqual(['nsi-app/reporter']);
  });

  it('blames payments-agent, and only it, when a pod label is trusted across namespaces', () => {
    const r = report(id, 'wrong/05-pod-label-any-namespace.yaml');
    const leaked = probes(r, 'other-teams-blocked').filter((p) => !p.passed);
    expect(leaked).toHaveLength(3); // ledger 8080 and 9090, reporter 8080
    expect(leaked.every((p) => workloadOf(p.from) === 'nsi-checkout/payments-agent')).toBe(true);
  });
});

describe('np-and-vs-or probes what its task promises', () => {
  const id = 'np-and-vs-or';
  const CHECK_SOURCES: Record<string, string[]> = {
    'prod-clients-reach-orders': ['avo-prod/web'],
    'prod-eu-clients-reach-orders': ['avo-prod-eu/mobile-bff'],
    'prod-non-clients-blocked': ['avo-prod/cron'],
    'non-prod-clients-blocked': ['avo-staging/web'],
    'same-namespace-client-blocked': ['avo-shared/smoke-test'],
  };

  it('connects to orders from each of the five pods the task names, and from nothing else', () => {
    const r = report(id, 'solution.yaml');
    for (const [check, expected] of Object.entries(CHECK_SOURCES)) {
      const list = probes(r, check);
      expect([...sources(list)].map(workloadOf), check).toEqual(expected);
      expect(
        list.every((p) => p.to.startsWith('orders.avo-shared:8080')),
        check,
      ).toBe(true);
    }
  });

  it('shows the OR version letting in exactly the non-client prod pod and the client of avo-shared', () => {
    for (const file of ['wrong/01-or-two-peers.yaml', 'wrong/02-or-two-rules.yaml']) {
      const r = report(id, file);
      const leaked = r.checks
        .flatMap((c) => c.probes)
        .filter((p) => !p.passed)
        .map((p) => workloadOf(p.from))
        .sort();
      expect(leaked, file).toEqual(['avo-prod/cron', 'avo-shared/smoke-test']);
    }
  });

  it('names the prod-eu client as the one shut out by the too-narrow attempts', () => {
    for (const file of ['wrong/06-prod-by-name.yaml', 'wrong/07-extra-pod-label.yaml']) {
      const failed = report(id, file)
        .checks.flatMap((c) => c.probes)
        .filter((p) => !p.passed);
      expect(
        failed.map((p) => workloadOf(p.from)),
        file,
      ).toEqual(['avo-prod-eu/mobile-bff']);
      expect(failed[0]!.explanation, file).toMatch(/^blocked: ingress to avo-shared\/orders-/);
    }
  });
});
