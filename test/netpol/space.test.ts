/**
 * The traffic space must be exact: when it finds no difference between two collections of
 * policies, no concrete connection (with pods, namespaces, addresses and ports nobody has seen
 * yet) may tell them apart; and every difference it reports must be a real connection.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  compileNetwork,
  evaluate,
  matchesSelector,
  validateNetworkPolicy,
} from '../../server/netpol/index.js';
import { LabelSpace, selectorDifference } from '../../server/netpol/label-classes.js';
import { addressClasses, formatAddress } from '../../server/netpol/ip-classes.js';
import { TrafficSpace, isJudged } from '../../server/netpol/space.js';
import type {
  LabelSelector,
  NamespaceModel,
  NetworkPolicyModel,
  NetworkPolicyPeer,
  NetworkPolicyPort,
  PodModel,
  Protocol,
} from '../../server/netpol/types.js';

const ns = (name: string, labels: Record<string, string> = {}): NamespaceModel => ({
  name,
  labels: { ...labels, 'kubernetes.io/metadata.name': name },
});
const NAMESPACES = [ns('a', { team: 'x' }), ns('b', { team: 'y' })];
const PODS: PodModel[] = [
  {
    namespace: 'a',
    name: 'web-0',
    labels: { app: 'web' },
    ips: ['192.168.0.10'],
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  },
  {
    namespace: 'a',
    name: 'db-0',
    labels: { app: 'db', tier: 'back' },
    ips: ['192.168.0.11'],
    ports: [{ name: 'http', port: 5432, protocol: 'TCP' }],
  },
  { namespace: 'b', name: 'api-0', labels: { app: 'api' }, ips: ['192.168.0.12'], ports: [] },
];
const POD_NET = ['192.168.0.0/16'];
const SERVICE_NET = ['10.96.0.0/12'];

const labelSets = fc.dictionary(
  fc.constantFrom('app', 'tier', 'team'),
  fc.constantFrom('web', 'db', 'api', 'back', 'x', 'y', 'zzz'),
  { maxKeys: 3 },
);
const selector: fc.Arbitrary<LabelSelector> = fc.oneof(
  fc.constant({}),
  fc.record({
    matchLabels: fc.dictionary(
      fc.constantFrom('app', 'tier', 'team'),
      fc.constantFrom('web', 'db', 'api', 'back', 'x', 'y'),
      { minKeys: 1, maxKeys: 2 },
    ),
  }),
  fc.record({
    matchExpressions: fc.array(
      fc.oneof(
        fc.record({
          key: fc.constantFrom('app', 'tier', 'team'),
          operator: fc.constantFrom('In' as const, 'NotIn' as const),
          values: fc.uniqueArray(fc.constantFrom('web', 'db', 'x', 'y', 'back'), {
            minLength: 1,
            maxLength: 2,
          }),
        }),
        fc.record({
          key: fc.constantFrom('app', 'tier', 'team'),
          operator: fc.constantFrom('Exists' as const, 'DoesNotExist' as const),
        }),
      ),
      { minLength: 1, maxLength: 2 },
    ),
  }),
);
const nsSelector: fc.Arbitrary<LabelSelector> = fc.oneof(
  fc.constant({}),
  fc.record({
    matchLabels: fc.constantFrom<Record<string, string>>(
      { team: 'x' },
      { team: 'y' },
      { 'kubernetes.io/metadata.name': 'b' },
      { 'kubernetes.io/metadata.name': 'c' },
    ),
  }),
  fc.constant<LabelSelector>({ matchExpressions: [{ key: 'team', operator: 'NotIn', values: ['x'] }] }),
);
const peer: fc.Arbitrary<NetworkPolicyPeer> = fc.oneof(
  fc.record({ podSelector: selector }),
  fc.record({ namespaceSelector: nsSelector }),
  fc.record({ namespaceSelector: nsSelector, podSelector: selector }),
  fc.constantFrom<NetworkPolicyPeer>(
    { ipBlock: { cidr: '0.0.0.0/0' } },
    { ipBlock: { cidr: '0.0.0.0/0', except: ['192.168.0.0/16'] } },
    { ipBlock: { cidr: '203.0.113.0/24', except: ['203.0.113.64/26'] } },
    { ipBlock: { cidr: '192.168.0.0/24' } },
  ),
);
const port: fc.Arbitrary<NetworkPolicyPort> = fc.oneof(
  fc.record({ protocol: fc.constantFrom<Protocol>('TCP', 'UDP'), port: fc.constantFrom(53, 80, 8080, 5432) }),
  fc.record({
    protocol: fc.constant<Protocol>('TCP'),
    port: fc.constant(8000),
    endPort: fc.constantFrom(8080, 8100),
  }),
  fc.record({ protocol: fc.constant<Protocol>('TCP'), port: fc.constant('http') }),
  fc.record({ protocol: fc.constantFrom<Protocol>('TCP', 'SCTP') }),
);
const rules = fc.array(
  fc.record({
    peers: fc.option(fc.array(peer, { maxLength: 2 }), { nil: undefined }),
    ports: fc.option(fc.array(port, { maxLength: 2 }), { nil: undefined }),
  }),
  { maxLength: 2 },
);
const policy: fc.Arbitrary<NetworkPolicyModel> = fc
  .record({
    namespace: fc.constantFrom('a', 'b'),
    podSelector: selector,
    types: fc.constantFrom<Array<'Ingress' | 'Egress'>>(['Ingress'], ['Egress'], ['Ingress', 'Egress']),
    ingress: rules,
    egress: rules,
  })
  .map((p) => ({
    namespace: p.namespace,
    name: 'p',
    spec: {
      podSelector: p.podSelector,
      policyTypes: p.types,
      ingress: p.ingress.map((r) => ({
        ...(r.peers ? { from: r.peers } : {}),
        ...(r.ports ? { ports: r.ports } : {}),
      })),
      egress: p.egress.map((r) => ({
        ...(r.peers ? { to: r.peers } : {}),
        ...(r.ports ? { ports: r.ports } : {}),
      })),
    },
  }));
const policies = fc
  .array(policy, { maxLength: 2 })
  .map((list) => list.map((p, i) => ({ ...p, name: `p${i}` })));

/** A pod nobody has seen: any namespace (existing or new), any labels, any free address, any port names. */
const freshPod = fc.record({
  namespace: fc.constantFrom('a', 'b', 'c', 'd'),
  labels: labelSets,
  host: fc.integer({ min: 100, max: 60000 }),
  httpPort: fc.option(fc.constantFrom(80, 8080, 8050, 9999, 5432), { nil: undefined }),
});
const externalIp = fc.oneof(
  fc.constantFrom('8.8.8.8', '203.0.113.5', '203.0.113.70', '203.0.113.200', '10.1.2.3'),
  fc.integer({ min: 0, max: 2 ** 32 - 1 }).map((n) => formatAddress('ipv4', BigInt(n))),
);
const endpoint = fc.oneof(
  { weight: 3, arbitrary: freshPod.map((p) => ({ kind: 'pod' as const, ...p })) },
  { weight: 1, arbitrary: fc.constantFrom(0, 1, 2).map((i) => ({ kind: 'existing' as const, i })) },
  { weight: 1, arbitrary: externalIp.map((ip) => ({ kind: 'ip' as const, ip })) },
);
const connection = fc.record({
  from: endpoint,
  to: endpoint,
  port: fc.oneof(
    fc.constantFrom(53, 79, 80, 81, 5432, 7999, 8000, 8050, 8080, 8081, 8100, 8101, 9999),
    fc.integer({ min: 1, max: 65535 }),
  ),
  protocol: fc.constantFrom<Protocol>('TCP', 'UDP', 'SCTP'),
});

