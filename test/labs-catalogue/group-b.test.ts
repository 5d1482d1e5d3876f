/**
 * Group B labs (np-egress-ipblock, np-named-ports, np-port-range) prove themselves on the simulated
 * cluster as `kubelab lab test` does, and each known-wrong attempt fails for the reason lab.yaml
 * gives: the exact set of failing probes (target and port, over every source pod) is pinned per
 * case, so a mistake that starts failing by another route, or a decoy that stops being probed,
 * shows up here. Attempts that the API server rejects (endPort without port, endPort below port)
 * are not known-wrong attempts: they never reach the grader. Their tests below pin how they are
 * reported instead.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenario, labsRoot, scenariosRoot, validateLabDir } from '../../server/labs/index.js';
import type { Lab } from '../../server/labs/model.js';
import { selfTestLab } from '../../server/grader/selftest.js';
import { caseFile, probesOf, selfTestedLabs, workloadOf } from './support.js';
import type { GradeReport, ProbeResult } from '../../server/grader/report.js';
import { main } from '../../server/cli/main.js';
import { memoryIO } from '../../server/cli/io.js';

/**
 * Case file (relative to the lab folder; `lab.yaml` = nothing applied) -> every check that does not
 * pass -> the probes in it that did not go as expected, as `target:port/protocol` (DNS probes: the
 * name), each listed once however many source pods saw it.
 */
type FailingProbes = Record<string, Record<string, string[]>>;

