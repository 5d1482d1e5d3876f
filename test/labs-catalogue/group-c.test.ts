/**
 * Labs of group C (np-allow-monitoring, np-default-deny-all) prove themselves on the simulated
 * cluster: nothing applied fails, the solution and every known-right attempt pass, and every
 * known-wrong attempt fails the check lab.yaml names, as the learner's fault (never as an
 * environment error). The full set of failing checks per attempt is pinned, so a change to a
 * scenario or a check that lets a mistake slip through another way is noticed.
 */
import { describe, expect, it } from 'vitest';
import { caseFile, notPassing, selfTestedLabs } from './support.js';
import type { GradeReport, ProbeResult } from '../../server/grader/report.js';

/** Failing checks per case, keyed by the case's file relative to the lab folder. */
type FailTable = Record<string, string[]>;

const EXPECTED: Record<string, FailTable> = {
  'np-allow-monitoring': {
    'lab.yaml': ['policy-exists', 'prometheus-scrapes-every-pod', 'prometheus-scrapes-exactly'],
    'solution.yaml': [],
    'wrong/01-pod-selector-only.yaml': ['prometheus-scrapes-every-pod', 'prometheus-scrapes-exactly'],
    'wrong/02-namespace-selector-only.yaml': ['grafana-blocked', 'nothing-else-changes'],
    'wrong/03-namespace-or-pod.yaml': ['grafana-blocked', 'nothing-else-changes'],
    'wrong/04-shared-team-label.yaml': ['sandbox-prometheus-blocked', 'nothing-else-changes'],
    'wrong/05-named-port-metrics.yaml': ['prometheus-scrapes-every-pod', 'prometheus-scrapes-exactly'],
    'wrong/06-no-ports.yaml': ['prometheus-only-metrics', 'prometheus-scrapes-exactly'],
    'wrong/07-web-and-api-only.yaml': [
      'policy-exists',
      'prometheus-scrapes-every-pod',
      'prometheus-scrapes-exactly',
    ],
    'wrong/08-prometheus-egress-only.yaml': [
      'policy-exists',
      'prometheus-scrapes-every-pod',
      'prometheus-scrapes-exactly',
      'nothing-else-changes',
    ],
    'wrong/09-ingress-and-egress-types.yaml': [
      'policy-exists',
      'app-traffic-unaffected',
      'nothing-else-changes',
    ],
    'wrong/10-allow-all-namespaces.yaml': ['sandbox-prometheus-blocked', 'nothing-else-changes'],
    'wrong/11-selects-prometheus.yaml': [
      'policy-exists',
      'prometheus-scrapes-every-pod',
      'prometheus-scrapes-exactly',
      'nothing-else-changes',
    ],
    'wrong/12-both-port-names.yaml': ['prometheus-scrapes-exactly'],
    'wrong/13-every-port-but-the-probed-ones.yaml': ['prometheus-scrapes-exactly'],
    'wrong/14-udp-too.yaml': ['prometheus-scrapes-exactly'],
    'wrong/15-namespace-notin-sandbox.yaml': ['nothing-else-changes'],
    'wrong/16-pods-notin-grafana.yaml': ['nothing-else-changes'],
    'wrong/17-outside-world-admitted.yaml': ['nothing-else-changes'],
    'wrong/18-egress-locked-to-probed-paths.yaml': ['nothing-else-changes'],
    'wrong/19-decoy-egress-locked.yaml': ['nothing-else-changes'],
    'wrong/20-targets-by-app-name.yaml': ['policy-exists', 'prometheus-scrapes-exactly'],
    'wrong/21-everything-but-the-probed-decoys.yaml': ['nothing-else-changes'],
    'right/02-namespace-match-expressions.yaml': [],
    'right/03-port-range.yaml': [],
    'right/04-json-two-rules.json': [],
  },
  'np-default-deny-all': {
    'lab.yaml': [
      'default-deny-all',
      'web-blocked-elsewhere',
      'api-blocked-elsewhere',
      'db-blocked-everywhere',
      'outsiders-reach-only-web',
      'rest-of-edge-blocked',
      'dns-only-to-coredns',
      'no-egress-to-other-namespaces',
      'shop-egress-exactly',
      'shop-ingress-exactly',
    ],
    'solution.yaml': [],
    'wrong/01-forgot-dns.yaml': [
      'web-resolves-api',
      'api-resolves-db',
      'dns-tcp-fallback',
      'web-reaches-api',
      'api-reaches-db',
      'shop-egress-exactly',
    ],
    'wrong/02-dns-for-web-only.yaml': [
      'api-resolves-db',
      'dns-tcp-fallback',
      'api-reaches-db',
      'shop-egress-exactly',
    ],
    'wrong/03-default-deny-ingress-only.yaml': [
      'default-deny-all',
      'dns-only-to-coredns',
      'no-egress-to-other-namespaces',
      'shop-egress-exactly',
    ],
    'wrong/04-egress-without-ingress.yaml': [
      'web-reaches-api',
      'api-reaches-db',
      'shop-egress-exactly',
      'shop-ingress-exactly',
    ],
    'wrong/05-ingress-without-egress.yaml': [
      'web-reaches-api',
      'api-reaches-db',
      'shop-egress-exactly',
      'shop-ingress-exactly',
    ],
    'wrong/06-dns-to-any-destination.yaml': ['dns-only-to-coredns', 'shop-egress-exactly'],
    'wrong/07-dns-any-namespace.yaml': ['dns-only-to-coredns', 'shop-egress-exactly'],
    'wrong/08-dns-udp-missing.yaml': [
      'web-resolves-api',
      'api-resolves-db',
      'web-reaches-api',
      'api-reaches-db',
      'shop-egress-exactly',
    ],
    'wrong/09-allow-same-namespace.yaml': [
      'web-blocked-elsewhere',
      'api-blocked-elsewhere',
      'db-blocked-everywhere',
      'shop-egress-exactly',
      'shop-ingress-exactly',
    ],
    'wrong/10-no-ports.yaml': [
      'web-blocked-elsewhere',
      'api-blocked-elsewhere',
      'shop-egress-exactly',
      'shop-ingress-exactly',
    ],
    'wrong/11-gateway-without-namespace.yaml': ['gateway-reaches-web', 'shop-ingress-exactly'],
    'wrong/12-api-ingress-from-anyone.yaml': ['outsiders-reach-only-web', 'shop-ingress-exactly'],
    'wrong/13-egress-ports-only.yaml': ['no-egress-to-other-namespaces', 'shop-egress-exactly'],
    'wrong/14-policytypes-omitted.yaml': [
      'default-deny-all',
      'dns-only-to-coredns',
      'no-egress-to-other-namespaces',
      'shop-egress-exactly',
    ],
    'wrong/15-gateway-namespace-only.yaml': ['rest-of-edge-blocked', 'shop-ingress-exactly'],
    'wrong/16-dns-udp-only.yaml': ['dns-tcp-fallback', 'shop-egress-exactly'],
    'wrong/17-deny-split-and-renamed.yaml': ['default-deny-all'],
    'wrong/18-named-ports.yaml': ['shop-egress-exactly', 'shop-ingress-exactly'],
    'wrong/19-gateway-range-stops-short.yaml': ['shop-ingress-exactly'],
    'wrong/20-udp-along-the-path.yaml': ['shop-egress-exactly', 'shop-ingress-exactly'],
    'wrong/21-web-replicas-reach-each-other.yaml': ['shop-egress-exactly', 'shop-ingress-exactly'],
    'wrong/22-gateway-of-every-namespace.yaml': ['shop-ingress-exactly'],
    'wrong/23-web-egress-to-the-internet.yaml': ['shop-egress-exactly'],
    'wrong/24-dns-every-namespace-but-edge.yaml': ['shop-egress-exactly'],
    'wrong/25-dns-internet-by-ipblock.yaml': ['shop-egress-exactly'],
    'wrong/26-dns-no-ports.yaml': ['shop-egress-exactly'],
    'wrong/27-excess-hidden-by-ingress-policy.yaml': ['shop-egress-exactly', 'nothing-else-changes'],
    'wrong/28-gateway-egress-locked.yaml': ['nothing-else-changes'],
    'right/01-dns-in-default-deny.yaml': [],
    'right/02-one-policy-per-direction.yaml': [],
    'right/04-namespace-pinned-peers.yaml': [],
    'right/05-dns-whole-kube-system.yaml': [],
  },
};