type EndpointCase = typeof endpoint extends fc.Arbitrary<infer T> ? T : never;
type ConnectionCase = typeof connection extends fc.Arbitrary<infer T> ? T : never;

function inPodNet(ip: string): boolean {
  return ip.startsWith('192.168.');
}
function inServiceNet(ip: string): boolean {
  const [a, b] = ip.split('.').map(Number) as [number, number];
  return a === 10 && b >= 96 && b <= 111;
}

/** Evaluates concrete connections with both collections, on a cluster that also holds the fresh pods. */
function concreteVerdicts(a: NetworkPolicyModel[], b: NetworkPolicyModel[], conns: Array<ConnectionCase>) {
  const extraPods: PodModel[] = [];
  const extraNs = new Map<string, NamespaceModel>([
    ['c', ns('c', { team: 'y' })],
    ['d', ns('d')],
  ]);
  const toEndpoint = (e: EndpointCase, k: string) => {
    if (e.kind === 'existing') return { kind: 'pod' as const, pod: PODS[e.i]! };
    if (e.kind === 'ip') return { kind: 'ip' as const, ip: e.ip };
    const pod: PodModel = {
      namespace: e.namespace,
      name: `fresh-${k}`,
      labels: e.labels,
      ips: [`192.168.${(e.host >> 8) & 255}.${e.host & 255}`],
      ports: e.httpPort ? [{ name: 'http', port: e.httpPort, protocol: 'TCP' }] : [],
    };
    extraPods.push(pod);
    return { kind: 'pod' as const, pod };
  };
  const prepared = conns.map((c, i) => ({
    ...c,
    src: toEndpoint(c.from, `${i}s`),
    dst: toEndpoint(c.to, `${i}d`),
  }));
  const namespaces = [...NAMESPACES, ...extraNs.values()];
  const netA = compileNetwork({ namespaces, pods: [...PODS, ...extraPods], policies: a });
  const netB = compileNetwork({ namespaces, pods: [...PODS, ...extraPods], policies: b });
  return (
    prepared
      .filter((c) => !(c.src.kind === 'ip' && c.dst.kind === 'ip'))
      .filter((c) => !(c.src.kind === 'pod' && c.dst.kind === 'pod' && c.src.pod === c.dst.pod))
      // Addresses of the pod and Service networks are not "outside the cluster".
      .filter((c) => ![c.src, c.dst].some((e) => e.kind === 'ip' && (inPodNet(e.ip) || inServiceNet(e.ip))))
      .filter((c) => !(c.src.kind === 'pod' && c.dst.kind === 'pod' && c.src.pod.ips[0] === c.dst.pod.ips[0]))
      .map((c) => ({
        c,
        a: evaluate(netA, c.src, c.dst, c.port, c.protocol).allowed,
        b: evaluate(netB, c.src, c.dst, c.port, c.protocol).allowed,
      }))
  );
}

