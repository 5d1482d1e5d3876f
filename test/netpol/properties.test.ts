/**
 * Property-based tests: random small clusters and policies, checked against the rules that must
 * hold whatever the policies say.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  assignSyntheticIps,
  compileNetwork,
  computeMatrix,
  evaluate,
  validateNetworkPolicy,
  type CompiledNetwork,
  type LabelSelector,
  type NetworkModel,
  type NetworkPolicyModel,
  type NetworkPolicyPeer,
  type NetworkPolicyPort,
  type PodModel,
  type Protocol,
} from '../../server/netpol/index.js';

const NAMESPACES = ['x', 'y', 'z'];
const PORTS = [
  { name: 'http', port: 80, protocol: 'TCP' as const },
  { name: 'dns', port: 53, protocol: 'UDP' as const },
  { name: 'alt', port: 8080, protocol: 'TCP' as const },
  { name: 'sig', port: 3868, protocol: 'SCTP' as const },
];

const selector: fc.Arbitrary<LabelSelector> = fc.oneof(
  fc.constant({}),
  fc.record({
    matchLabels: fc.dictionary(fc.constantFrom('app', 'tier'), fc.constantFrom('a', 'b', 'c'), {
      maxKeys: 2,
    }),
  }),
  fc.record({
    matchExpressions: fc.array(
      fc.oneof(
        fc.record({
          key: fc.constantFrom('app', 'tier', 'env'),
          operator: fc.constantFrom('In' as const, 'NotIn' as const),
          values: fc.uniqueArray(fc.constantFrom('a', 'b', 'c', 'prod', 'dev'), {
            minLength: 1,
            maxLength: 2,
          }),
        }),
        fc.record({
          key: fc.constantFrom('app', 'tier', 'env'),
          operator: fc.constantFrom('Exists' as const, 'DoesNotExist' as const),
        }),
      ),
      { minLength: 1, maxLength: 2 },
    ),
  }),
);

const ipBlock = fc
  .tuple(fc.constantFrom(16, 24, 28), fc.nat(15), fc.boolean())
  .map(([prefix, n, withExcept]) =>
    prefix === 16
      ? { cidr: '10.244.0.0/16', ...(withExcept ? { except: ['10.244.0.0/28'] } : {}) }
      : prefix === 24
        ? { cidr: '10.244.0.0/24', ...(withExcept ? { except: [`10.244.0.${n * 16}/28`] } : {}) }
        : { cidr: `10.244.0.${n * 16}/28` },
  );

const peer: fc.Arbitrary<NetworkPolicyPeer> = fc.oneof(
  fc.record({ podSelector: selector }),
  fc.record({ namespaceSelector: selector }),
  fc.record({ podSelector: selector, namespaceSelector: selector }),
  fc.record({ ipBlock }),
);

const port: fc.Arbitrary<NetworkPolicyPort> = fc.oneof(
  fc.record({ port: fc.constantFrom(80, 53, 8080, 3868) }, { requiredKeys: [] }),
  fc.record({
    protocol: fc.constantFrom('TCP' as const, 'UDP' as const, 'SCTP' as const),
    port: fc.constantFrom(80, 53, 3868),
  }),
  fc.record({
    port: fc.constantFrom('http', 'dns', 'alt', 'sig', 'missing'),
    protocol: fc.constantFrom('TCP' as const, 'UDP' as const, 'SCTP' as const),
  }),
  fc.record({ port: fc.constant(50), endPort: fc.constantFrom(80, 8080) }),
  fc.record({ protocol: fc.constantFrom('UDP' as const, 'SCTP' as const) }),
);

const rule = (peersField: 'from' | 'to') =>
  fc.record(
    { [peersField]: fc.array(peer, { maxLength: 2 }), ports: fc.array(port, { maxLength: 2 }) },
    { requiredKeys: [] },
  );

const policyObject = (name: string) =>
  fc
    .record(
      {
        namespace: fc.constantFrom(...NAMESPACES),
        podSelector: selector,
        policyTypes: fc.option(fc.subarray(['Ingress', 'Egress'] as const, { minLength: 1 }), {
          nil: undefined,
        }),
        ingress: fc.option(fc.array(rule('from'), { maxLength: 2 }), { nil: undefined }),
        egress: fc.option(fc.array(rule('to'), { maxLength: 2 }), { nil: undefined }),
      },
      { requiredKeys: ['namespace', 'podSelector'] },
    )
    .map(({ namespace, ...spec }) => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name, namespace },
      spec: Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined)),
    }));

const podArb = fc.record({
  namespace: fc.constantFrom(...NAMESPACES),
  labels: fc.dictionary(
    fc.constantFrom('app', 'tier', 'env'),
    fc.constantFrom('a', 'b', 'c', 'prod', 'dev'),
    { maxKeys: 3 },
  ),
  ports: fc.subarray(PORTS),
  hostNetwork: fc.constantFrom(false, false, false, true),
});

const cluster = fc
  .record({
    pods: fc.array(podArb, { minLength: 1, maxLength: 6 }),
    policies: fc
      .array(fc.nat(), { maxLength: 4 })
      .chain((ids) => fc.tuple(...ids.map((_, i) => policyObject(`p${i}`)))),
    nsLabels: fc.tuple(...NAMESPACES.map(() => fc.constantFrom('prod', 'dev'))),
  })
  .map(({ pods, policies, nsLabels }) => {
    const podModels: PodModel[] = pods.map((p, i) => ({
      ...p,
      name: `pod${i}`,
      ips: [],
      hostNetwork: p.hostNetwork || undefined,
    }));
    assignSyntheticIps(podModels);
    const models = policies.map((obj) => {
      const { policy, problems } = validateNetworkPolicy(obj);
      if (!policy) throw new Error(`generator made an invalid policy: ${JSON.stringify(problems)}`);
      return policy;
    });
    const model: NetworkModel = {
      namespaces: NAMESPACES.map((name, i) => ({ name, labels: { env: nsLabels[i]! } })),
      pods: podModels,
      policies: models,
    };
    return { model, policyObjects: policies };
  });

const probePort = fc.oneof(
  fc.record({
    port: fc.constantFrom<number | string>(80, 53, 8080, 3868, 60),
    protocol: fc.constantFrom<Protocol>('TCP', 'UDP', 'SCTP'),
  }),
  fc.record({
    port: fc.constantFrom<number | string>('http', 'dns'),
    protocol: fc.constantFrom<Protocol>('TCP', 'UDP'),
  }),
);

function allVerdicts(net: CompiledNetwork, p: { port: number | string; protocol: Protocol }) {
  return net.pods.flatMap((s) =>
    net.pods.map((d) => evaluate(net, { kind: 'pod', pod: s }, { kind: 'pod', pod: d }, p.port, p.protocol)),
  );
}

const selects = (net: CompiledNetwork, policy: NetworkPolicyModel, pod: PodModel) =>
  net.policySelectsPod(policy, pod);

describe('NetworkPolicy properties', () => {
  it('the generator only makes policies the validator accepts unchanged', () => {
    fc.assert(
      fc.property(cluster, ({ model, policyObjects }) => {
        model.policies.forEach((p, i) =>
          expect(p.spec).toEqual((policyObjects[i] as { spec: unknown }).spec),
        );
      }),
      { numRuns: 200 },
    );
  });

  it('adding a policy never changes a verdict between pods it does not select', () => {
    fc.assert(
      fc.property(cluster, policyObject('added'), probePort, ({ model }, extraObj, p) => {
        const extra = validateNetworkPolicy(extraObj).policy!;
        const before = compileNetwork(model);
        const after = compileNetwork({ ...model, policies: [...model.policies, extra] });
        const b = allVerdicts(before, p);
        const a = allVerdicts(after, p);
        let k = 0;
        for (const s of model.pods) {
          for (const d of model.pods) {
            if (!selects(after, extra, s) && !selects(after, extra, d)) {
              expect(a[k]!.allowed, `${b[k]!.from} -> ${b[k]!.to}`).toBe(b[k]!.allowed);
            }
            k++;
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('adding a policy never closes traffic where the pods were already isolated (rules only add)', () => {
    fc.assert(
      fc.property(cluster, policyObject('added'), probePort, ({ model }, extraObj, p) => {
        const extra = validateNetworkPolicy(extraObj).policy!;
        const before = compileNetwork(model);
        const after = compileNetwork({ ...model, policies: [...model.policies, extra] });
        const b = allVerdicts(before, p);
        const a = allVerdicts(after, p);
        b.forEach((v, k) => {
          if (v.allowed && v.egress.isolated && v.ingress.isolated) expect(a[k]!.allowed).toBe(true);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('a destination selected by no ingress policy is reachable from any source whose egress is not isolated', () => {
    fc.assert(
      fc.property(cluster, probePort, ({ model }, p) => {
        const net = compileNetwork(model);
        for (const v of allVerdicts(net, p)) {
          if (!v.egress.isolated && !v.ingress.isolated && v.unresolvedPortName === undefined)
            expect(v.allowed).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the union is order-independent: shuffled policies give the same verdicts and the same allowing rules', () => {
    fc.assert(
      fc.property(
        cluster.chain((c) =>
          fc.tuple(
            fc.constant(c),
            fc.shuffledSubarray(c.model.policies, { minLength: c.model.policies.length }),
          ),
        ),
        probePort,
        ([{ model }, shuffled], p) => {
          const a = allVerdicts(compileNetwork(model), p);
          const b = allVerdicts(compileNetwork({ ...model, policies: shuffled }), p);
          const rules = (v: (typeof a)[number]) =>
            [...v.egress.allowedBy, ...v.ingress.allowedBy]
              .map((r) => `${r.policy}/${r.direction}/${r.rule}`)
              .sort();
          a.forEach((v, k) => {
            expect(b[k]!.allowed).toBe(v.allowed);
            expect(rules(b[k]!)).toEqual(rules(v));
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('verdicts are self-consistent: both directions, self, and isolation bookkeeping', () => {
    fc.assert(
      fc.property(cluster, probePort, ({ model }, p) => {
        for (const v of allVerdicts(compileNetwork(model), p)) {
          for (const dir of [v.egress, v.ingress]) {
            expect(dir.allowed).toBe(!dir.isolated || dir.allowedBy.length > 0);
            expect(dir.isolated).toBe(dir.isolatingPolicies.length > 0);
          }
          if (v.unresolvedPortName !== undefined) expect(v.allowed).toBe(false);
          else if (v.selfConnection) expect(v.allowed).toBe(true);
          else expect(v.allowed).toBe(v.egress.allowed && v.ingress.allowed);
          expect(v.reasons.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the matrix agrees with evaluate on every pair, for one port and for declared ports', () => {
    fc.assert(
      fc.property(cluster, probePort, ({ model }, p) => {
        const net = compileNetwork(model);
        const m = computeMatrix(net, { port: p });
        m.pods.forEach((s, i) =>
          m.pods.forEach((d, j) => {
            expect(m.allowed(i, j)).toBe(
              evaluate(net, { kind: 'pod', pod: s }, { kind: 'pod', pod: d }, p.port, p.protocol).allowed,
            );
          }),
        );
        const declared = computeMatrix(net);
        declared.pods.forEach((s, i) =>
          declared.pods.forEach((d, j) => {
            const expected = d.ports
              .filter(
                (dp) =>
                  evaluate(net, { kind: 'pod', pod: s }, { kind: 'pod', pod: d }, dp.port, dp.protocol)
                    .allowed,
              )
              .map((dp) => `${dp.port}/${dp.protocol}`);
            expect(declared.allowedPorts(i, j).map((x) => `${x.port}/${x.protocol}`)).toEqual(expected);
          }),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('external addresses are only ever matched by ipBlock peers', () => {
    fc.assert(
      fc.property(
        cluster,
        probePort,
        fc.constantFrom('10.244.0.3', '10.244.0.20', '192.0.2.1'),
        ({ model }, p, address) => {
          const net = compileNetwork(model);
          for (const pod of model.pods) {
            const v = evaluate(net, { kind: 'ip', ip: address }, { kind: 'pod', pod }, p.port, p.protocol);
            for (const ref of v.ingress.allowedBy) {
              const policy = model.policies.find((x) => `${x.namespace}/${x.name}` === ref.policy)!;
              const r = policy.spec.ingress![ref.rule]!;
              const peers = r.from ?? [];
              expect(peers.length === 0 || peers.some((x) => x.ipBlock !== undefined)).toBe(true);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