const PINNED: Record<string, FailingProbes> = {
  'np-egress-ipblock': {
    'lab.yaml': {
      'policy-exists': [],
      'legacy-blocked': ['legacy-db:443/TCP', 'legacy-first:443/TCP', 'legacy-last:443/TCP'],
      'partner-only-443': ['partner-api:80/TCP'],
      'outside-blocked': [
        'internet:443/TCP',
        'neighbour-above:443/TCP',
        'neighbour-below:443/TCP',
        'public-dns:53/TCP',
        'public-dns:53/UDP',
      ],
      'cluster-blocked': [
        'collector:443/TCP',
        'metrics.ipblock-lab:443/TCP',
        'metrics:443/TCP',
        'metrics:8080/TCP',
      ],
      'reporter-egress-exactly': [],
    },
    'solution.yaml': {},
    'wrong/01-forgot-except.yaml': {
      'legacy-blocked': ['legacy-db:443/TCP', 'legacy-first:443/TCP', 'legacy-last:443/TCP'],
      'reporter-egress-exactly': [],
    },
    'wrong/02-except-as-separate-peer.yaml': {
      'legacy-blocked': ['legacy-db:443/TCP', 'legacy-first:443/TCP', 'legacy-last:443/TCP'],
      'reporter-egress-exactly': [],
    },
    // A /27 hole keeps .64 closed but leaves .96-.127 open: only the middle and the top fail.
    'wrong/03-except-too-narrow.yaml': {
      'legacy-blocked': ['legacy-db:443/TCP', 'legacy-last:443/TCP'],
      'reporter-egress-exactly': [],
    },
    // A /25 hole also swallows the partner hosts below the legacy block, but not those above it.
    'wrong/04-except-too-wide.yaml': {
      'partner-open': ['partner-api:443/TCP', 'partner-edge-low:443/TCP'],
      'reporter-egress-exactly': [],
    },
    'wrong/05-forgot-dns.yaml': {
      'reporter-dns': ['collector.ipblock-other.svc.cluster.local', 'metrics.ipblock-lab.svc.cluster.local.'],
      'reporter-egress-exactly': [],
    },
    'wrong/06-dns-by-service-ip.yaml': {
      'reporter-dns': ['collector.ipblock-other.svc.cluster.local', 'metrics.ipblock-lab.svc.cluster.local.'],
      'reporter-egress-exactly': [],
    },
    // 0.0.0.0/0 matches pod addresses on 443 (the rule's port), not on 8080.
    'wrong/07-whole-internet.yaml': {
      'outside-blocked': ['internet:443/TCP', 'neighbour-above:443/TCP', 'neighbour-below:443/TCP'],
      'cluster-blocked': ['collector:443/TCP', 'metrics.ipblock-lab:443/TCP', 'metrics:443/TCP'],
      'reporter-egress-exactly': [],
    },
    'wrong/08-cidr-too-wide.yaml': {
      'outside-blocked': ['neighbour-above:443/TCP', 'neighbour-below:443/TCP'],
      'reporter-egress-exactly': [],
    },
    'wrong/09-no-ports.yaml': { 'partner-only-443': ['partner-api:80/TCP'], 'reporter-egress-exactly': [] },
    'wrong/10-ports-as-separate-rule.yaml': {
      'legacy-blocked': ['legacy-db:443/TCP', 'legacy-first:443/TCP', 'legacy-last:443/TCP'],
      'partner-only-443': ['partner-api:80/TCP'],
      'outside-blocked': ['internet:443/TCP', 'neighbour-above:443/TCP', 'neighbour-below:443/TCP'],
      'cluster-blocked': ['collector:443/TCP', 'metrics.ipblock-lab:443/TCP', 'metrics:443/TCP'],
      'reporter-egress-exactly': [],
    },
    'wrong/11-dns-to-anywhere.yaml': {
      'outside-blocked': ['public-dns:53/TCP', 'public-dns:53/UDP'],
      'reporter-egress-exactly': [],
    },
    'wrong/12-policytypes-omitted.yaml': {
      'policy-exists': [],
      'others-unaffected': ['reporter.ipblock-lab:8080/TCP'],
      'ingress-unaffected': ['reporter.ipblock-lab:8080/TCP'],
      'nothing-else-changes': [],
    },
    'wrong/13-internet-minus-the-probed-decoys.yaml': { 'reporter-egress-exactly': [] },
    'wrong/14-slash22-minus-the-probed-neighbours.yaml': { 'reporter-egress-exactly': [] },
    'wrong/16-every-port-but-80-and-udp.yaml': { 'reporter-egress-exactly': [] },
    'wrong/17-dns-every-namespace-but-the-labs.yaml': { 'reporter-egress-exactly': [] },
    'wrong/18-dns-internet-minus-the-probed-resolver.yaml': { 'reporter-egress-exactly': [] },
    'wrong/19-dns-no-ports.yaml': { 'reporter-egress-exactly': [] },
    'wrong/20-dns-udp-only.yaml': { 'reporter-egress-exactly': [] },
    'wrong/21-metrics-egress-locked.yaml': { 'nothing-else-changes': [] },
    'wrong/22-excess-hidden-by-ingress-policies.yaml': {
      'reporter-egress-exactly': [],
      'nothing-else-changes': [],
    },
    'right/01-two-blocks-no-except.yaml': {},
    'right/02-except-in-two-parts.yaml': {},
    'right/03-dns-in-own-policy.yaml': {},
    'right/04-cidrs-with-host-bits.yaml': {},
  },
  'np-named-ports': {
    'lab.yaml': {
      'policy-exists': [],
      'clients-blocked-on-metrics': ['catalog:8080/TCP', 'checkout:9000/TCP', 'storefront:9000/TCP'],
      'strangers-blocked': ['frontend:8080/TCP', 'frontend:9000/TCP'],
      'frontend-ingress-exactly': [],
    },
    'solution.yaml': {},
    // 8080 is right for storefront and checkout only: catalog loses 9000 and opens its metrics port.
    'wrong/01-number-8080.yaml': {
      'clients-reach-serving-port': ['catalog.namedport-lab:80/TCP', 'catalog:9000/TCP'],
      'clients-blocked-on-metrics': ['catalog:8080/TCP'],
      'frontend-ingress-exactly': [],
    },
    'wrong/02-both-numbers.yaml': {
      'clients-blocked-on-metrics': ['catalog:8080/TCP', 'checkout:9000/TCP', 'storefront:9000/TCP'],
      'frontend-ingress-exactly': [],
    },
    'wrong/03-only-http.yaml': {
      'clients-reach-serving-port': ['checkout.namedport-lab:80/TCP', 'checkout:8080/TCP'],
      'frontend-ingress-exactly': [],
    },
    'wrong/04-wrong-name.yaml': {
      'clients-reach-serving-port': [
        'catalog.namedport-lab:80/TCP',
        'catalog:9000/TCP',
        'storefront.namedport-lab:80/TCP',
        'storefront:8080/TCP',
      ],
      'frontend-ingress-exactly': [],
    },
    'wrong/05-named-port-udp.yaml': {
      'clients-reach-serving-port': everyServingPort(),
      'frontend-ingress-exactly': [],
    },
    'wrong/06-service-port.yaml': {
      'clients-reach-serving-port': everyServingPort(),
      'frontend-ingress-exactly': [],
    },
    'wrong/07-no-from.yaml': {
      'strangers-blocked': ['frontend:8080/TCP', 'frontend:9000/TCP'],
      'frontend-ingress-exactly': [],
    },
    'wrong/08-select-every-pod.yaml': {
      'policy-exists': [],
      'others-unaffected': ['client:8080/TCP'],
      'frontend-egress-unaffected': ['client:8080/TCP'],
      'nothing-else-changes': [],
    },
    'wrong/09-both-policy-types.yaml': {
      'policy-exists': [],
      'frontend-egress-unaffected': ['client:8080/TCP'],
      'frontend-ingress-exactly': [],
      'nothing-else-changes': [],
    },
    'wrong/10-service-port-name.yaml': {
      'clients-reach-serving-port': everyServingPort(),
      'frontend-ingress-exactly': [],
    },
    'wrong/11-numbers-per-app.yaml': { 'frontend-ingress-exactly': [], 'nothing-else-changes': [] },
    'wrong/12-client-role-exists.yaml': { 'frontend-ingress-exactly': [] },
    'wrong/13-every-port-but-the-probed.yaml': { 'frontend-ingress-exactly': [] },
    'wrong/14-udp-and-sctp-open.yaml': { 'frontend-ingress-exactly': [] },
    'wrong/15-frontends-reach-each-other.yaml': { 'frontend-ingress-exactly': [] },
    'wrong/16-clients-by-app-name.yaml': { 'frontend-ingress-exactly': [] },
    'wrong/17-clients-of-every-namespace.yaml': { 'frontend-ingress-exactly': [] },
    'wrong/18-internet-on-serving-ports.yaml': { 'frontend-ingress-exactly': [] },
    'wrong/19-excess-hidden-by-stranger-egress.yaml': {
      'frontend-ingress-exactly': [],
      'nothing-else-changes': [],
    },
    'wrong/20-frontend-egress-locked-to-clients.yaml': {
      'frontend-ingress-exactly': [],
      'nothing-else-changes': [],
    },
    'right/01-rule-per-name.yaml': {},
    'right/02-web-for-checkout-only.yaml': {},
    'right/03-client-by-expression.yaml': {},
    'right/04-as-json.yaml': {},
  },
  'np-port-range': {
    'lab.yaml': {
      'policy-exists': [],
      'range-edges-blocked': ['relay:29999/TCP', 'relay:30002/UDP', 'relay:30006/TCP', 'relay:30100/TCP'],
      'others-blocked': ['relay:30000/TCP', 'relay:30005/TCP'],
      'relay-ingress-exactly': [],
    },
    'solution.yaml': {},
    'wrong/01-endport-one-short.yaml': {
      'players-reach-range': ['relay:30005/TCP'],
      'relay-ingress-exactly': [],
    },
    'wrong/02-endport-one-over.yaml': {
      'range-edges-blocked': ['relay:30006/TCP'],
      'relay-ingress-exactly': [],
    },
    'wrong/03-start-one-low.yaml': {
      'range-edges-blocked': ['relay:29999/TCP'],
      'relay-ingress-exactly': [],
    },
    'wrong/04-single-port.yaml': {
      'players-reach-range': [
        'relay:30001/TCP',
        'relay:30002/TCP',
        'relay:30003/TCP',
        'relay:30004/TCP',
        'relay:30005/TCP',
      ],
      'relay-ingress-exactly': [],
    },
    'wrong/05-two-ports-not-a-range.yaml': {
      'players-reach-range': ['relay:30001/TCP', 'relay:30002/TCP', 'relay:30003/TCP', 'relay:30004/TCP'],
      'relay-ingress-exactly': [],
    },
    'wrong/06-udp.yaml': {
      'players-reach-range': [
        'relay:30000/TCP',
        'relay:30001/TCP',
        'relay:30002/TCP',
        'relay:30003/TCP',
        'relay:30004/TCP',
        'relay:30005/TCP',
      ],
      'range-edges-blocked': ['relay:30002/UDP'],
      'relay-ingress-exactly': [],
    },
    'wrong/07-tcp-and-udp.yaml': { 'range-edges-blocked': ['relay:30002/UDP'], 'relay-ingress-exactly': [] },
    'wrong/08-no-from.yaml': {
      'others-blocked': ['relay:30000/TCP', 'relay:30005/TCP'],
      'relay-ingress-exactly': [],
    },
    'wrong/09-both-policy-types.yaml': {
      'policy-exists': [],
      'relay-egress-unaffected': ['player:8080/TCP'],
      'nothing-else-changes': [],
    },
    'wrong/10-range-between-the-probes.yaml': { 'relay-ingress-exactly': [] },
    'wrong/11-every-port-but-the-probed.yaml': { 'relay-ingress-exactly': [] },
    'wrong/12-udp-and-sctp-beside-the-probe.yaml': { 'relay-ingress-exactly': [] },
    'wrong/13-relays-reach-each-other.yaml': { 'relay-ingress-exactly': [] },
    'wrong/14-players-by-not-in.yaml': { 'relay-ingress-exactly': [] },
    'wrong/15-players-in-every-namespace.yaml': { 'relay-ingress-exactly': [] },
    'wrong/16-internet-reaches-range.yaml': { 'relay-ingress-exactly': [] },
    'wrong/17-relay-egress-locked-to-players.yaml': { 'nothing-else-changes': [] },
    'wrong/18-excess-hidden-by-monitor-egress.yaml': {
      'relay-ingress-exactly': [],
      'nothing-else-changes': [],
    },
    'right/01-six-single-ports.yaml': {},
    'right/02-two-halves.yaml': {},
    'right/03-protocol-defaulted.yaml': {},
  },
};

