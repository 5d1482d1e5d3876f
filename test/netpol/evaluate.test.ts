import { describe, it, expect } from 'vitest';
import {
  evaluate,
  explainVerdict,
  formatRuleRef,
  type CompiledNetwork,
  type Endpoint,
  type Protocol,
} from '../../server/netpol/index.js';
import { netOf, np, pod } from './helpers.js';

const at = (net: CompiledNetwork, ref: string): Endpoint => {
  const [ns, name] = ref.split('/');
  const p = net.pod(ns!, name!);
  if (!p) throw new Error(`no pod ${ref}`);
  return { kind: 'pod', pod: p };
};
const ip = (address: string): Endpoint => ({ kind: 'ip', ip: address });
const check = (
  net: CompiledNetwork,
  from: string | Endpoint,
  to: string | Endpoint,
  port: number | string = 80,
  protocol: Protocol = 'TCP',
) =>
  evaluate(
    net,
    typeof from === 'string' ? at(net, from) : from,
    typeof to === 'string' ? at(net, to) : to,
    port,
    protocol,
  );

/** x/a (app=a), x/b (app=b), y/c (app=c); all serve http 80/TCP, dns 53/UDP. */
function topology() {
  const ports = [
    { name: 'http', port: 80, protocol: 'TCP' as const },
    { name: 'dns', port: 53, protocol: 'UDP' as const },
    { name: 'sctp', port: 9000, protocol: 'SCTP' as const },
  ];
  return [
    pod('x', 'a', { app: 'a' }, { ports }),
    pod('x', 'b', { app: 'b' }, { ports }),
    pod('y', 'c', { app: 'c' }, { ports }),
  ];
}

describe('isolation and policyTypes defaulting', () => {
  it('no policy: everything is allowed, and the reasons say nothing isolates', () => {
    const v = check(netOf(topology(), []), 'x/a', 'x/b');
    expect(v.allowed).toBe(true);
    expect(v.egress).toEqual({ isolated: false, isolatingPolicies: [], allowedBy: [], allowed: true });
    expect(v.reasons.join('\n')).toMatch(/not isolated/);
  });

  it('policyTypes absent and no egress rules: isolates Ingress only', () => {
    const net = netOf(topology(), [np('x', 'deny', { podSelector: {} })]);
    expect(check(net, 'y/c', 'x/a').allowed).toBe(false);
    const out = check(net, 'x/a', 'y/c');
    expect(out.allowed).toBe(true);
    expect(out.egress.isolated).toBe(false);
  });

  it('policyTypes absent with egress rules: isolates both directions', () => {
    const net = netOf(topology(), [
      np('x', 'both', {
        podSelector: { matchLabels: { app: 'a' } },
        egress: [{ to: [{ podSelector: { matchLabels: { app: 'b' } } }] }],
      }),
    ]);
    const v = check(net, 'x/a', 'y/c');
    expect(v.allowed).toBe(false);
    expect(v.egress.isolatingPolicies).toEqual(['x/both']);
    expect(check(net, 'x/a', 'x/b').allowed).toBe(true);
    expect(check(net, 'y/c', 'x/a').ingress.isolated).toBe(true);
    expect(check(net, 'y/c', 'x/a').allowed).toBe(false);
  });

  it('policyTypes absent with an EMPTY egress list: still Ingress only', () => {
    const net = netOf(topology(), [np('x', 'p', { podSelector: {}, egress: [] })]);
    expect(check(net, 'x/a', 'y/c').egress.isolated).toBe(false);
  });

  it('explicit policyTypes wins: [Egress] ignores written ingress rules and leaves ingress open', () => {
    const net = netOf(topology(), [
      np('x', 'egress-only', {
        podSelector: {},
        policyTypes: ['Egress'],
        ingress: [{ from: [{ podSelector: { matchLabels: { app: 'nobody' } } }] }],
      }),
    ]);
    expect(check(net, 'y/c', 'x/a').allowed).toBe(true);
    expect(check(net, 'y/c', 'x/a').ingress.isolated).toBe(false);
    expect(check(net, 'x/a', 'y/c').allowed).toBe(false);
  });

  it('explicit [Ingress] with egress rules does not isolate egress', () => {
    const net = netOf(topology(), [
      np('x', 'p', { podSelector: {}, policyTypes: ['Ingress'], egress: [{ to: [{ podSelector: {} }] }] }),
    ]);
    expect(check(net, 'x/a', 'y/c').allowed).toBe(true);
  });
});

