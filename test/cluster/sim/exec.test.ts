/** Services, DNS names, listeners, tools, faults and forks, seen through exec. */
import { describe, it, expect } from 'vitest';
import { SimulatedCluster, searchCandidates } from '../../../server/cluster/sim/index.js';
import { buildProbeArgv, classifyProbe, type ProbeTool } from '../../../server/probe/index.js';
import type { ProbeOutcome, ProbeSpec } from '../../../server/probe/types.js';
import { KubelabError } from '../../../server/errors.js';
import type { KubeObject } from '../../../server/cluster/types.js';
import {
  AGNHOST,
  namespace,
  npBackendScenario,
  podIp,
  podRef,
  podsOf,
  probe,
  referencePolicy,
  service,
  svcTcp,
  tcp,
} from './fixtures.js';

async function envError(p: Promise<unknown>): Promise<KubelabError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KubelabError);
    expect((e as KubelabError).code).toBe('ENVIRONMENT');
    return e as KubelabError;
  }
  throw new Error('expected an ENVIRONMENT error');
}

function deployment(
  name: string,
  ns: string,
  container: Record<string, unknown>,
  labels: Record<string, string> = { app: name },
): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name, ...container }] } },
    },
  };
}

async function scenario(
  opts: ConstructorParameters<typeof SimulatedCluster>[0] = {},
  extra: KubeObject[] = [],
): Promise<SimulatedCluster> {
  const c = new SimulatedCluster(opts);
  await c.apply([...npBackendScenario(), ...extra]);
  return c;
}