const LAB_IDS = Object.keys(EXPECTED);
const { labs, results, report: reportOf } = selfTestedLabs(LAB_IDS);
const relativeToLab = caseFile;
const failing = notPassing;
const probesOf = (r: GradeReport, checkId: string): ProbeResult[] =>
  r.checks.find((c) => c.id === checkId)?.probes ?? [];
/** `dda-shop/web-5cb44b9775-gscmr` -> `dda-shop/web` (a Deployment's pod, without its hashes). */
const workloadOf = (podRef: string) => podRef.replace(/-[a-z0-9]+-[a-z0-9]+$/, '');

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

describe('np-allow-monitoring proves its task over all traffic', () => {
  const id = 'np-allow-monitoring';
  const messagesOf = (file: string, checkId: string): string[] => {
    const check = reportOf(id, file).checks.find((c) => c.id === checkId);
    expect(check?.status, `${file}: ${checkId}`).toBe('fail');
    return check!.messages;
  };
  const expectCounterexample = (file: string, checkId: string, ...patterns: RegExp[]) => {
    const messages = messagesOf(file, checkId);
    expect(
      messages.some((m) => patterns.every((p) => p.test(m))),
      `${file}: a counterexample matching ${patterns.join(' and ')} in\n${messages.join('\n')}`,
    ).toBe(true);
  };

  it('catches every behaviour-changing mutant of its solution and passes every equivalent one', () => {
    const m = results.get(id)!.mutants!;
    expect(m.survived).toEqual([]);
    expect(m.failingEquivalent).toEqual([]);
    expect(m.behaviourChanging).toBeGreaterThan(0);
    expect(m.caught).toBe(m.behaviourChanging);
  });

  it('names one concrete connection and the rule behind it for every hostile answer', () => {
    const lab = labs.get(id)!;
    const hostile = lab.knownWrong.filter((w) => /exactly|nothing-else/.test(w.failsCheck));
    expect(hostile.length).toBeGreaterThanOrEqual(4);
    for (const wrong of hostile) {
      const first = messagesOf(wrong.file, wrong.failsCheck)[0] ?? '';
      expect(first, wrong.file).toMatch(
        /^(also reachable|not reachable|newly reachable|no longer reachable)(?: \([^)]*\))?: \S.* -> \S.* on (TCP|UDP|SCTP|every port) /,
      );
      expect(first, wrong.file).toMatch(
        /(allowed|admitted) by mon-\S+ (ingress|egress) rule \d+|restricted by mon-/,
      );
    }
  });

  it('names the ports and protocol beside 9100 that Prometheus gains', () => {
    expectCounterexample(
      'wrong/13-every-port-but-the-probed-ones.yaml',
      'prometheus-scrapes-exactly',
      /^also reachable: mon-monitoring\/prometheus\b -> mon-app\/\S+ on TCP 1-6059, 6061-6378, 6380-8079, 8081-9099, 9101-65535, /,
    );
    expectCounterexample('wrong/14-udp-too.yaml', 'prometheus-scrapes-exactly', / on UDP 9100, /);
  });

  it('names the future pods and namespaces that port names, NotIn and app names get wrong', () => {
    expectCounterexample(
      'wrong/12-both-port-names.yaml',
      'prometheus-scrapes-exactly',
      /^not reachable: mon-monitoring\/prometheus\b -> a new pod in namespace mon-app .* on TCP 9100\b/,
    );
    expectCounterexample(
      'wrong/15-namespace-notin-sandbox.yaml',
      'nothing-else-changes',
      /^newly reachable(?: \([^)]*\))?: a new pod in a new namespace labelled team=platform with app=prometheus -> mon-app\/\S+ on TCP 9100\b/,
    );
    expectCounterexample(
      'wrong/16-pods-notin-grafana.yaml',
      'nothing-else-changes',
      /^newly reachable(?: \([^)]*\))?: a new pod in namespace mon-monitoring with .* -> mon-app\/\S+ on TCP 9100\b/,
    );
    expectCounterexample(
      'wrong/19-decoy-egress-locked.yaml',
      'nothing-else-changes',
      /^newly reachable(?: \([^)]*\))?: a new pod in namespace mon-monitoring with .* -> mon-app\/\S+ on TCP 9100\b/,
    );
    expectCounterexample(
      'wrong/20-targets-by-app-name.yaml',
      'prometheus-scrapes-exactly',
      /^not reachable: mon-monitoring\/prometheus\b -> a new pod in namespace mon-app .* on TCP 9100\b/,
    );
  });

  it('names addresses outside the cluster let in, and the app cut off by an egress allow-list', () => {
    expectCounterexample(
      'wrong/17-outside-world-admitted.yaml',
      'nothing-else-changes',
      /^newly reachable(?: \([^)]*\))?: \S+ \(any IPv4 address outside the cluster\) -> mon-app\/\S+ on TCP 9100\b/,
    );
    expectCounterexample(
      'wrong/18-egress-locked-to-probed-paths.yaml',
      'nothing-else-changes',
      /^no longer reachable(?: \([^)]*\))?: mon-app\/\S+ -> /,
      /mon-app\/egress-allowlist/,
    );
  });
});