function spaceSaysEqual(a: NetworkPolicyModel[], b: NetworkPolicyModel[]): boolean {
  const space = new TrafficSpace({
    namespaces: NAMESPACES,
    pods: PODS,
    policySets: [a, b],
    podNetworks: POD_NET,
    clusterNetworks: SERVICE_NET,
  });
  const ba = space.behaviour(a);
  const bb = space.behaviour(b);
  for (let s = 0; s < space.sources.length; s++)
    for (let d = 0; d < space.destinations.length; d++) {
      if (!isJudged(space.sources[s]!, space.destinations[d]!)) continue;
      for (let x = 0; x < space.atoms.length; x++)
        if (ba.allowed(s, d, x) !== bb.allowed(s, d, x)) return false;
    }
  return true;
}

describe('TrafficSpace is exact', () => {
  it('generates only policies the API server accepts (sanity of the generator)', () => {
    fc.assert(
      fc.property(policies, (list) =>
        list.every(
          (p) =>
            validateNetworkPolicy({
              apiVersion: 'networking.k8s.io/v1',
              kind: 'NetworkPolicy',
              metadata: { name: p.name, namespace: p.namespace },
              spec: p.spec,
            }).problems.length === 0,
        ),
      ),
      { numRuns: 100 },
    );
  });

  it('no concrete connection tells two collections apart when the space finds them equal (against nothing, and against each other)', () => {
    fc.assert(
      fc.property(
        policies,
        policies,
        fc.array(connection, { minLength: 30, maxLength: 30 }),
        (a, b, conns) => {
          for (const [x, y] of [
            [a, []],
            [a, b],
          ] as Array<[NetworkPolicyModel[], NetworkPolicyModel[]]>) {
            if (!spaceSaysEqual(x, y)) continue;
            for (const v of concreteVerdicts(x, y, conns)) {
              if (v.a !== v.b) throw new Error(`space says equal, but ${JSON.stringify(v.c)} differs`);
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('every cell of a behaviour agrees with the engine evaluating its witness connection', () => {
    fc.assert(
      fc.property(policies, (a) => {
        const space = new TrafficSpace({
          namespaces: NAMESPACES,
          pods: PODS,
          policySets: [a],
          podNetworks: POD_NET,
          clusterNetworks: SERVICE_NET,
        });
        const b = space.behaviour(a);
        const net = compileNetwork({ ...space.model, policies: a });
        for (let s = 0; s < space.sources.length; s++)
          for (let d = 0; d < space.destinations.length; d++) {
            const src = space.sources[s]!;
            const dst = space.destinations[d]!;
            // A witness to itself stands for two pods of one class, which evaluate() cannot express.
            if (
              !isJudged(src, dst) ||
              dst.namesEveryPort.size > 0 ||
              (src.kind === 'pod' && src.podIndex === dst.podIndex)
            )
              continue;
            const ep = (e: typeof src) =>
              e.kind === 'ip' ? { kind: 'ip' as const, ip: e.ip! } : { kind: 'pod' as const, pod: e.pod! };
            space.atoms.forEach((atom, x) => {
              expect(b.allowed(s, d, x)).toBe(
                evaluate(net, ep(src), ep(dst), atom.hi, atom.protocol).allowed,
              );
            });
          }
      }),
      { numRuns: 60 },
    );
  });

  it('tells apart policies that differ only on a port no sample would try', () => {
    const base: NetworkPolicyModel = {
      namespace: 'a',
      name: 'p',
      spec: {
        podSelector: { matchLabels: { app: 'web' } },
        policyTypes: ['Egress'],
        egress: [{ ports: [{ protocol: 'TCP', port: 8080 }] }],
      },
    };
    const wider: NetworkPolicyModel = {
      ...base,
      spec: { ...base.spec, egress: [{ ports: [{ protocol: 'TCP', port: 8080, endPort: 8081 }] }] },
    };
    expect(spaceSaysEqual([base], [wider])).toBe(false);
    expect(spaceSaysEqual([base], [structuredClone(base)])).toBe(true);
  });

  it('keeps one witness per class: a NotIn namespace selector is told apart by a namespace with no labels', () => {
    const notIn: NetworkPolicyModel = {
      namespace: 'a',
      name: 'p',
      spec: {
        podSelector: {},
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [
              {
                namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'NotIn', values: ['y'] }] },
              },
            ],
          },
        ],
      },
    };
    const byLabel: NetworkPolicyModel = {
      namespace: 'a',
      name: 'p',
      spec: {
        podSelector: {},
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'x' } } }] }],
      },
    };
    // Today both admit exactly namespace a; a new namespace without labels tells them apart.
    const space = new TrafficSpace({
      namespaces: NAMESPACES,
      pods: PODS,
      policySets: [[notIn], [byLabel]],
      podNetworks: POD_NET,
    });
    expect(space.sources.some((e) => e.hypothetical && /new namespace/.test(e.description))).toBe(true);
    expect(spaceSaysEqual([notIn], [byLabel])).toBe(false);
  });
});