describe('Services and Endpoints', () => {
  it('fills Endpoints with ready pods, resolving named targetPorts on each pod', async () => {
    const c = await scenario({}, [
      deployment(
        'web-a',
        'np-lab',
        {
          image: AGNHOST,
          args: ['netexec', '--http-port=8080'],
          ports: [{ name: 'http', containerPort: 8080 }],
        },
        { app: 'web', v: 'a' },
      ),
      deployment(
        'web-b',
        'np-lab',
        {
          image: AGNHOST,
          args: ['netexec', '--http-port=9090'],
          ports: [{ name: 'http', containerPort: 9090 }],
        },
        { app: 'web', v: 'b' },
      ),
      service('web', 'np-lab', [{ name: 'http', port: 80, targetPort: 'http' }], { app: 'web' }),
    ]);
    const ep = (await c.list('Endpoints', 'np-lab')).find((e) => e.metadata.name === 'web')!;
    const subsets = ep.subsets as Array<{
      addresses: Array<{ ip: string; targetRef: { name: string } }>;
      ports: unknown[];
    }>;
    expect(subsets.map((s) => s.ports)).toEqual(
      expect.arrayContaining([
        [{ name: 'http', port: 8080, protocol: 'TCP' }],
        [{ name: 'http', port: 9090, protocol: 'TCP' }],
      ]),
    );
    expect(subsets.map((s) => s.addresses[0]!.targetRef.name).sort()).toEqual([
      expect.stringMatching(/^web-a-/),
      expect.stringMatching(/^web-b-/),
    ]);
    // Both land on a listening port, so the Service answers consistently.
    const from = await podRef(c, 'np-lab', 'backend');
    expect((await probe(c, from, svcTcp('web', 'np-lab', 80))).classification.outcome).toBe('allowed');

    const db1 = (await c.list('Endpoints', 'np-lab')).find((e) => e.metadata.name === 'db1')!;
    const [pod] = await podsOf(c, 'np-lab', 'db1');
    expect(db1.subsets).toEqual([
      {
        addresses: [
          {
            ip: podIp(pod!),
            nodeName: 'kubelab-worker',
            targetRef: { kind: 'Pod', name: pod!.metadata.name, namespace: 'np-lab', uid: pod!.metadata.uid },
          },
        ],
        ports: [
          { name: 'p1111', port: 1111, protocol: 'TCP' },
          { name: 'p2222', port: 2222, protocol: 'TCP' },
          { name: 'p3333', port: 3333, protocol: 'TCP' },
        ],
      },
    ]);
  });

  it('puts not-ready pods in notReadyAddresses, and a Service with no ready endpoint refuses', async () => {
    const c = await scenario({ faults: { notReady: ['np-lab/db1'] } });
    const ep = (await c.list('Endpoints', 'np-lab')).find((e) => e.metadata.name === 'db1')!;
    expect(ep.subsets).toEqual([
      expect.objectContaining({ notReadyAddresses: [expect.objectContaining({ ip: expect.any(String) })] }),
    ]);
    const from = await podRef(c, 'np-lab', 'backend');
    const r = await probe(c, from, svcTcp('db1', 'np-lab', 1111));
    expect(r.result.stderr).toBe(
      "curl: (7) Failed to connect to db1.np-lab.svc.cluster.local port 1111 after 0 ms: Couldn't connect to server\n",
    );
    expect(r.classification.outcome).toBe('refused');
    // Straight to the pod's IP: the container is not running, so nothing listens.
    const [pod] = await podsOf(c, 'np-lab', 'db1');
    expect((await probe(c, from, tcp(podIp(pod!), 1111))).classification.outcome).toBe('refused');
  });

  it('drops traffic to a Service IP on a port the Service does not have', async () => {
    const c = await scenario();
    const from = await podRef(c, 'np-lab', 'backend');
    expect((await probe(c, from, svcTcp('db1', 'np-lab', 4444))).classification.outcome).toBe('blocked');
  });

  it('sends a selectorless Service to the Endpoints the user wrote (here, an external host)', async () => {
    const c = await scenario(
      { externalHosts: [{ name: 'partner', ip: '203.0.113.10', ports: [{ port: 443, protocol: 'TCP' }] }] },
      [
        {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'partner', namespace: 'np-lab' },
          spec: { ports: [{ port: 8443, targetPort: 443 }] },
        },
        {
          apiVersion: 'v1',
          kind: 'Endpoints',
          metadata: { name: 'partner', namespace: 'np-lab' },
          subsets: [{ addresses: [{ ip: '203.0.113.10' }], ports: [{ port: 443, protocol: 'TCP' }] }],
        },
      ],
    );
    const from = await podRef(c, 'np-lab', 'backend');
    expect((await probe(c, from, svcTcp('partner', 'np-lab', 8443))).classification.outcome).toBe('allowed');
  });
});