function everyServingPort(): string[] {
  return [
    'catalog.namedport-lab:80/TCP',
    'catalog:9000/TCP',
    'checkout.namedport-lab:80/TCP',
    'checkout:8080/TCP',
    'storefront.namedport-lab:80/TCP',
    'storefront:8080/TCP',
  ];
}

const LAB_IDS = Object.keys(PINNED);
const { labs, results, clusters, report } = selfTestedLabs(LAB_IDS);
const probes = probesOf;

/** `legacy-db (203.0.113.100):443/TCP` -> `legacy-db:443/TCP`; DNS probes keep their name. */
const probeKey = (p: ProbeResult) =>
  p.port === undefined ? p.to : `${p.to.split(/[ :,]/)[0]}:${p.port}/${p.protocol}`;

function failingProbes(r: GradeReport | undefined): Record<string, string[]> {
  const table: Record<string, string[]> = {};
  for (const c of r?.checks ?? []) {
    if (c.status === 'pass') continue;
    table[c.id] = [...new Set(c.probes.filter((p) => !p.passed).map(probeKey))].sort();
  }
  return table;
}

describe.each(LAB_IDS)('%s', (id) => {
  it('passes its self-test (kubelab lab test)', () => {
    const r = results.get(id)!;
    expect(r.cases.filter((c) => !c.ok).map((c) => `${c.file}: ${c.problems.join(' | ')}`)).toEqual([]);
    expect(r.ok).toBe(true);
  });

  it('says what it trains and what it catches, with >= 4 known-wrong and >= 1 known-right attempts', () => {
    const lab = labs.get(id)!;
    expect(lab.competency).toMatch(/CKA/);
    expect(lab.catches.length).toBeGreaterThan(60);
    expect(lab.knownWrong.length).toBeGreaterThanOrEqual(4);
    expect((lab.knownRight ?? []).length).toBeGreaterThanOrEqual(1);
  });

  it('fails every known-wrong attempt on its named check, from every source pod, as the learner’s fault', () => {
    for (const wrong of labs.get(id)!.knownWrong) {
      const r = report(id, wrong.file);
      expect(r.status, wrong.file).toBe('failed');
      const named = r.checks.find((c) => c.id === wrong.failsCheck);
      expect(named?.status, `${wrong.file}: ${wrong.failsCheck}`).toBe('fail');
      const all = r.checks.flatMap((c) => c.probes);
      expect(
        all.filter((p) => p.environmentProblem !== undefined),
        wrong.file,
      ).toEqual([]);
      // The mistake holds for every pod the check probes from, not for one by accident. (A policy
      // check has no probes; its failure is pinned by the table.)
      if (named!.probes.length > 0) {
        const sources = new Set(named!.probes.map((p) => p.from));
        const failedFrom = new Set(named!.probes.filter((p) => !p.passed).map((p) => p.from));
        expect(failedFrom, `${wrong.file}: every source of ${wrong.failsCheck} fails`).toEqual(sources);
      }
    }
  });

  it('fails exactly the pinned probes in every case', () => {
    const table: FailingProbes = {};
    for (const c of results.get(id)!.cases) table[caseFile(id, c.file)] = failingProbes(c.report);
    expect(table).toEqual(PINNED[id]);
  });
});