describe('np-default-deny-all probes what its task promises', () => {
  it('walks the whole path by Service name, DNS included, from every pod of each tier', () => {
    const r = reportOf('np-default-deny-all', 'solution.yaml');
    const path = [
      ['gateway-reaches-web', 'dda-edge/gateway-', 'web.dda-shop:8080/TCP'],
      ['web-reaches-api', 'dda-shop/web-', 'api.dda-shop:8080/TCP'],
      ['api-reaches-db', 'dda-shop/api-', 'db.dda-shop:5432/TCP'],
    ] as const;
    for (const [check, from, to] of path) {
      const probes = probesOf(r, check);
      expect(probes.length, check).toBeGreaterThan(0);
      expect(probes.every((p) => p.from.startsWith(from) && p.to === to && p.actual === 'allowed')).toBe(
        true,
      );
    }
    // Two web replicas: both are sources of their checks.
    expect(new Set(probesOf(r, 'web-reaches-api').map((p) => p.from)).size).toBe(2);
    expect(new Set(probesOf(r, 'web-resolves-api').map((p) => p.from)).size).toBe(2);
  });

  it('blocks the admin ports, the reverse directions and tier skipping', () => {
    const r = reportOf('np-default-deny-all', 'solution.yaml');
    const blocked = (check: string) =>
      probesOf(r, check).map((p) => `${workloadOf(p.from)} ${p.to.split(' ')[0]}`);
    expect(new Set(blocked('web-blocked-elsewhere'))).toEqual(
      new Set([
        'dda-shop/web api.dda-shop:9090/TCP',
        'dda-shop/web db.dda-shop:5432/TCP',
        'dda-shop/web db.dda-shop:9090/TCP',
      ]),
    );
    expect(blocked('api-blocked-elsewhere')).toContain('dda-shop/api web.dda-shop:8080/TCP');
    expect(blocked('db-blocked-everywhere')).toContain('dda-shop/db api.dda-shop:8080/TCP');
    const all = [
      'web-blocked-elsewhere',
      'api-blocked-elsewhere',
      'db-blocked-everywhere',
      'outsiders-reach-only-web',
    ];
    for (const check of all)
      expect(
        probesOf(r, check).every((p) => p.actual === 'blocked'),
        check,
      ).toBe(true);
  });

  it('probes port 53 and the other namespace from every pod of dda-shop', () => {
    const r = reportOf('np-default-deny-all', 'solution.yaml');
    for (const check of ['dns-only-to-coredns', 'no-egress-to-other-namespaces']) {
      const sources = new Set(probesOf(r, check).map((p) => workloadOf(p.from)));
      expect([...sources].sort(), check).toEqual(['dda-shop/api', 'dda-shop/db', 'dda-shop/web']);
    }
  });

  it('probes TCP 53 to every CoreDNS pod from web and api, and fails a UDP-only DNS rule there', () => {
    const ok = probesOf(reportOf('np-default-deny-all', 'solution.yaml'), 'dns-tcp-fallback');
    expect(new Set(ok.map((p) => workloadOf(p.from)))).toEqual(new Set(['dda-shop/web', 'dda-shop/api']));
    expect(ok.every((p) => p.port === 53 && p.protocol === 'TCP' && p.actual === 'allowed')).toBe(true);
    expect(new Set(ok.map((p) => p.to)).size).toBeGreaterThanOrEqual(2); // every CoreDNS replica
    const udpOnly = reportOf('np-default-deny-all', 'wrong/16-dns-udp-only.yaml');
    const failed = probesOf(udpOnly, 'dns-tcp-fallback').filter((p) => !p.passed);
    expect(failed).toHaveLength(ok.length);
    expect(failed.every((p) => p.actual === 'blocked')).toBe(true);
    // UDP lookups still work with that rule: only the TCP fallback is missing.
    expect(udpOnly.checks.find((c) => c.id === 'web-resolves-api')?.status).toBe('pass');
  });

  it('blames the missing ingress rule at the callee when only egress was written', () => {
    const r = reportOf('np-default-deny-all', 'wrong/04-egress-without-ingress.yaml');
    const failed = probesOf(r, 'web-reaches-api').filter((p) => !p.passed);
    expect(failed.length).toBe(2);
    expect(
      failed.every(
        (p) => p.actual === 'blocked' && /^blocked: ingress to dda-shop\/api-/.test(p.explanation),
      ),
    ).toBe(true);
  });
});