describe('DNS names', () => {
  it('expands search domains like a pod resolver with ndots:5', () => {
    expect(searchCandidates('db1', 'np-lab')).toEqual([
      'db1.np-lab.svc.cluster.local',
      'db1.svc.cluster.local',
      'db1.cluster.local',
      'db1',
    ]);
    expect(searchCandidates('db1.np-lab.svc.cluster.local.', 'np-lab')).toEqual([
      'db1.np-lab.svc.cluster.local',
    ]);
    expect(searchCandidates('a.b.c.d.e.f', 'x')[0]).toBe('a.b.c.d.e.f');
  });

  it('resolves short, namespaced, absolute and pod names from the source pod’s namespace', async () => {
    const c = await scenario({}, [
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'ext', namespace: 'np-lab' },
        spec: { type: 'ExternalName', externalName: 'db2.np-lab.svc.cluster.local' },
      },
    ]);
    const db1 = (await c.list('Service', 'np-lab')).find((s) => s.metadata.name === 'db1')!;
    const db1Ip = (db1.spec as { clusterIP: string }).clusterIP;
    const db2Ip = (
      (await c.list('Service', 'np-lab')).find((s) => s.metadata.name === 'db2')!.spec as {
        clusterIP: string;
      }
    ).clusterIP;
    const inside = await podRef(c, 'np-lab', 'backend');
    const outside = await podRef(c, 'outsider', 'client');
    const lookup = async (from: typeof inside, name: string) => {
      const spec: ProbeSpec = { kind: 'dns', name, timeoutSeconds: 2 };
      const r = await probe(c, from, spec);
      return { out: r.result.stdout, outcome: r.classification.outcome };
    };
    expect(await lookup(inside, 'db1')).toEqual({ out: `${db1Ip}\n`, outcome: 'allowed' });
    expect(await lookup(outside, 'db1')).toEqual({ out: '', outcome: 'dns-failure' });
    expect(await lookup(outside, 'db1.np-lab')).toEqual({ out: `${db1Ip}\n`, outcome: 'allowed' });
    expect(await lookup(outside, 'db1.np-lab.svc.cluster.local')).toEqual({
      out: `${db1Ip}\n`,
      outcome: 'allowed',
    });
    expect(await lookup(outside, 'db1.np-lab.svc.cluster.local.')).toEqual({
      out: `${db1Ip}\n`,
      outcome: 'allowed',
    });
    expect(await lookup(inside, 'ext')).toEqual({
      out: `db2.np-lab.svc.cluster.local.\n${db2Ip}\n`,
      outcome: 'allowed',
    });
    const vault = (await podsOf(c, 'np-lab', 'vault'))[0]!;
    const dashed = `${podIp(vault).replaceAll('.', '-')}.np-lab.pod.cluster.local.`;
    expect(await lookup(inside, dashed)).toEqual({ out: `${podIp(vault)}\n`, outcome: 'allowed' });
    expect(await lookup(inside, 'kubernetes.default')).toEqual({ out: '10.96.0.1\n', outcome: 'allowed' });
    expect((await lookup(inside, 'example.com')).outcome).toBe('dns-failure');
  });

  it('answers headless Services with pod IPs and StatefulSet pods by hostname', async () => {
    const c = await scenario({}, [
      {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: 'store', namespace: 'np-lab' },
        spec: {
          serviceName: 'store',
          replicas: 2,
          selector: { matchLabels: { app: 'store' } },
          template: {
            metadata: { labels: { app: 'store' } },
            spec: {
              containers: [
                {
                  name: 's',
                  image: AGNHOST,
                  args: ['porter'],
                  env: [{ name: 'SERVE_PORT_1111', value: 's' }],
                },
              ],
            },
          },
        },
      },
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'store', namespace: 'np-lab' },
        spec: { clusterIP: 'None', selector: { app: 'store' } },
      },
    ]);
    const ips = (await c.list('Pod', 'np-lab')).filter((p) => p.metadata.labels?.app === 'store').map(podIp);
    const from = await podRef(c, 'np-lab', 'backend');
    const all = await probe(c, from, {
      kind: 'dns',
      name: 'store.np-lab.svc.cluster.local.',
      timeoutSeconds: 2,
    });
    expect(all.result.stdout.trim().split('\n').sort()).toEqual([...ips].sort());
    const one = await probe(c, from, {
      kind: 'dns',
      name: 'store-1.store.np-lab.svc.cluster.local.',
      timeoutSeconds: 2,
    });
    expect(one.result.stdout).toBe(`${ips[1]}\n`);
    expect((await probe(c, from, svcTcp('store', 'np-lab', 1111))).classification.outcome).toBe('allowed');
  });
});