describe('np-egress-ipblock probes what its task promises', () => {
  const id = 'np-egress-ipblock';

  it('probes every external host of the scenario, from both reporter pods', async () => {
    const scenario = await loadScenario('np-egress-ipblock');
    const r = report(id, 'solution.yaml');
    const ipProbes = r.checks
      .filter((c) => c.id !== 'others-unaffected')
      .flatMap((c) => c.probes)
      .filter((p) => /\(\d+\.\d+\.\d+\.\d+\)/.test(p.to));
    const probed = new Set(ipProbes.map((p) => /\((\d+\.\d+\.\d+\.\d+)\)/.exec(p.to)![1]));
    expect(probed).toEqual(new Set(scenario.externalHosts.map((h) => h.ip)));
    const sources = new Set(ipProbes.map((p) => workloadOf(p.from)));
    expect(sources).toEqual(new Set(['ipblock-lab/reporter']));
    expect(new Set(ipProbes.map((p) => p.from)).size).toBe(2);
  });

  it('probes both edges of the legacy hole from inside and outside', () => {
    const r = report(id, 'solution.yaml');
    const open = probes(r, 'partner-open').map((p) => p.to);
    const blocked = probes(r, 'legacy-blocked').map((p) => p.to);
    expect(open.some((t) => t.includes('(203.0.113.63)'))).toBe(true);
    expect(open.some((t) => t.includes('(203.0.113.128)'))).toBe(true);
    expect(blocked.some((t) => t.includes('(203.0.113.64)'))).toBe(true);
    expect(blocked.some((t) => t.includes('(203.0.113.127)'))).toBe(true);
  });

  it('uses only documentation addresses, and says in the task that they exist only on the simulated cluster', async () => {
    const scenario = await loadScenario('np-egress-ipblock');
    for (const host of scenario.externalHosts)
      expect(host.ip).toMatch(/^(203\.0\.113|198\.51\.100|203\.0\.11[24])\./);
    const task = await readFile(join(labsRoot(), id, 'task.md'), 'utf8');
    expect(task).toMatch(/exist only on the simulated cluster/);
    expect(task).toMatch(/On a kind cluster nothing answers/);
    expect(labs.get(id)!.summary).toMatch(/only on the simulated cluster/);
  });

  it('explains a blocked partner port with the policy that isolates the reporter', () => {
    const [p] = probes(report(id, 'solution.yaml'), 'partner-only-443');
    expect(p!.explanation).toMatch(/restricted by ipblock-lab\/reporter-egress/);
    expect(p!.explanation).toMatch(/203\.0\.113\.10 on TCP 80/);
  });
});

