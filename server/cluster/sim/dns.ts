/**
 * The names CoreDNS answers (kubernetes plugin, `pods insecure`), and the pod resolver's search
 * list. A pod in namespace N has `search N.svc.cluster.local svc.cluster.local cluster.local` and
 * `options ndots:5`: a name with a trailing dot is looked up as is; a name with five or more dots
 * is tried as is first, then with each search domain; any other name with each search domain
 * first and as is last. The first candidate that has addresses wins.
 *
 * Records:
 * - `<svc>.<ns>.svc.cluster.local`: the ClusterIP; for a headless Service the ready endpoint IPs;
 *   for an ExternalName Service a CNAME to its externalName.
 * - `<hostname>.<svc>.<ns>.svc.cluster.local`: a pod with that hostname and subdomain behind a
 *   headless Service (StatefulSet pods).
 * - `<a-b-c-d>.<ns>.pod.cluster.local`: a.b.c.d, for any existing namespace.
 * - External hosts whose name contains a dot resolve to their IP. The simulation has no upstream
 *   resolver: every other name outside cluster.local is NXDOMAIN.
 */
import type { ExternalHost } from '../../labs/model.js';
import type { KubeObject } from '../types.js';
import { CLUSTER_DOMAIN } from '../../probe/command.js';
import {
  asArray,
  asRecord,
  getObject,
  isPodReady,
  listObjects,
  podIps,
  specOf,
  type SimState,
} from './state.js';

export interface DnsAnswer {
  /** The name that answered (after the search list). */
  name: string;
  /** CNAME targets followed, in order. */
  cnames: string[];
  ips: string[];
}

const NDOTS = 5;

export function searchDomains(namespace: string): string[] {
  return [`${namespace}.svc.${CLUSTER_DOMAIN}`, `svc.${CLUSTER_DOMAIN}`, CLUSTER_DOMAIN];
}

/** The fully qualified names the resolver tries, in order. */
export function searchCandidates(name: string, namespace: string): string[] {
  if (name.endsWith('.')) return [name.slice(0, -1).toLowerCase()];
  const lower = name.toLowerCase();
  const searched = searchDomains(namespace).map((d) => `${lower}.${d}`);
  const dots = lower.split('.').length - 1;
  return dots >= NDOTS ? [lower, ...searched] : [...searched, lower];
}

function readyEndpointIps(state: SimState, namespace: string, service: string): string[] {
  const ep = getObject(state, 'Endpoints', namespace, service);
  if (!ep) return [];
  const ips = asArray(ep.subsets).flatMap((s) => asArray(asRecord(s)?.addresses).map((a) => asRecord(a)?.ip));
  return [...new Set(ips.filter((ip): ip is string => typeof ip === 'string'))].sort();
}

export class DnsZone {
  constructor(
    private readonly state: SimState,
    private readonly externalHosts: readonly ExternalHost[],
  ) {}

  /** Addresses for one fully qualified name (no trailing dot), following CNAMEs; undefined = NXDOMAIN. */
  lookup(fqdn: string, depth = 0): DnsAnswer | undefined {
    const name = fqdn.toLowerCase().replace(/\.$/, '');
    if (depth > 8) return undefined;
    const suffix = `.${CLUSTER_DOMAIN}`;
    if (!name.endsWith(suffix)) {
      const host = this.externalHosts.find(
        (h) => h.name.includes('.') && h.name.toLowerCase().replace(/\.$/, '') === name,
      );
      return host ? { name, cnames: [], ips: [host.ip] } : undefined;
    }
    const labels = name.slice(0, -suffix.length).split('.');
    if (labels.length === 3 && labels[2] === 'svc') return this.service(name, labels[1]!, labels[0]!, depth);
    if (labels.length === 4 && labels[3] === 'svc')
      return this.podHostname(name, labels[2]!, labels[1]!, labels[0]!);
    if (labels.length === 3 && labels[2] === 'pod') return this.podAddress(name, labels[1]!, labels[0]!);
    return undefined;
  }

  /** Runs the search list: the first candidate with addresses wins. */
  resolve(name: string, namespace: string): DnsAnswer | undefined {
    for (const candidate of searchCandidates(name, namespace)) {
      const answer = this.lookup(candidate);
      if (answer && answer.ips.length > 0) return answer;
    }
    return undefined;
  }

  private service(name: string, namespace: string, service: string, depth: number): DnsAnswer | undefined {
    const svc = getObject(this.state, 'Service', namespace, service);
    if (!svc) return undefined;
    const spec = specOf(svc);
    if (spec.type === 'ExternalName' && typeof spec.externalName === 'string') {
      const target = spec.externalName.replace(/\.$/, '');
      const next = this.lookup(target, depth + 1);
      return { name, cnames: [target, ...(next?.cnames ?? [])], ips: next?.ips ?? [] };
    }
    if (spec.clusterIP === 'None') {
      const ips = readyEndpointIps(this.state, namespace, service);
      return ips.length > 0 ? { name, cnames: [], ips } : undefined;
    }
    return typeof spec.clusterIP === 'string' ? { name, cnames: [], ips: [spec.clusterIP] } : undefined;
  }

  private podHostname(
    name: string,
    namespace: string,
    subdomain: string,
    hostname: string,
  ): DnsAnswer | undefined {
    const svc = getObject(this.state, 'Service', namespace, subdomain);
    if (!svc || specOf(svc).clusterIP !== 'None') return undefined;
    const publishNotReady = specOf(svc).publishNotReadyAddresses === true;
    const pod = listObjects(this.state, 'Pod', namespace).find(
      (p: KubeObject) =>
        specOf(p).hostname === hostname &&
        specOf(p).subdomain === subdomain &&
        (publishNotReady || isPodReady(p)),
    );
    const ips = pod ? podIps(pod) : [];
    return ips.length > 0 ? { name, cnames: [], ips } : undefined;
  }

  private podAddress(name: string, namespace: string, dashed: string): DnsAnswer | undefined {
    if (!getObject(this.state, 'Namespace', undefined, namespace)) return undefined;
    const parts = dashed.split('-');
    if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
    return { name, cnames: [], ips: [parts.join('.')] };
  }
}