describe('listeners', () => {
  it('refuses when policy allows but nothing listens, on pods and external hosts', async () => {
    const c = await scenario({
      externalHosts: [{ name: 'partner', ip: '203.0.113.10', ports: [{ port: 443, protocol: 'TCP' }] }],
    });
    const from = await podRef(c, 'np-lab', 'backend');
    const [db1] = await podsOf(c, 'np-lab', 'db1');
    const r = await probe(c, from, tcp(podIp(db1!), 4444));
    expect(r.result).toEqual({
      exitCode: 7,
      stdout: '',
      stderr: `curl: (7) Failed to connect to ${podIp(db1!)} port 4444 after 0 ms: Couldn't connect to server\n`,
    });
    expect(r.classification.outcome).toBe('refused');
    expect((await probe(c, from, tcp('203.0.113.10', 443))).classification.outcome).toBe('allowed');
    expect((await probe(c, from, tcp('203.0.113.10', 80))).classification.outcome).toBe('refused');
    expect((await probe(c, from, tcp('198.51.100.1', 80))).classification.outcome).toBe('blocked');
  });

  it('reads what agnhost, CoreDNS and other containers listen on', async () => {
    const c = await scenario({}, [
      deployment('ne', 'np-lab', { image: AGNHOST, args: ['netexec'] }),
      deployment('paused', 'np-lab', { image: AGNHOST, ports: [{ containerPort: 80 }] }),
      deployment('udp', 'np-lab', {
        image: AGNHOST,
        args: ['porter'],
        env: [
          { name: 'SERVE_UDP_PORT_5353', value: 'u' },
          { name: 'SERVE_TLS_PORT_8443', value: 't' },
        ],
      }),
      deployment('app', 'np-lab', { image: 'example.com/team/app:1.0', ports: [{ containerPort: 5000 }] }),
      deployment('shell', 'np-lab', {
        image: AGNHOST,
        command: ['/agnhost', 'netexec', '--http-port', '7070', '--udp-port=-1'],
      }),
    ]);
    const from = await podRef(c, 'np-lab', 'backend');
    const ipOf = async (name: string) => podIp((await podsOf(c, 'np-lab', name))[0]!);
    const outcome = async (spec: ProbeSpec, tool?: ProbeTool): Promise<ProbeOutcome> =>
      (await probe(c, from, spec, tool)).classification.outcome;
    const ne = await ipOf('ne');
    expect(await outcome(tcp(ne, 8080))).toBe('allowed');
    expect(await outcome({ kind: 'udp', host: ne, port: 8081, timeoutSeconds: 2 })).toBe('allowed');
    expect(await outcome(tcp(ne, 8081))).toBe('refused');
    // agnhost with no args runs `pause`: declared ports do not make it listen.
    expect(await outcome(tcp(await ipOf('paused'), 80))).toBe('refused');
    const udp = await ipOf('udp');
    expect(await outcome({ kind: 'udp', host: udp, port: 5353, timeoutSeconds: 2 })).toBe('allowed');
    expect(await outcome({ kind: 'udp', host: udp, port: 5354, timeoutSeconds: 2 })).toBe('refused');
    expect(await outcome(tcp(udp, 8443))).toBe('allowed');
    const app = await ipOf('app');
    expect(await outcome(tcp(app, 5000))).toBe('allowed');
    expect(await outcome(tcp(app, 5001))).toBe('refused');
    const shell = await ipOf('shell');
    expect(await outcome(tcp(shell, 7070))).toBe('allowed');
    expect(await outcome({ kind: 'udp', host: shell, port: 8081, timeoutSeconds: 2 })).toBe('refused');

    const coredns = (await c.list('Pod', 'kube-system')).find((p) => p.metadata.name.startsWith('coredns-'))!;
    const tcp53 = await probe(c, from, tcp(podIp(coredns), 53));
    expect(tcp53.result.stderr).toMatch(/Operation timed out after 3001 milliseconds with 0 bytes received/);
    expect(tcp53.classification.outcome).toBe('allowed');
    expect(await outcome({ kind: 'udp', host: '10.96.0.10', port: 53, timeoutSeconds: 2 })).toBe('allowed');
    expect(await outcome(tcp(podIp(coredns), 9153))).toBe('allowed');
  });
});