describe('both ends must agree, policies add up, self is always allowed', () => {
  it('a connection needs egress allowed at the source AND ingress at the destination', () => {
    const net = netOf(topology(), [
      np('x', 'a-out', {
        podSelector: { matchLabels: { app: 'a' } },
        policyTypes: ['Egress'],
        egress: [{ to: [{ namespaceSelector: {} }] }],
      }),
      np('y', 'c-in', {
        podSelector: {},
        ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: 'b' } } }] }],
      }),
    ]);
    const v = check(net, 'x/a', 'y/c');
    expect(v.allowed).toBe(false);
    expect(v.egress.allowed).toBe(true);
    expect(v.ingress.allowed).toBe(false);
    // The blocking direction comes first in the reasons.
    expect(v.reasons[0]).toMatch(
      /^ingress to y\/c is isolated by y\/c-in and no ingress rule allows traffic from x\/a on TCP 80/,
    );
    expect(check(net, 'x/b', 'y/c').allowed).toBe(true);
  });

  it('policies are a union: the allowing rules of every policy count, and all are listed', () => {
    const net = netOf(topology(), [
      np('x', 'p1', {
        podSelector: { matchLabels: { app: 'a' } },
        ingress: [{ ports: [{ port: 81 }] }, { from: [{ podSelector: { matchLabels: { app: 'b' } } }] }],
      }),
      np('x', 'p2', { podSelector: { matchLabels: { app: 'a' } }, ingress: [{ ports: [{ port: 80 }] }] }),
      np('x', 'deny', { podSelector: {}, policyTypes: ['Ingress'] }),
    ]);
    const v = check(net, 'x/b', 'x/a');
    expect(v.allowed).toBe(true);
    expect(v.ingress.isolatingPolicies.sort()).toEqual(['x/deny', 'x/p1', 'x/p2']);
    expect(v.ingress.allowedBy.map(formatRuleRef)).toEqual(['x/p1 ingress[1]', 'x/p2 ingress[0]']);
    expect(v.reasons.join('\n')).toContain('allowed by x/p1 ingress[1]; x/p2 ingress[0]');
    expect(check(net, 'y/c', 'x/a', 81).allowed).toBe(true);
    expect(check(net, 'y/c', 'x/a', 82).allowed).toBe(false);
  });

  it('a pod can always reach itself, even when fully isolated', () => {
    const net = netOf(topology(), [np('x', 'deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] })]);
    const v = check(net, 'x/a', 'x/a');
    expect(v.allowed).toBe(true);
    expect(v.selfConnection).toBe(true);
    expect(v.egress.allowed).toBe(false);
    expect(v.reasons[0]).toMatch(/itself/);
  });
});

describe('peers', () => {
  const topo = () => [
    pod('x', 'a', { app: 'a' }),
    pod('x', 'b', { app: 'b' }),
    pod('y', 'b', { app: 'b' }),
    pod('y', 'c', { app: 'c' }),
    pod('z', 'b', { app: 'b' }),
  ];
  const namespaces = [
    { name: 'x', labels: { env: 'prod' } },
    { name: 'y', labels: { env: 'dev' } },
    { name: 'z', labels: { env: 'prod' } },
  ];
  const ingressTo = (from: unknown[]) => [
    np('x', 'p', { podSelector: { matchLabels: { app: 'a' } }, ingress: [{ from }] }),
  ];

  it('podSelector alone means pods in the policy namespace', () => {
    const net = netOf(topo(), ingressTo([{ podSelector: { matchLabels: { app: 'b' } } }]), namespaces);
    expect(check(net, 'x/b', 'x/a').allowed).toBe(true);
    expect(check(net, 'y/b', 'x/a').allowed).toBe(false);
  });

  it('namespaceSelector alone means every pod in the matching namespaces (own namespace only if it matches)', () => {
    const net = netOf(
      topo(),
      ingressTo([{ namespaceSelector: { matchLabels: { env: 'dev' } } }]),
      namespaces,
    );
    expect(check(net, 'y/b', 'x/a').allowed).toBe(true);
    expect(check(net, 'y/c', 'x/a').allowed).toBe(true);
    expect(check(net, 'x/b', 'x/a').allowed).toBe(false);
    expect(check(net, 'z/b', 'x/a').allowed).toBe(false);
  });

  it('namespaceSelector uses kubernetes.io/metadata.name even when the model omits it', () => {
    const net = netOf(
      topo(),
      ingressTo([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'z' } } }]),
      namespaces,
    );
    expect(check(net, 'z/b', 'x/a').allowed).toBe(true);
    expect(check(net, 'y/b', 'x/a').allowed).toBe(false);
  });

  it('both selectors in one item are ANDed; separate items are ORed', () => {
    const and = netOf(
      topo(),
      ingressTo([
        { namespaceSelector: { matchLabels: { env: 'prod' } }, podSelector: { matchLabels: { app: 'b' } } },
      ]),
      namespaces,
    );
    expect(check(and, 'z/b', 'x/a').allowed).toBe(true);
    expect(check(and, 'x/b', 'x/a').allowed).toBe(true);
    expect(check(and, 'y/b', 'x/a').allowed).toBe(false);
    const or = netOf(
      topo(),
      ingressTo([
        { namespaceSelector: { matchLabels: { env: 'dev' } } },
        { podSelector: { matchLabels: { app: 'b' } } },
      ]),
      namespaces,
    );
    expect(check(or, 'y/c', 'x/a').allowed).toBe(true);
    expect(check(or, 'x/b', 'x/a').allowed).toBe(true);
    expect(check(or, 'z/b', 'x/a').allowed).toBe(false);
  });

  it('empty selectors: namespaceSelector {} is every namespace, podSelector {} the policy namespace', () => {
    const all = netOf(topo(), ingressTo([{ namespaceSelector: {} }]), namespaces);
    expect(check(all, 'z/b', 'x/a').allowed).toBe(true);
    const own = netOf(topo(), ingressTo([{ podSelector: {} }]), namespaces);
    expect(check(own, 'x/b', 'x/a').allowed).toBe(true);
    expect(check(own, 'z/b', 'x/a').allowed).toBe(false);
  });

  it('absent or empty from/to means every peer, including addresses outside the cluster', () => {
    for (const rule of [{}, { from: [] }]) {
      const net = netOf(
        topo(),
        [np('x', 'p', { podSelector: { matchLabels: { app: 'a' } }, ingress: [rule] })],
        namespaces,
      );
      expect(check(net, 'z/b', 'x/a').allowed).toBe(true);
      expect(check(net, ip('203.0.113.9'), 'x/a').allowed).toBe(true);
    }
    const egress = netOf(
      topo(),
      [np('x', 'p', { podSelector: { matchLabels: { app: 'a' } }, egress: [{ to: [] }] })],
      namespaces,
    );
    expect(check(egress, 'x/a', ip('203.0.113.9')).allowed).toBe(true);
  });

  it('a policy with no rules in a direction allows nothing in it', () => {
    const net = netOf(
      topo(),
      [np('x', 'p', { podSelector: { matchLabels: { app: 'a' } }, ingress: [] })],
      namespaces,
    );
    expect(check(net, 'x/b', 'x/a').allowed).toBe(false);
  });
});

