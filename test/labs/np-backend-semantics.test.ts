/**
 * The np-backend lab's content, judged by the NetworkPolicy engine alone (no cluster): the solution
 * and every known-right attempt pass every check, and every known-wrong attempt fails the check it
 * names. This pins the lab's semantics independently of the grader and the simulated cluster.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadLab, loadScenario, readManifestFile, readScenarioObjects } from '../../server/labs/index.js';
import type { Check, Lab, PodSet } from '../../server/labs/model.js';
import type { KubeObject } from '../../server/cluster/types.js';
import {
  buildNetworkModel,
  compileNetwork,
  effectivePolicyTypes,
  evaluate,
  matchesSelector,
  type CompiledNetwork,
} from '../../server/netpol/index.js';
import type { NetworkModel, PodModel, Protocol } from '../../server/netpol/types.js';

/** What every cluster has besides the scenario: CoreDNS in kube-system, and namespace default. */
const CLUSTER_BASE: KubeObject[] = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system' } },
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } },
  {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'coredns', namespace: 'kube-system' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { 'k8s-app': 'kube-dns' } },
      template: {
        metadata: { labels: { 'k8s-app': 'kube-dns' } },
        spec: {
          containers: [
            {
              name: 'coredns',
              image: 'coredns',
              ports: [
                { name: 'dns', containerPort: 53, protocol: 'UDP' },
                { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
              ],
            },
          ],
        },
      },
    },
  },
];

interface World {
  model: NetworkModel;
  net: CompiledNetwork;
  services: KubeObject[];
  policies: KubeObject[];
}

function world(scenario: KubeObject[], attempt: KubeObject[]): World {
  const objects = [...CLUSTER_BASE, ...scenario, ...attempt];
  const { model, problems } = buildNetworkModel(objects);
  expect(problems).toEqual([]);
  return {
    model,
    net: compileNetwork(model),
    services: objects.filter((o) => o.kind === 'Service'),
    policies: objects.filter((o) => o.kind === 'NetworkPolicy'),
  };
}

const podsOf = (w: World, set: PodSet): PodModel[] =>
  w.model.pods.filter((p) => p.namespace === set.namespace && matchesSelector(set.podSelector, p.labels));

function allowed(w: World, from: PodModel, to: PodModel, port: number | string, protocol: Protocol): boolean {
  return evaluate(w.net, { kind: 'pod', pod: from }, { kind: 'pod', pod: to }, port, protocol).allowed;
}

function resolves(w: World, from: PodModel): boolean {
  const dns = w.model.pods.filter((p) => p.namespace === 'kube-system' && p.labels['k8s-app'] === 'kube-dns');
  return dns.length > 0 && dns.every((d) => allowed(w, from, d, 53, 'UDP'));
}

/** Whether a check holds, with the same meaning the grader gives it. */
function checkHolds(lab: Lab, w: World, check: SampledCheck): boolean {
  if (check.kind === 'policy') {
    const obj = w.policies.find((p) => p.metadata.name === check.name && p.metadata.namespace === check.namespace);
    const policy = w.model.policies.find((p) => p.name === check.name && p.namespace === check.namespace);
    if (!obj || !policy) return false;
    if (check.selects) {
      const inNs = w.model.pods.filter((p) => p.namespace === check.namespace);
      const selected = inNs.filter((p) => matchesSelector(policy.spec.podSelector, p.labels)).map((p) => p.name);
      const wanted = inNs.filter((p) => matchesSelector(check.selects!, p.labels)).map((p) => p.name);
      if (selected.join() !== wanted.join()) return false;
    }
    const types = effectivePolicyTypes(policy.spec);
    return (check.policyTypes ?? []).every((t) => (t === 'Egress' ? types.egress : types.ingress));
  }
  const sources = podsOf(w, check.from);
  expect(sources.length, `${check.id} has sources`).toBeGreaterThan(0);
  if (check.kind === 'dns') {
    const want = check.expect === 'resolves';
    return sources.every((s) => resolves(w, s) === want);
  }
  const want = check.expect === 'open';
  return sources.every((src) =>
    check.to.every((target) => {
      if (target.service !== undefined) {
        const ns = target.namespace ?? lab.namespace;
        const svc = w.services.find((s) => s.metadata.name === target.service && s.metadata.namespace === ns)!;
        const spec = svc.spec as { selector: Record<string, string>; ports: Array<{ port: number; targetPort: number }> };
        const endpoints = w.model.pods.filter((p) => p.namespace === ns && matchesSelector({ matchLabels: spec.selector }, p.labels));
        expect(endpoints.length, `${ns}/${target.service} has endpoints`).toBeGreaterThan(0);
        return target.ports.every((port) => {
          const sp = spec.ports.find((p) => p.port === port)!;
          const open = endpoints.every((e) => allowed(w, src, e, sp.targetPort, target.protocol));
          // Open probes go by name (DNS needed); blocked probes go to the ClusterIP.
          return want ? open && resolves(w, src) : !open;
        });
      }
      if (target.pods !== undefined) {
        const pods = podsOf(w, target.pods);
        expect(pods.length, `${check.id} target has pods`).toBeGreaterThan(0);
        return target.ports.every((port) => pods.every((p) => allowed(w, src, p, port, target.protocol) === want));
      }
      throw new Error('ip targets are not used by np-backend');
    }),
  );
}