describe('every probe tool classifies the same event the same way', () => {
  it('curl, nc and agnhost connect agree on allowed, refused, blocked and dns-failure', async () => {
    const c = await scenario({}, [referencePolicy()]);
    const from = await podRef(c, 'np-lab', 'backend');
    const [db1] = await podsOf(c, 'np-lab', 'db1');
    const cases: Array<[ProbeSpec, ProbeOutcome]> = [
      [svcTcp('db1', 'np-lab', 1111), 'allowed'],
      [tcp(podIp(db1!), 1111), 'allowed'],
      [svcTcp('vault', 'np-lab', 3333), 'blocked'],
      [svcTcp('nothere', 'np-lab', 1111), 'dns-failure'],
    ];
    for (const tool of ['curl', 'nc', 'agnhost-connect'] as const) {
      for (const [spec, expected] of cases) {
        const r = await probe(c, from, spec, tool);
        expect(r.classification.outcome, `${tool} ${JSON.stringify(spec)}: ${r.result.stderr}`).toBe(
          expected,
        );
      }
    }
    // Refused needs the policy to allow a port nothing listens on.
    await c.delete('NetworkPolicy', 'np-backend', 'np-lab');
    for (const tool of ['curl', 'nc', 'agnhost-connect'] as const) {
      expect((await probe(c, from, tcp(podIp(db1!), 4444), tool)).classification.outcome).toBe('refused');
    }
    // Blocked DNS, per tool.
    await c.apply([
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'no-egress', namespace: 'np-lab' },
        spec: { podSelector: { matchLabels: { app: 'backend' } }, policyTypes: ['Egress'] },
      },
    ]);
    for (const tool of ['curl', 'nc', 'agnhost-connect'] as const) {
      expect((await probe(c, from, svcTcp('db1', 'np-lab', 1111), tool)).classification.outcome).toBe(
        'dns-failure',
      );
    }
    expect(
      (await probe(c, from, { kind: 'udp', host: '10.96.0.10', port: 53, timeoutSeconds: 2 })).classification
        .outcome,
    ).toBe('blocked');
  });
});

describe('exec that cannot run is an ENVIRONMENT error', () => {
  it('refuses commands that are not kubelab probes', async () => {
    const c = await scenario();
    const from = await podRef(c, 'np-lab', 'backend');
    const err = await envError(c.exec(from, ['sh', '-c', 'curl http://db1:1111/'], 10_000));
    expect(err.message).toMatch(/only runs kubelab's probe commands/);
  });

  it('fails for missing pods, containers, and pods that are not running', async () => {
    const c = await scenario({ faults: { notReady: ['np-lab/db1'] } });
    const argv = buildProbeArgv(tcp('10.0.0.1', 80));
    await envError(c.exec({ namespace: 'np-lab', name: 'ghost' }, argv, 10_000));
    const from = await podRef(c, 'np-lab', 'backend');
    expect((await envError(c.exec({ ...from, container: 'sidecar' }, argv, 10_000))).message).toMatch(
      /container sidecar is not valid/,
    );
    const notReady = await podRef(c, 'np-lab', 'db1');
    const err = await envError(c.exec(notReady, argv, 10_000));
    expect(err.message).toMatch(/container not found/);
    expect(err.hint).toMatch(/ImagePullBackOff/);
  });

  it('passes injected exec failures through', async () => {
    const seen: string[][] = [];
    const c = await scenario({
      faults: {
        execFails: (pod, argv) => {
          seen.push(argv);
          return pod.name.startsWith('backend') ? 'container not found ("backend")' : undefined;
        },
      },
    });
    const argv = buildProbeArgv(svcTcp('db1', 'np-lab', 1111));
    const err = await envError(c.exec(await podRef(c, 'np-lab', 'backend'), argv, 10_000));
    expect(err.message).toMatch(/failed: container not found/);
    expect(seen).toEqual([argv]);
    expect((await c.exec(await podRef(c, 'np-lab', 'vault'), argv, 10_000)).exitCode).toBe(0);
  });

  it('knows which images carry the probe tools', async () => {
    const c = await scenario({}, [
      deployment('bb', 'np-lab', { image: 'busybox:1.36', command: ['sleep', '3600'] }),
      deployment('mystery', 'np-lab', { image: 'example.com/mystery:2' }),
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'dns', namespace: 'np-lab' },
        spec: { containers: [{ name: 'c', image: 'registry.k8s.io/coredns/coredns:v1.11.3' }] },
      },
    ]);
    const spec = svcTcp('db1', 'np-lab', 1111);
    const r = await probe(c, await podRef(c, 'np-lab', 'bb'), spec);
    expect(r.result).toEqual({
      exitCode: 127,
      stdout: '',
      stderr: "timeout: can't execute 'curl': No such file or directory\n",
    });
    expect(r.classification.outcome).toBe('error');
    await envError(c.exec(await podRef(c, 'np-lab', 'mystery'), buildProbeArgv(spec), 10_000));
    expect(
      (await envError(c.exec({ namespace: 'np-lab', name: 'dns' }, buildProbeArgv(spec), 10_000))).message,
    ).toMatch(/executable file not found/);
  });

  it('times out when the caller gives the exec less time than the probe needs', async () => {
    const c = await scenario({}, [referencePolicy()]);
    const from = await podRef(c, 'np-lab', 'backend');
    const argv = buildProbeArgv(svcTcp('vault', 'np-lab', 3333));
    expect((await envError(c.exec(from, argv, 1000))).message).toMatch(/did not finish within 1000 ms/);
    expect((await c.exec(from, argv, 2500)).exitCode).toBe(28);
  });
});

