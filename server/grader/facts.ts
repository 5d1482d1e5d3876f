/**
 * What a Pod Security / ServiceAccount / Service lab is about, read from a cluster independently of
 * the lab's checks, so `lab test` can tell a mutant that behaves like the solution from one that
 * does not: each namespace's Pod Security policy, whether each workload's pods would be admitted
 * (the engine, not the cluster, decides), how many pods run ready and how many carry a token, and
 * which ports each Service's endpoints answer on.
 */
import type { Cluster, KubeObject } from '../cluster/types.js';
import { isRecord } from '../manifests/load.js';
import {
  admit,
  formatLevelVersion,
  policyFromLabels,
  POD_SPEC_LOCATIONS,
  readPodSpec,
} from '../podsecurity/index.js';

const owner = (pod: KubeObject) =>
  pod.metadata.name.replace(/-[a-z0-9]{5}$/, '').replace(/-[a-z0-9]{6,10}$/, '');

export async function labFacts(cluster: Cluster, namespaces: string[]): Promise<string[]> {
  const facts: string[] = [];
  const allNs = await cluster.list('Namespace');
  for (const ns of namespaces) {
    const nsObj = allNs.find((n) => n.metadata.name === ns);
    const policy = policyFromLabels(nsObj?.metadata.labels ?? {}).policy;
    facts.push(
      `namespace ${ns}: enforce ${formatLevelVersion(policy.enforce)}, warn ${formatLevelVersion(policy.warn)}, audit ${formatLevelVersion(policy.audit)}`,
    );
    for (const kind of ['Deployment', 'StatefulSet', 'DaemonSet'] as const) {
      for (const w of await cluster.list(kind, ns)) {
        const where = POD_SPEC_LOCATIONS[kind]!;
        const { pod } = readPodSpec(w as unknown as Record<string, unknown>, where.metadata, where.spec);
        const v = admit({ kind: 'Pod', name: w.metadata.name, namespace: ns, pod }, policy);
        const status = isRecord(w.status) ? w.status : {};
        facts.push(
          `${kind} ${ns}/${w.metadata.name}: pods ${v.admitted ? 'admitted' : 'refused'}${v.warnings.length > 0 ? ' with warnings' : ''}, ready ${String(status.readyReplicas ?? status.numberReady ?? 0)}`,
        );
      }
    }
    const tokens = new Map<string, string>();
    for (const pod of await cluster.list('Pod', ns)) {
      const mounted = JSON.stringify(pod.spec ?? {}).includes('"serviceAccountToken"');
      const key = owner(pod);
      tokens.set(key, `${tokens.get(key) ?? ''}${mounted ? 'T' : '-'}`);
    }
    for (const [key, marks] of [...tokens].sort())
      facts.push(`pods of ${ns}/${key}: token ${[...marks].sort().join('')}`);
    const endpoints = await cluster.list('Endpoints', ns);
    for (const svc of await cluster.list('Service', ns)) {
      const ep = endpoints.find((e) => e.metadata.name === svc.metadata.name);
      const subsets = Array.isArray(ep?.subsets) ? ep.subsets.filter(isRecord) : [];
      const ready = subsets.flatMap((s) =>
        (Array.isArray(s.addresses) ? s.addresses : []).flatMap((a) =>
          (Array.isArray(s.ports) ? s.ports : []).filter(isRecord).map((p) => {
            const target = isRecord(a) && isRecord(a.targetRef) ? String(a.targetRef.name) : '?';
            return `${target.replace(/-[a-z0-9]{5}$/, '').replace(/-[a-z0-9]{6,10}$/, '')}:${String(p.port)}`;
          }),
        ),
      );
      facts.push(`Service ${ns}/${svc.metadata.name}: endpoints ${ready.sort().join(',') || 'none'}`);
    }
  }
  return facts;
}

/** The first fact that differs, as a sentence; undefined when the two worlds agree. */
export function factsDifference(a: string[], b: string[], names: [string, string]): string | undefined {
  const setB = new Set(b);
  const onlyA = a.find((f) => !setB.has(f));
  if (onlyA !== undefined) return `${names[0]} has "${onlyA}" and ${names[1]} does not`;
  const setA = new Set(a);
  const onlyB = b.find((f) => !setA.has(f));
  return onlyB !== undefined ? `${names[1]} has "${onlyB}" and ${names[0]} does not` : undefined;
}