describe('ipBlock', () => {
  const topo = () => [
    pod('x', 'a', { app: 'a' }, { ips: ['10.0.1.5'] }),
    pod('x', 'b', { app: 'b' }, { ips: ['10.0.2.5'] }),
    pod('x', 'v6', { app: 'v6' }, { ips: ['fd00::5', '10.0.3.5'] }),
  ];

  it('matches external addresses inside cidr and outside except', () => {
    const net = netOf(topo(), [
      np('x', 'out', {
        podSelector: { matchLabels: { app: 'a' } },
        policyTypes: ['Egress'],
        egress: [{ to: [{ ipBlock: { cidr: '203.0.113.0/24', except: ['203.0.113.128/25'] } }] }],
      }),
    ]);
    expect(check(net, 'x/a', ip('203.0.113.9')).allowed).toBe(true);
    expect(check(net, 'x/a', ip('203.0.113.200')).allowed).toBe(false);
    expect(check(net, 'x/a', ip('198.51.100.1')).allowed).toBe(false);
    expect(check(net, 'x/a', ip('203.0.113.200')).reasons[0]).toMatch(
      /no egress rule allows traffic to 203\.0\.113\.200/,
    );
  });

  it('also matches pod IPs (Calico), in both directions', () => {
    const net = netOf(topo(), [
      np('x', 'in', {
        podSelector: { matchLabels: { app: 'a' } },
        ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.0.3.0/24'] } }] }],
      }),
      np('x', 'out', {
        podSelector: { matchLabels: { app: 'b' } },
        policyTypes: ['Egress'],
        egress: [{ to: [{ ipBlock: { cidr: '10.0.1.5/32' } }] }],
      }),
    ]);
    expect(check(net, 'x/b', 'x/a').allowed).toBe(true);
    expect(check(net, 'x/v6', 'x/a').allowed).toBe(false);
    expect(check(net, ip('10.0.9.9'), 'x/a').allowed).toBe(true);
    expect(check(net, ip('10.1.0.1'), 'x/a').allowed).toBe(false);
    expect(check(net, 'x/b', 'x/v6').allowed).toBe(false);
  });

  it('matches IPv6 (any of a dual-stack pod addresses counts)', () => {
    const net = netOf(topo(), [
      np('x', 'in', {
        podSelector: { matchLabels: { app: 'a' } },
        ingress: [{ from: [{ ipBlock: { cidr: 'fd00::/64' } }] }],
      }),
    ]);
    expect(check(net, 'x/v6', 'x/a').allowed).toBe(true);
    expect(check(net, ip('fd00::99'), 'x/a').allowed).toBe(true);
    expect(check(net, ip('fd01::1'), 'x/a').allowed).toBe(false);
    expect(check(net, 'x/b', 'x/a').allowed).toBe(false);
  });

  it('external endpoints are matched only by ipBlock peers, never by selectors', () => {
    const net = netOf(topo(), [
      np('x', 'in', {
        podSelector: { matchLabels: { app: 'a' } },
        ingress: [{ from: [{ namespaceSelector: {} }, { podSelector: {} }] }],
      }),
    ]);
    expect(check(net, ip('10.0.2.5'), 'x/a').allowed).toBe(false);
    expect(check(net, 'x/b', 'x/a').allowed).toBe(true);
    const v = check(net, ip('192.0.2.1'), 'x/a');
    expect(v.egress.isolated).toBe(false);
    expect(v.reasons.join('\n')).toMatch(/outside the pod network/);
  });
});