describe('fork', () => {
  it('copies the state deeply: changes on either side stay on that side', async () => {
    const base = await scenario();
    const copy = base.fork();
    await copy.apply([referencePolicy()]);
    const from = await podRef(base, 'np-lab', 'backend');
    expect(await copy.list('NetworkPolicy', 'np-lab')).toHaveLength(1);
    expect(await base.list('NetworkPolicy', 'np-lab')).toHaveLength(0);
    expect((await probe(copy, from, svcTcp('vault', 'np-lab', 3333))).classification.outcome).toBe('blocked');
    expect((await probe(base, from, svcTcp('vault', 'np-lab', 3333))).classification.outcome).toBe('allowed');
    await base.apply([namespace('only-in-base')]);
    expect((await copy.list('Namespace')).map((n) => n.metadata.name)).not.toContain('only-in-base');
  });

  it('continues the same name sequence, so two forks of one cluster stay identical', async () => {
    const base = await scenario();
    const a = base.fork();
    const b = base.clone();
    await a.apply([namespace('x'), deployment('w', 'x', { image: AGNHOST })]);
    await b.apply([namespace('x'), deployment('w', 'x', { image: AGNHOST })]);
    expect((await a.list('Pod', 'x')).map((p) => p.metadata.name)).toEqual(
      (await b.list('Pod', 'x')).map((p) => p.metadata.name),
    );
  });

  it('takes option overrides (a policy-free, non-enforcing or faulty copy)', async () => {
    const base = await scenario({}, [referencePolicy()]);
    const open = base.fork({ enforcePolicies: false });
    const from = await podRef(base, 'np-lab', 'backend');
    expect((await probe(open, from, svcTcp('vault', 'np-lab', 3333))).classification.outcome).toBe('allowed');
    const broken = base.fork({ faults: { notReady: ['np-lab/vault'] } });
    expect((await broken.waitReady(['np-lab'], { timeoutMs: 10 })).notReady).toEqual([
      expect.stringMatching(/^np-lab\/vault-/),
    ]);
    expect((await base.waitReady(['np-lab'], { timeoutMs: 10 })).ready).toBe(true);
  });
});

describe('classification is shared with the real path', () => {
  it('classifies sim output for every built probe without special cases', async () => {
    const c = await scenario({}, [referencePolicy()]);
    const from = await podRef(c, 'np-lab', 'backend');
    const spec = svcTcp('db2', 'np-lab', 2222);
    const argv = buildProbeArgv(spec);
    const result = await c.exec(from, argv, 10_000);
    expect(classifyProbe(spec, result)).toEqual({ outcome: 'allowed', detail: 'curl exit 0: connected' });
  });
});
