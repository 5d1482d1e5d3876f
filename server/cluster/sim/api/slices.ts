/**
 * EndpointSlices as the EndpointSlice controller would keep them, derived from the simulation's
 * Endpoints on every read (kubectl describe service reads slices, not Endpoints). They are not
 * stored: the simulation's own network model works from Endpoints, so nothing can drift apart.
 */
import type { KubeObject } from '../../types.js';
import type { SimulatedCluster } from '../cluster.js';

type Json = Record<string, unknown>;

const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** A stable five-letter suffix (the controller's are random; these only need to be stable). */
function suffix(seed: string): string {
  let h = 2166136261;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 16777619);
  let out = '';
  for (let i = 0; i < 5; i++) {
    out += ALPHABET[(h >>> 0) % ALPHABET.length];
    h = Math.imul(h ^ (i + 1), 16777619);
  }
  return out;
}

function asList(v: unknown): Json[] {
  return Array.isArray(v) ? (v.filter((x) => typeof x === 'object' && x !== null) as Json[]) : [];
}

export function derivedSlices(cluster: SimulatedCluster, namespace: string | undefined): KubeObject[] {
  const out: KubeObject[] = [];
  for (const ep of cluster.listNow('Endpoints', namespace)) {
    const svc = cluster.get('Service', ep.metadata.name, ep.metadata.namespace);
    if (!svc) continue;
    const subsets = asList((ep as unknown as Json).subsets);
    const groups = subsets.length > 0 ? subsets : [{}];
    groups.forEach((subset, i) => {
      const endpoint = (a: Json, ready: boolean) => ({
        addresses: [a.ip],
        conditions: { ready, serving: ready, terminating: false },
        ...(a.nodeName ? { nodeName: a.nodeName } : {}),
        ...(a.targetRef ? { targetRef: a.targetRef } : {}),
      });
      const name = `${ep.metadata.name}-${suffix(`${ep.metadata.namespace}/${ep.metadata.name}/${i}`)}`;
      out.push({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          name,
          namespace: ep.metadata.namespace,
          uid: `${String(svc.metadata.uid ?? '').slice(0, 24)}${suffix(name)}${String(i).padStart(7, '0')}`,
          resourceVersion: ep.metadata.resourceVersion,
          creationTimestamp: ep.metadata.creationTimestamp,
          generation: 1,
          generateName: `${ep.metadata.name}-`,
          labels: {
            ...(svc.metadata.labels ?? {}),
            'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
            'kubernetes.io/service-name': ep.metadata.name,
          },
          ownerReferences: [
            {
              apiVersion: 'v1',
              kind: 'Service',
              name: svc.metadata.name,
              uid: svc.metadata.uid,
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        addressType: 'IPv4',
        endpoints: [
          ...asList(subset.addresses).map((a) => endpoint(a, true)),
          ...asList(subset.notReadyAddresses).map((a) => endpoint(a, false)),
        ],
        ports: asList(subset.ports).map((p) => ({
          ...(p.name !== undefined ? { name: p.name } : { name: '' }),
          port: p.port,
          protocol: p.protocol ?? 'TCP',
        })),
      } as unknown as KubeObject);
    });
  }
  return out;
}