describe('np-named-ports resolves the port name on each destination pod', () => {
  const id = 'np-named-ports';
  const outcome = (r: GradeReport, check: string, app: string, port: number) => {
    const found = probes(r, check).filter((p) => p.to.startsWith(`${app} (`) && p.port === port);
    expect(found.length, `${check} ${app}:${port}`).toBe(2); // one per client pod
    return new Set(found.map((p) => p.actual));
  };

  it('opens 8080 on storefront, 9000 on catalog and 8080 (web) on checkout with one rule', () => {
    const r = report(id, 'solution.yaml');
    expect(outcome(r, 'clients-reach-serving-port', 'storefront', 8080)).toEqual(new Set(['allowed']));
    expect(outcome(r, 'clients-reach-serving-port', 'catalog', 9000)).toEqual(new Set(['allowed']));
    expect(outcome(r, 'clients-reach-serving-port', 'checkout', 8080)).toEqual(new Set(['allowed']));
    expect(outcome(r, 'clients-blocked-on-metrics', 'storefront', 9000)).toEqual(new Set(['blocked']));
    expect(outcome(r, 'clients-blocked-on-metrics', 'catalog', 8080)).toEqual(new Set(['blocked']));
    expect(outcome(r, 'clients-blocked-on-metrics', 'checkout', 9000)).toEqual(new Set(['blocked']));
  });

  it('probes every frontend on both numbers from the stranger', () => {
    const r = report(id, 'solution.yaml');
    const seen = new Set(
      probes(r, 'strangers-blocked').map((p) => `${workloadOf(p.to.split(/[()]/)[1]!)}:${p.port}`),
    );
    expect(seen).toEqual(
      new Set(
        ['storefront', 'catalog', 'checkout'].flatMap((a) =>
          [8080, 9000].map((n) => `namedport-lab/${a}:${n}`),
        ),
      ),
    );
  });

  it('reaches each Service (port 80, targetPort by name) on the pod port the name stands for', () => {
    const r = report(id, 'wrong/01-number-8080.yaml');
    const services = probes(r, 'clients-reach-serving-port').filter((p) =>
      p.to.includes('.namedport-lab:80'),
    );
    const byService = new Map(services.map((p) => [p.to.split('.')[0], p.actual]));
    // A rule for 8080 serves the storefront and checkout Services but not catalog's (targetPort http = 9000).
    expect(Object.fromEntries(byService)).toEqual({
      storefront: 'allowed',
      checkout: 'allowed',
      catalog: 'blocked',
    });
  });
});

