/**
 * The np-backend situation in our own words: namespace np-lab with Deployments backend (2
 * replicas), db1, db2 and vault, every one running agnhost porter on TCP 1111, 2222 and 3333 with
 * a Service of the same name; namespace outsider with one client pod. Plus the reference solution
 * policy (backend may reach db1:1111, db2:2222 and DNS on kube-dns, nothing else).
 */
import type { KubeObject } from '../../../server/cluster/types.js';
import type { SimulatedCluster } from '../../../server/cluster/sim/index.js';
import {
  buildProbeArgv,
  classifyProbe,
  serviceDnsName,
  type ProbeTool,
} from '../../../server/probe/index.js';
import type { ProbeClassification, ProbeSpec } from '../../../server/probe/types.js';
import type { ExecResult, PodRef } from '../../../server/cluster/types.js';

export const AGNHOST = 'registry.k8s.io/e2e-test-images/agnhost:2.53';

export function namespace(name: string, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

export function porterDeployment(
  name: string,
  ns: string,
  replicas = 1,
  ports = [1111, 2222, 3333],
): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name,
              image: AGNHOST,
              args: ['porter'],
              env: ports.map((p) => ({ name: `SERVE_PORT_${p}`, value: `${name} on ${p}` })),
              ports: ports.map((p) => ({ name: `p${p}`, containerPort: p, protocol: 'TCP' })),
            },
          ],
        },
      },
    },
  };
}

export function service(
  name: string,
  ns: string,
  ports: Array<number | { port: number; targetPort?: number | string; name?: string; protocol?: string }>,
  selector: Record<string, string> | null = { app: name },
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns },
    spec: {
      ...(selector ? { selector } : {}),
      ports: ports.map((p) =>
        typeof p === 'number' ? { name: `p${p}`, port: p, targetPort: p, protocol: 'TCP' } : p,
      ),
    },
  };
}

export function npBackendScenario(): KubeObject[] {
  return [
    namespace('np-lab'),
    namespace('outsider'),
    porterDeployment('backend', 'np-lab', 2),
    service('backend', 'np-lab', [1111, 2222, 3333]),
    porterDeployment('db1', 'np-lab'),
    service('db1', 'np-lab', [1111, 2222, 3333]),
    porterDeployment('db2', 'np-lab'),
    service('db2', 'np-lab', [1111, 2222, 3333]),
    porterDeployment('vault', 'np-lab'),
    service('vault', 'np-lab', [1111, 2222, 3333]),
    porterDeployment('client', 'outsider', 1, [8080]),
    service('client', 'outsider', [8080]),
  ];
}

/** The reference solution (egress only: db1 TCP 1111, db2 TCP 2222, DNS UDP+TCP 53 to kube-dns pods). */
export function referencePolicy(): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'np-backend', namespace: 'np-lab' },
    spec: {
      podSelector: { matchLabels: { app: 'backend' } },
      policyTypes: ['Egress'],
      egress: [
        { to: [{ podSelector: { matchLabels: { app: 'db1' } } }], ports: [{ protocol: 'TCP', port: 1111 }] },
        { to: [{ podSelector: { matchLabels: { app: 'db2' } } }], ports: [{ protocol: 'TCP', port: 2222 }] },
        {
          to: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
              podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
            },
          ],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
      ],
    },
  };
}

/** The reference policy with its DNS rule changed (or removed, with `null`). */
export function policyWithDnsPorts(ports: Array<{ protocol: string; port: number }> | null): KubeObject {
  const p = referencePolicy();
  const spec = p.spec as { egress: Array<Record<string, unknown>> };
  if (ports === null) spec.egress = spec.egress.slice(0, 2);
  else spec.egress[2] = { ...spec.egress[2], ports };
  return p;
}

export async function podsOf(cluster: SimulatedCluster, ns: string, prefix: string): Promise<KubeObject[]> {
  return (await cluster.list('Pod', ns)).filter((p) => p.metadata.name.startsWith(`${prefix}-`));
}

export async function podRef(
  cluster: SimulatedCluster,
  ns: string,
  prefix: string,
  index = 0,
): Promise<PodRef> {
  const pod = (await podsOf(cluster, ns, prefix))[index];
  if (!pod) throw new Error(`no pod ${ns}/${prefix}-* #${index}`);
  return { namespace: ns, name: pod.metadata.name };
}

export function podIp(pod: KubeObject): string {
  return String((pod.status as { podIP: string }).podIP);
}

export interface Probed {
  result: ExecResult;
  classification: ProbeClassification;
}

/** Builds the probe, runs it through exec and classifies it, exactly as the grader does. */
export async function probe(
  cluster: SimulatedCluster,
  from: PodRef,
  spec: ProbeSpec,
  tool?: ProbeTool,
): Promise<Probed> {
  const argv = buildProbeArgv(spec, tool ? { tool } : {});
  const result = await cluster.exec(from, argv, 60_000);
  return { result, classification: classifyProbe(spec, result, tool) };
}

export function tcp(host: string, port: number): ProbeSpec {
  return { kind: 'tcp', host, port, timeoutSeconds: 2 };
}

export function svcTcp(svc: string, ns: string, port: number): ProbeSpec {
  return tcp(serviceDnsName(svc, ns), port);
}