/** The sampled checks only: statements of intent are proven by server/grader/intent.ts (tested there). */
type SampledCheck = Extract<Check, { kind: 'policy' | 'connectivity' | 'dns' }>;
const sampled = (c: Check): c is SampledCheck => c.kind === 'policy' || c.kind === 'connectivity' || c.kind === 'dns';

async function failingChecks(lab: Lab, scenario: KubeObject[], file?: string): Promise<string[]> {
  const attempt = file ? await readManifestFile(file) : [];
  const w = world(scenario, attempt);
  return lab.checks.filter(sampled).filter((c) => !checkHolds(lab, w, c)).map((c) => c.id);
}

describe('np-backend semantics (NetworkPolicy engine)', async () => {
  const lab = await loadLab('np-backend');
  const scenario = await readScenarioObjects(await loadScenario(lab.scenario));

  it('fails with nothing applied: the backend reaches everything', async () => {
    expect(await failingChecks(lab, scenario)).toEqual([
      'policy-exists',
      'backend-blocked-elsewhere',
      'dns-only-to-cluster-dns',
    ]);
  });

  it('passes every check with the reference solution', async () => {
    expect(await failingChecks(lab, scenario, lab.files.solution)).toEqual([]);
  });

  it.each((lab.knownRight ?? []).map((r) => [r.file, r.why]))('passes every check with %s (%s)', async (file) => {
    expect(await failingChecks(lab, scenario, join(lab.dir, file))).toEqual([]);
  });

  it('has at least 11 known-wrong attempts, each naming a real check', () => {
    expect(lab.knownWrong.length).toBeGreaterThanOrEqual(11);
    const ids = new Set(lab.checks.map((c) => c.id));
    for (const w of lab.knownWrong) expect(ids.has(w.failsCheck)).toBe(true);
  });

  const sampledIds = new Set(lab.checks.filter(sampled).map((c) => c.id));
  it.each(lab.knownWrong.filter((w) => sampledIds.has(w.failsCheck)).map((w) => [w.file, w.failsCheck, w.mistake]))('%s fails %s', async (file, failsCheck) => {
    const failing = await failingChecks(lab, scenario, join(lab.dir, file));
    expect(failing).toContain(failsCheck);
  });

  // What else each mistake breaks, pinned so a change to the scenario or the checks is noticed.
  it('fails exactly the expected set of checks for each known-wrong attempt', async () => {
    const table: Record<string, string[]> = {};
    for (const w of lab.knownWrong) table[w.file] = await failingChecks(lab, scenario, join(lab.dir, w.file));
    expect(table).toEqual({
      'wrong/01-forgot-dns.yaml': ['backend-dns', 'backend-reaches-databases'],
      'wrong/02-dns-namespace-or-pod.yaml': ['dns-only-to-cluster-dns'],
      'wrong/03-dns-tcp-only.yaml': ['backend-dns', 'backend-reaches-databases'],
      'wrong/04-one-rule-both-databases.yaml': ['backend-blocked-elsewhere'],
      'wrong/05-ports-as-separate-rule.yaml': ['backend-blocked-elsewhere'],
      'wrong/06-ingress-instead-of-egress.yaml': [
        'policy-exists',
        'backend-blocked-elsewhere',
        'dns-only-to-cluster-dns',
        'others-unaffected',
        'outside-unaffected',
      ],
      'wrong/07-policytypes-ingress-with-egress-rules.yaml': [
        'policy-exists',
        'backend-blocked-elsewhere',
        'dns-only-to-cluster-dns',
        'others-unaffected',
        'outside-unaffected',
      ],
      'wrong/08-label-typo.yaml': ['policy-exists', 'backend-blocked-elsewhere', 'dns-only-to-cluster-dns'],
      'wrong/09-wrong-namespace.yaml': ['policy-exists', 'backend-blocked-elsewhere', 'dns-only-to-cluster-dns'],
      'wrong/10-select-every-pod.yaml': ['policy-exists', 'others-unaffected'],
      'wrong/11-allow-all-egress.yaml': ['backend-blocked-elsewhere', 'dns-only-to-cluster-dns'],
      'wrong/12-dns-to-any-destination.yaml': ['dns-only-to-cluster-dns'],
      'wrong/13-dns-namespace-name-label.yaml': ['backend-dns', 'backend-reaches-databases'],
      'wrong/14-deny-all-egress.yaml': ['backend-reaches-databases'],
      'wrong/15-policytypes-omitted.yaml': ['others-unaffected', 'outside-unaffected'],
      // No sample notices this one: only the statement proven over all traffic does.
      'wrong/16-dns-whole-kube-system.yaml': [],
      'wrong/17-dns-every-namespace-but-np-lab.yaml': [],
      'wrong/18-dns-to-the-internet.yaml': ['dns-only-to-cluster-dns'],
      'wrong/19-dns-without-ports.yaml': [],
      'wrong/20-dns-udp-only.yaml': [],
      'wrong/21-allow-all-hidden-by-ingress.yaml': ['backend-blocked-elsewhere'],
      'wrong/22-backend-selected-by-name-list.yaml': [],
    });
  });
});