describe('np-port-range: attempts the API server rejects', () => {
  const id = 'np-port-range';
  const rejected = (name: string) => join(labsRoot(), id, 'rejected', name);
  let workDir: string | undefined;

  afterAll(async () => {
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it.each([
    [
      '01-endport-without-port.yaml',
      'spec.ingress[0].ports[1].endPort',
      /may not be specified when `port` is not specified/,
    ],
    [
      '02-endport-below-port.yaml',
      'spec.ingress[0].ports[0].endPort',
      /must be greater than or equal to `port` \(30005\)/,
    ],
  ])(
    'lab check --simulated reports %s as bad input at %s, and grades nothing',
    async (file, path, message) => {
      const io = memoryIO();
      const code = await main(['lab', 'check', id, '--simulated', '-f', rejected(file)], io);
      expect(code).toBe(2);
      expect(io.stdoutText()).toBe('');
      const err = io.stderrText();
      // Rejected before anything is applied, at the file and line of the field (as the API server would reject it).
      expect(err).toContain('is not a valid set of Kubernetes objects');
      expect(err).toMatch(
        new RegExp(`${file.replace(/\./g, '\\.')}:\\d+:\\d+: ${path.replace(/[[\].]/g, '\\$&')}: `),
      );
      expect(err).toMatch(message);
    },
  );

  it('never counts a rejected attempt as a failing one in the self-test', async () => {
    const lab = labs.get(id)!;
    const withRejected: Lab = {
      ...lab,
      knownWrong: [
        {
          file: 'rejected/01-endport-without-port.yaml',
          failsCheck: 'players-reach-range',
          mistake: 'endPort without port',
        },
      ],
      knownRight: [],
    };
    const r = await selfTestLab(withRejected, { clusters });
    const c = r.cases.find((x) => x.file.endsWith('rejected/01-endport-without-port.yaml'))!;
    expect(c.ok).toBe(false);
    expect(c.report).toBeUndefined();
    expect(c.problems.join('\n')).toMatch(/^could not grade: .*is not a valid set of Kubernetes objects/);
    expect(c.problems.join('\n')).toContain('spec.ingress[0].ports[1].endPort');
    expect(r.ok).toBe(false);
  });

  it('is refused by lab validate if listed under knownWrong, pointing at the file, line and field', async () => {
    workDir = await mkdtemp(join(tmpdir(), 'kubelab-group-b-'));
    await cp(join(labsRoot(), id), join(workDir, 'labs', id), { recursive: true });
    await cp(join(scenariosRoot(), id), join(workDir, 'scenarios', id), { recursive: true });
    const labYaml = join(workDir, 'labs', id, 'lab.yaml');
    const text = await readFile(labYaml, 'utf8');
    const entry =
      '  - file: rejected/01-endport-without-port.yaml\n' +
      '    failsCheck: players-reach-range\n' +
      '    mistake: endPort without port\n\nknownRight:';
    expect(text).toContain('\nknownRight:');
    await writeFile(labYaml, text.replace('\nknownRight:', `\n${entry}`));

    const result = await validateLabDir(join(workDir, 'labs', id), join(workDir, 'scenarios'));
    expect(result.labs).toEqual([]);
    const bad = result.problems.filter((p) => p.file?.endsWith('rejected/01-endport-without-port.yaml'));
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatchObject({ path: 'spec.ingress[0].ports[1].endPort', line: 26 });
    expect(bad[0]!.message).toMatch(/may not be specified when `port` is not specified/);
  });

  it('keeps its rejected examples out of knownWrong and knownRight', () => {
    const files = [...labs.get(id)!.knownWrong, ...(labs.get(id)!.knownRight ?? [])].map((a) => a.file);
    expect(files.filter((f) => f.startsWith('rejected/'))).toEqual([]);
  });
});

describe('np-port-range probes both sides of both edges', () => {
  it('probes 29999, 30000, 30005 and 30006 on both relay pods from both players', () => {
    const r = report('np-port-range', 'solution.yaml');
    const all = [...probes(r, 'players-reach-range'), ...probes(r, 'range-edges-blocked')];
    for (const port of [29999, 30000, 30005, 30006]) {
      const at = all.filter((p) => p.port === port && p.protocol === 'TCP');
      expect(new Set(at.map((p) => p.from)).size, `sources on ${port}`).toBe(2);
      expect(new Set(at.map((p) => p.to)).size, `relay pods on ${port}`).toBe(2);
      expect(at.every((p) => p.passed)).toBe(true);
    }
  });
});

/**
 * Answers no probe can tell from the solution (ports beside the probed ones, protocols no probe
 * uses, pods and namespaces that do not exist yet, addresses outside the cluster, excess hidden
 * behind other policies) fail a statement of intent, and the report names one offending
 * connection of the kind the answer lets through, with the rule or policy responsible.
 */
const COUNTEREXAMPLES: Record<string, Record<string, RegExp>> = {
  'np-egress-ipblock': {
    'wrong/13-internet-minus-the-probed-decoys.yaml':
      /also reachable: .* -> 8\.8\.8\.8 .* on TCP 443, allowed by ipblock-lab\/reporter-egress egress rule 1/,
    'wrong/14-slash22-minus-the-probed-neighbours.yaml':
      /-> 203\.0\.112\.0 \(an address outside the cluster in 203\.0\.112\.0\/22\) on TCP 443/,
    'wrong/16-every-port-but-80-and-udp.yaml': /on TCP 1-79, 81-442, 444-65535; UDP 1-65535/,
    'wrong/17-dns-every-namespace-but-the-labs.yaml':
      /-> a new pod in namespace default with .*k8s-app=kube-dns on TCP 53; UDP 53/,
    'wrong/20-dns-udp-only.yaml':
      /not reachable: .* -> kube-system\/coredns\b.* on TCP 53 \(egress is restricted by ipblock-lab\/reporter-egress/,
    'wrong/21-metrics-egress-locked.yaml':
      /no longer reachable \(open with the scenario alone\): ipblock-lab\/metrics\b.* restricted by ipblock-lab\/metrics-egress/,
  },
  'np-named-ports': {
    'wrong/13-every-port-but-the-probed.yaml':
      /on TCP 1-8079, 8081-8999, 9001-65535, .*admitted by namedport-lab\/frontend-ingress ingress rule 1/,
    'wrong/14-udp-and-sctp-open.yaml': /on UDP 1-65535; SCTP 1-65535/,
    'wrong/15-frontends-reach-each-other.yaml':
      /also reachable: namedport-lab\/catalog\b.* -> namedport-lab\/checkout\b.* on TCP 8080/,
    'wrong/16-clients-by-app-name.yaml':
      /also reachable: a new pod in namespace namedport-lab with app=client, role not in \(client\)/,
    'wrong/17-clients-of-every-namespace.yaml':
      /also reachable: a new pod in namespace default with .*role=client/,
    'wrong/18-internet-on-serving-ports.yaml':
      /also reachable: 8\.8\.8\.8 \(any IPv4 address outside the cluster\) -> namedport-lab\//,
  },
  'np-port-range': {
    'wrong/10-range-between-the-probes.yaml':
      /on TCP 30007-30099, .*admitted by portrange-lab\/relay-media ingress rule 1/,
    'wrong/12-udp-and-sctp-beside-the-probe.yaml': /on UDP 30000-30001, 30003-30005; SCTP 30000-30005/,
    'wrong/13-relays-reach-each-other.yaml':
      /also reachable: portrange-lab\/relay\b.* -> portrange-lab\/relay\b.* on TCP 30000-30005/,
    'wrong/14-players-by-not-in.yaml':
      /also reachable: a new pod in namespace portrange-lab with app not in \(.*player.*\) -> /,
    'wrong/16-internet-reaches-range.yaml':
      /also reachable: 8\.8\.8\.8 \(any IPv4 address outside the cluster\) -> portrange-lab\/relay\b.* on TCP 30000-30005/,
    'wrong/18-excess-hidden-by-monitor-egress.yaml':
      /also reachable: .* -> portrange-lab\/relay\b.* on TCP 30000-30005/,
  },
};

describe.each(LAB_IDS)('%s: statements of intent', (id) => {
  it('fails every attempt named against a statement with a concrete connection and its cause', () => {
    const lab = labs.get(id)!;
    const statements = lab.checks
      .filter((c) => c.kind === 'traffic' || c.kind === 'unchanged')
      .map((c) => c.id);
    const named = lab.knownWrong.filter((w) => statements.includes(w.failsCheck));
    expect(named.length, 'known-wrong attempts aimed at a statement').toBeGreaterThanOrEqual(6);
    for (const wrong of named) {
      const check = report(id, wrong.file).checks.find((c) => c.id === wrong.failsCheck)!;
      const [first] = check.messages;
      expect(first, wrong.file).toMatch(
        /^(also reachable|not reachable|newly reachable|no longer reachable)( \([^)]*\))?: \S.* -> \S.* on (TCP|UDP|SCTP|every port)/,
      );
      expect(first, wrong.file).toMatch(
        /(allowed by|admitted by) \S+ (egress|ingress) rule \d+ \(spec\.(egress|ingress)\[\d+\]\)|restricted by \S+/,
      );
    }
  });

  it('names the connection each hostile answer lets through', () => {
    for (const [file, pattern] of Object.entries(COUNTEREXAMPLES[id]!)) {
      const wrong = labs.get(id)!.knownWrong.find((w) => w.file === file)!;
      const check = report(id, file).checks.find((c) => c.id === wrong.failsCheck)!;
      expect(check.messages.join('\n'), file).toMatch(pattern);
    }
  });

  it('passes the solution and every known-right attempt on every statement, proven over all traffic', () => {
    for (const file of ['solution.yaml', ...(labs.get(id)!.knownRight ?? []).map((r) => r.file)]) {
      const statements = report(id, file).checks.filter(
        (c) => c.kind === 'traffic' || c.kind === 'unchanged',
      );
      expect(statements.length, file).toBe(2);
      for (const c of statements)
        expect(c.messages.join(' '), `${file} ${c.id}`).toMatch(/proven for every existing pod/);
    }
  });
});