describe('ports', () => {
  const ports = [
    { name: 'http', port: 8080, protocol: 'TCP' as const },
    { name: 'dns', port: 53, protocol: 'UDP' as const },
    { name: 'dns-tcp', port: 53, protocol: 'TCP' as const },
    { name: 'sig', port: 3868, protocol: 'SCTP' as const },
  ];
  const topo = () => [
    pod('x', 'srv', { app: 'srv' }, { ports }),
    pod('x', 'cli', { app: 'cli' }, { ports: [{ name: 'http', port: 9999, protocol: 'TCP' }] }),
  ];
  const ingressPorts = (p: unknown[]) =>
    netOf(topo(), [np('x', 'p', { podSelector: { matchLabels: { app: 'srv' } }, ingress: [{ ports: p }] })]);

  it('absent or empty ports means every port and protocol', () => {
    for (const net of [
      netOf(topo(), [np('x', 'p', { podSelector: { matchLabels: { app: 'srv' } }, ingress: [{}] })]),
      ingressPorts([]),
    ]) {
      expect(check(net, 'x/cli', 'x/srv', 1).allowed).toBe(true);
      expect(check(net, 'x/cli', 'x/srv', 53, 'UDP').allowed).toBe(true);
      expect(check(net, 'x/cli', 'x/srv', 3868, 'SCTP').allowed).toBe(true);
    }
  });

  it('numeric port with the default protocol TCP', () => {
    const net = ingressPorts([{ port: 8080 }]);
    expect(check(net, 'x/cli', 'x/srv', 8080).allowed).toBe(true);
    expect(check(net, 'x/cli', 'x/srv', 8080, 'UDP').allowed).toBe(false);
    expect(check(net, 'x/cli', 'x/srv', 8081).allowed).toBe(false);
  });

  it('protocol without port means every port of that protocol; UDP and SCTP', () => {
    const net = ingressPorts([{ protocol: 'UDP' }, { protocol: 'SCTP', port: 3868 }]);
    expect(check(net, 'x/cli', 'x/srv', 53, 'UDP').allowed).toBe(true);
    expect(check(net, 'x/cli', 'x/srv', 5353, 'UDP').allowed).toBe(true);
    expect(check(net, 'x/cli', 'x/srv', 53, 'TCP').allowed).toBe(false);
    expect(check(net, 'x/cli', 'x/srv', 3868, 'SCTP').allowed).toBe(true);
    expect(check(net, 'x/cli', 'x/srv', 3868, 'TCP').allowed).toBe(false);
  });

  it('endPort ranges are inclusive', () => {
    const net = ingressPorts([{ port: 8000, endPort: 8080 }]);
    expect(check(net, 'x/cli', 'x/srv', 7999).allowed).toBe(false);
    expect(check(net, 'x/cli', 'x/srv', 8000).allowed).toBe(true);
    expect(check(net, 'x/cli', 'x/srv', 8080).allowed).toBe(true);
    expect(check(net, 'x/cli', 'x/srv', 8081).allowed).toBe(false);
  });

  it('named ports resolve on the destination by name AND protocol', () => {
    const net = ingressPorts([{ port: 'http' }, { port: 'dns', protocol: 'UDP' }]);
    expect(check(net, 'x/cli', 'x/srv', 8080).allowed).toBe(true);
    expect(check(net, 'x/cli', 'x/srv', 53, 'UDP').allowed).toBe(true);
    expect(check(net, 'x/cli', 'x/srv', 53, 'TCP').allowed).toBe(false);
    // The name with the wrong protocol does not resolve: that entry matches nothing.
    const wrongProto = ingressPorts([{ port: 'dns' }]);
    expect(check(wrongProto, 'x/cli', 'x/srv', 53, 'TCP').allowed).toBe(false);
    expect(check(wrongProto, 'x/cli', 'x/srv', 53, 'UDP').allowed).toBe(false);
  });

  it('an egress rule named port resolves on the destination, not the source', () => {
    const net = netOf(topo(), [
      np('x', 'p', {
        podSelector: { matchLabels: { app: 'cli' } },
        policyTypes: ['Egress'],
        egress: [{ ports: [{ port: 'http' }] }],
      }),
    ]);
    expect(check(net, 'x/cli', 'x/srv', 8080).allowed).toBe(true);
    expect(check(net, 'x/cli', 'x/srv', 9999).allowed).toBe(false);
    // An address outside the cluster has no named ports.
    expect(check(net, 'x/cli', ip('192.0.2.1'), 8080).allowed).toBe(false);
  });

  it('a probe may name the port; it resolves on the destination', () => {
    const net = ingressPorts([{ port: 8080 }]);
    const v = check(net, 'x/cli', 'x/srv', 'http');
    expect(v.allowed).toBe(true);
    expect(v.port).toBe(8080);
    expect(v.askedPort).toBe('http');
    const missing = check(net, 'x/cli', 'x/srv', 'nope');
    expect(missing.allowed).toBe(false);
    expect(missing.port).toBeUndefined();
    expect(missing.reasons[0]).toMatch(/no TCP container port named "nope"/);
  });
});