describe('np-default-deny-all: statements of intent', () => {
  const id = 'np-default-deny-all';
  /** What each hostile answer lets through, as its report must name it. */
  const COUNTEREXAMPLES: Record<string, RegExp> = {
    'wrong/18-named-ports.yaml':
      /not reachable: dda-edge\/gateway\b.* -> a new pod in namespace dda-shop with app=web.* on TCP 8080/,
    'wrong/19-gateway-range-stops-short.yaml':
      /also reachable: dda-edge\/gateway\b.* -> dda-shop\/web\b.* on TCP 8000-8079, 8081-9089, .*admitted by dda-shop\/allow-web ingress rule 1/,
    'wrong/20-udp-along-the-path.yaml':
      /on UDP 5432, allowed by dda-shop\/allow-api egress rule 1 \(spec\.egress\[0\]\), admitted by dda-shop\/allow-db ingress rule 1/,
    'wrong/21-web-replicas-reach-each-other.yaml':
      /also reachable: dda-shop\/web\b.* -> dda-shop\/web\b.* on TCP 8080/,
    'wrong/22-gateway-of-every-namespace.yaml':
      /also reachable: a new pod in namespace default with app=gateway/,
    'wrong/23-web-egress-to-the-internet.yaml':
      /-> 8\.8\.8\.8 \(any IPv4 address outside the cluster\) on every port of TCP, UDP and SCTP/,
    'wrong/24-dns-every-namespace-but-edge.yaml':
      /-> a new pod in namespace default with .*k8s-app=kube-dns on TCP 53; UDP 53/,
    'wrong/25-dns-internet-by-ipblock.yaml':
      /-> 8\.8\.8\.8 \(any IPv4 address outside the cluster\) on TCP 53; UDP 53/,
    'wrong/26-dns-no-ports.yaml':
      /-> kube-system\/coredns\b.* on TCP 1-52, 54-65535; UDP 1-52, 54-65535; SCTP 1-65535/,
    'wrong/28-gateway-egress-locked.yaml':
      /no longer reachable \(open with the scenario alone\): dda-edge\/gateway\b.* restricted by dda-edge\/gateway-egress/,
  };

  it('names the connection each hostile answer lets through (or cuts), with its cause', () => {
    const lab = labs.get(id)!;
    for (const [file, pattern] of Object.entries(COUNTEREXAMPLES)) {
      const wrong = lab.knownWrong.find((w) => w.file === file)!;
      const check = reportOf(id, file).checks.find((c) => c.id === wrong.failsCheck)!;
      expect(check.kind, file).toMatch(/^(traffic|unchanged)$/);
      expect(check.messages.join('\n'), file).toMatch(pattern);
    }
  });

  it('tolerates only what the task grants: DNS for every pod of dda-shop, port 53 anywhere in kube-system', () => {
    for (const file of ['right/01-dns-in-default-deny.yaml', 'right/05-dns-whole-kube-system.yaml']) {
      const statements = reportOf(id, file).checks.filter(
        (c) => c.kind === 'traffic' || c.kind === 'unchanged',
      );
      expect(
        statements.map((c) => c.status),
        file,
      ).toEqual(['pass', 'pass', 'pass']);
    }
    // The tolerance stops at kube-system: the decoy in dda-edge, or a kube-dns pod of a namespace
    // created later, is never tolerated.
    expect(failing(reportOf(id, 'wrong/07-dns-any-namespace.yaml'))).toContain('shop-egress-exactly');
  });
});
