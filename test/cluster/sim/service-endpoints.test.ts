/**
 * What a Service troubleshooting lab rests on: Endpoints follow the Service's selector and
 * targetPort (by number, by name, or defaulted to the port) as the Service is edited, only ready
 * pods receive traffic, and a probe through the Service answers from what the endpoints serve.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedCluster } from '../../../server/cluster/sim/index.js';
import type { KubeObject } from '../../../server/cluster/types.js';
import { AGNHOST, namespace, probe, svcTcp } from './fixtures.js';

const NS = 'svc-t';

function api(
  name: string,
  labels: Record<string, string>,
  extraSpec: Record<string, unknown> = {},
): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          ...extraSpec,
          containers: [
            {
              name,
              image: AGNHOST,
              args: ['porter'],
              env: [
                { name: 'SERVE_PORT_8080', value: 'api' },
                { name: 'SERVE_PORT_9090', value: 'metrics' },
              ],
              ports: [
                { name: 'http', containerPort: 8080 },
                { name: 'metrics', containerPort: 9090 },
              ],
            },
          ],
        },
      },
    },
  };
}

const client: KubeObject = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'client', namespace: NS, labels: { app: 'client' } },
  spec: { containers: [{ name: 'client', image: AGNHOST, args: ['pause'] }] },
};

function svc(selector: Record<string, string>, port: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'api', namespace: NS },
    spec: { selector, ports: [{ name: 'http', port: 80, protocol: 'TCP', ...port }] },
  };
}

type Subset = {
  addresses?: Array<{ targetRef: { name: string } }>;
  notReadyAddresses?: Array<{ targetRef: { name: string } }>;
  ports?: Array<{ port: number }>;
};

async function endpoints(
  c: SimulatedCluster,
): Promise<{ ready: string[]; notReady: string[]; ports: number[] }> {
  const ep = (await c.list('Endpoints', NS)).find((e) => e.metadata.name === 'api')!;
  const subsets = (ep.subsets ?? []) as Subset[];
  const owner = (a: { targetRef: { name: string } }) => a.targetRef.name.replace(/-[a-z0-9]+-[a-z0-9]+$/, '');
  return {
    ready: subsets.flatMap((s) => (s.addresses ?? []).map(owner)).sort(),
    notReady: subsets.flatMap((s) => (s.notReadyAddresses ?? []).map(owner)).sort(),
    ports: [...new Set(subsets.flatMap((s) => (s.ports ?? []).map((p) => p.port)))].sort(),
  };
}

describe('Service endpoints in the simulated cluster', () => {
  it('follow the selector and the targetPort as the Service is edited, and the probe follows them', async () => {
    const c = new SimulatedCluster();
    await c.apply([namespace(NS), api('api', { app: 'api' }), client]);
    const from = { namespace: NS, name: 'client' };
    const through = async (service: KubeObject) => {
      await c.apply([service]);
      const outcome = (await probe(c, from, svcTcp('api', NS, 80))).classification.outcome;
      return { ...(await endpoints(c)), outcome };
    };

    // A selector that matches no pod: no endpoints, and kube-proxy rejects the connection.
    expect(await through(svc({ app: 'api-server' }, { targetPort: 'http' }))).toEqual({
      ready: [],
      notReady: [],
      ports: [],
      outcome: 'refused',
    });
    // The right pods, but a port name they do not have: they are left out.
    expect(await through(svc({ app: 'api' }, { targetPort: 'web' }))).toMatchObject({
      ready: [],
      outcome: 'refused',
    });
    // By name and by number alike.
    for (const targetPort of ['http', 8080])
      expect(await through(svc({ app: 'api' }, { targetPort }))).toEqual({
        ready: ['api', 'api'],
        notReady: [],
        ports: [8080],
        outcome: 'allowed',
      });
    // Another port that exists answers too: only the port number tells them apart.
    expect(await through(svc({ app: 'api' }, { targetPort: 'metrics' }))).toMatchObject({
      ports: [9090],
      outcome: 'allowed',
    });
    // A numeric targetPort is taken as it is, listening or not; left out, it is the Service's port.
    expect(await through(svc({ app: 'api' }, { targetPort: 7070 }))).toMatchObject({
      ready: ['api', 'api'],
      ports: [7070],
      outcome: 'refused',
    });
    expect(await through(svc({ app: 'api' }, {}))).toMatchObject({ ports: [80], outcome: 'refused' });
  });

  it('sends traffic only to ready pods: a selected pod that cannot start is listed as not ready', async () => {
    const c = new SimulatedCluster();
    await c.apply([
      namespace(NS),
      api('api', { app: 'api', track: 'stable' }),
      // runAsNonRoot on agnhost (which runs as root): the kubelet never starts it.
      api('api-canary', { app: 'api', track: 'canary' }, { securityContext: { runAsNonRoot: true } }),
      client,
      svc({ app: 'api' }, { targetPort: 'http' }),
    ]);
    expect(await endpoints(c)).toEqual({
      ready: ['api', 'api'],
      notReady: ['api-canary', 'api-canary'],
      ports: [8080],
    });
    const from = { namespace: NS, name: 'client' };
    expect((await probe(c, from, svcTcp('api', NS, 80))).classification.outcome).toBe('allowed');
  });
});