describe('hostNetwork pods (Calico: not subject to pod policy; as peers only ipBlock on their node IP matches)', () => {
  const topo = () => [
    pod('x', 'a', { app: 'a' }),
    pod('x', 'host', { app: 'a' }, { hostNetwork: true, ips: ['172.18.0.2'] }),
  ];
  it('is never isolated, even when a policy selector matches its labels', () => {
    const net = netOf(topo(), [np('x', 'deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] })]);
    const toHost = check(net, ip('192.0.2.1'), 'x/host');
    expect(toHost.allowed).toBe(true);
    expect(toHost.ingress.isolated).toBe(false);
    expect(toHost.reasons.join('\n')).toMatch(/uses the host network/);
    expect(check(net, 'x/host', ip('192.0.2.1')).allowed).toBe(true);
  });
  it('as a peer is matched by ipBlock, not by selectors', () => {
    const bySelector = netOf(topo(), [
      np('x', 'p', {
        podSelector: { matchLabels: { app: 'a' } },
        ingress: [{ from: [{ podSelector: {} }] }],
      }),
    ]);
    expect(check(bySelector, 'x/host', 'x/a').allowed).toBe(false);
    const byIp = netOf(topo(), [
      np('x', 'p', {
        podSelector: { matchLabels: { app: 'a' } },
        ingress: [{ from: [{ ipBlock: { cidr: '172.18.0.0/16' } }] }],
      }),
    ]);
    expect(check(byIp, 'x/host', 'x/a').allowed).toBe(true);
  });
});

describe('pods the network does not know, and reasons', () => {
  it('evaluates a pod passed in but not in the model by matching it directly', () => {
    const net = netOf(
      [pod('x', 'a', { app: 'a' })],
      [
        np('x', 'p', {
          podSelector: { matchLabels: { app: 'a' } },
          ingress: [{ from: [{ podSelector: { matchLabels: { role: 'ok' } } }] }],
        }),
      ],
    );
    const stranger = { kind: 'pod' as const, pod: pod('x', 'new', { role: 'ok' }) };
    expect(check(net, stranger, 'x/a').allowed).toBe(true);
    const other = { kind: 'pod' as const, pod: pod('x', 'other', { app: 'a' }) };
    expect(check(net, 'x/a', other).ingress.isolated).toBe(true);
  });

  it('explainVerdict gives a headline and the reasons, naming policies and 0-based rules', () => {
    const net = netOf(
      [
        pod('np-lab', 'backend-0', { app: 'backend' }),
        pod('np-lab', 'db1-x', { app: 'db1' }, { ports: [{ port: 2222, protocol: 'TCP' }] }),
      ],
      [
        np('np-lab', 'np-backend', {
          podSelector: { matchLabels: { app: 'backend' } },
          policyTypes: ['Egress'],
          egress: [{ to: [{ podSelector: { matchLabels: { app: 'db1' } } }], ports: [{ port: 1111 }] }],
        }),
      ],
    );
    const denied = explainVerdict(check(net, 'np-lab/backend-0', 'np-lab/db1-x', 2222));
    expect(denied[0]).toBe('np-lab/backend-0 -> np-lab/db1-x on TCP 2222: denied');
    expect(denied[1]).toBe(
      'egress from np-lab/backend-0 is isolated by np-lab/np-backend and no egress rule allows traffic to np-lab/db1-x on TCP 2222',
    );
    const allowed = explainVerdict(check(net, 'np-lab/backend-0', 'np-lab/db1-x', 1111));
    expect(allowed[1]).toBe('egress from np-lab/backend-0 is allowed by np-lab/np-backend egress[0]');
  });
});

describe('probe ports given as text', () => {
  it('treats an all-digit string as the number (a port name always has a letter)', () => {
    const net = netOf(
      [pod('x', 'a', { app: 'a' }), pod('x', 'b', { app: 'b' })],
      [np('x', 'p', { podSelector: { matchLabels: { app: 'a' } }, ingress: [{ ports: [{ port: 80 }] }] })],
    );
    const v = check(net, 'x/b', 'x/a', '80');
    expect(v.allowed).toBe(true);
    expect(v.port).toBe(80);
  });
});