describe('label classes', () => {
  it('finds a label set two selectors disagree on, or proves there is none', () => {
    expect(
      selectorDifference(
        { matchLabels: { app: 'backend' } },
        { matchExpressions: [{ key: 'app', operator: 'In', values: ['backend'] }] },
      ),
    ).toBeUndefined();
    expect(
      selectorDifference({ matchLabels: { app: 'backend' } }, { matchLabels: { app: 'backend', tier: 'x' } }),
    ).toEqual({ labels: { app: 'backend' }, matchedBy: 'first' });
    expect(
      selectorDifference({}, { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['db'] }] }),
    ).toEqual({ labels: { app: 'db' }, matchedBy: 'first' });
  });

  it('agrees with direct selector matching on random label sets', () => {
    fc.assert(
      fc.property(selector, selector, labelSets, (a, b, labels) => {
        const space = new LabelSpace();
        space.mention(a);
        space.mention(b);
        const classes = space.refine(space.refine([space.universe()], a), b);
        // Every label set falls in exactly one class, and the class answers as the selector does.
        const holding = classes.filter((cls) => {
          const own = space.classOf(labels);
          return [...own].every(([k, m]) => ((cls.get(k) ?? 0n) & m) !== 0n);
        });
        expect(holding).toHaveLength(1);
        expect(space.matches(holding[0]!, a)).toBe(matchesSelector(a, labels));
        expect(space.matches(holding[0]!, b)).toBe(matchesSelector(b, labels));
      }),
      { numRuns: 300 },
    );
  });
});

describe('address classes', () => {
  it('cuts at every CIDR boundary and picks familiar witnesses', () => {
    const classes = addressClasses(['0.0.0.0/0', '203.0.113.0/24', '203.0.113.64/26']);
    const v4 = classes.filter((c) => c.family === 'ipv4');
    expect(v4.map((c) => c.inside)).toEqual(expect.arrayContaining([[0], [0, 1], [0, 1, 2]]));
    expect(v4.find((c) => c.inside.length === 1)!.witness).toBe('8.8.8.8');
    expect(v4.find((c) => c.inside.length === 3)!.witness).toBe('203.0.113.64');
    expect(classes.find((c) => c.family === 'ipv6')!.witness).toBe('2001:4860:4860::8888');
  });
});
