/**
 * The simulated data plane: kube-proxy (Service IP -> endpoint pod and target port), Calico
 * (NetworkPolicy, judged by the engine in server/netpol on the POD and TARGET port, since Calico
 * sees traffic after kube-proxy's DNAT) and the listening processes.
 *
 * Outcomes of one connection attempt:
 * - denied by policy -> `dropped` (Calico drops; the client waits out its timeout);
 * - allowed, something listens -> `connected`;
 * - allowed, nothing listens (or the container is not running) -> `refused` (TCP RST / ICMP
 *   port unreachable from the pod's kernel);
 * - a Service with no ready endpoints -> `refused` (kube-proxy rejects);
 * - a Service IP on a port the Service does not have, or an address nobody has -> `dropped`.
 *
 * A Service with several endpoints: every endpoint is judged. When they all give the same
 * outcome, that is the answer. When they disagree (say one pod allowed and one dropped), a real
 * cluster answers differently from one connection to the next depending on the backend kube-proxy
 * picks, so the answer is `inconsistent`, reported as an error naming each endpoint: neither
 * "open" nor "blocked" would be true, and a grade must not rest on it.
 */
import type { ExternalHost } from '../../labs/model.js';
import type { KubeObject } from '../types.js';
import {
  compileNetwork,
  evaluate,
  namespaceModelFromNamespace,
  podModelFromPod,
  validateNetworkPolicy,
  type CompiledNetwork,
  type ConnectionVerdict,
} from '../../netpol/index.js';
import type { Endpoint, NetworkPolicyModel, PodModel, Protocol } from '../../netpol/types.js';
import { DnsZone } from './dns.js';
import { findListener, listenersOf, type Listener, type Speaks } from './listeners.js';
import { KUBE_DNS_IP, NODES, type SimNode } from './objects.js';
import { servicePorts, type ServicePortSpec } from './controllers.js';
import {
  asArray,
  asRecord,
  getObject,
  listObjects,
  nodeNameOf,
  podIps,
  specOf,
  statusOf,
  type SimState,
} from './state.js';

export type HopResult = 'connected' | 'refused' | 'dropped';

export interface Hop {
  /** `np-lab/db1-5d8f9c7b6-x2v4k` or an address. */
  endpoint: string;
  ip: string;
  /** The port on the destination (after kube-proxy's DNAT). */
  port: number;
  protocol: Protocol;
  result: HopResult;
  speaks?: Speaks;
  /** The engine's verdict (also computed when policies are not enforced, for explanations). */
  verdict?: ConnectionVerdict;
  why: string;
}

export interface ConnectReport {
  /** What was aimed at, e.g. `Service np-lab/db1 (10.96.12.7:1111/TCP)`. */
  target: string;
  result: HopResult | 'inconsistent';
  speaks?: Speaks;
  hops: Hop[];
  why: string;
}

export interface DnsTransport {
  nameserver: string;
  result: 'ok' | 'timeout' | 'refused' | 'inconsistent';
  report: ConnectReport;
}

interface PodEntry {
  pod: KubeObject;
  model: PodModel;
  running: boolean;
  listeners: Listener[];
}

const NODE_LISTENERS: Record<string, Array<{ port: number; because: string }>> = {
  control: [
    { port: 6443, because: 'kube-apiserver' },
    { port: 10250, because: 'kubelet' },
  ],
  worker: [{ port: 10250, because: 'kubelet' }],
};

function podRunning(pod: KubeObject): boolean {
  return asArray(statusOf(pod).containerStatuses).every(
    (c) => asRecord(asRecord(c)?.state)?.running !== undefined,
  );
}

export class DataPlane {
  readonly net: CompiledNetwork;
  readonly dns: DnsZone;
  private readonly podsByIp = new Map<string, PodEntry>();
  private readonly podsByKey = new Map<string, PodEntry>();
  private readonly servicesByIp = new Map<string, KubeObject>();
  private readonly nodesByIp = new Map<string, SimNode>();
  private readonly hostsByIp = new Map<string, ExternalHost>();
  /** Parsed once per plane: every probe through a Service (DNS included) needs them. */
  private readonly portsByService = new Map<KubeObject, ServicePortSpec[]>();
  /**
   * A plane stands for one state of the cluster, so a connection's report never changes while it
   * lives: a grade asks the same ones many times (every probe by name crosses DNS first).
   * Reports are read, never changed, by their users.
   */
  private readonly reports = new WeakMap<PodModel, Map<string, ConnectReport>>();
  private readonly transports = new WeakMap<PodModel, DnsTransport>();

  constructor(
    private readonly state: SimState,
    private readonly enforcePolicies: boolean,
    externalHosts: readonly ExternalHost[],
  ) {
    const pods: PodModel[] = [];
    for (const pod of listObjects(state, 'Pod')) {
      if (podIps(pod).length === 0) continue;
      const entry: PodEntry = {
        pod,
        model: podModelFromPod(pod),
        running: podRunning(pod),
        listeners: listenersOf(pod),
      };
      pods.push(entry.model);
      this.podsByKey.set(`${pod.metadata.namespace}/${pod.metadata.name}`, entry);
      if (!entry.model.hostNetwork) for (const ip of podIps(pod)) this.podsByIp.set(ip, entry);
    }
    const policies: NetworkPolicyModel[] = [];
    for (const np of listObjects(state, 'NetworkPolicy')) {
      const { policy } = validateNetworkPolicy(np);
      if (policy) policies.push(policy);
    }
    this.net = compileNetwork({
      namespaces: listObjects(state, 'Namespace').map((ns) => namespaceModelFromNamespace(ns)),
      pods,
      policies,
    });
    for (const svc of listObjects(state, 'Service')) {
      const ip = specOf(svc).clusterIP;
      if (typeof ip === 'string' && ip !== 'None' && ip !== '') this.servicesByIp.set(ip, svc);
    }
    for (const node of NODES) this.nodesByIp.set(node.ip, node);
    for (const host of externalHosts) this.hostsByIp.set(host.ip, host);
    this.dns = new DnsZone(state, externalHosts);
  }

  podEntry(namespace: string, name: string): PodEntry | undefined {
    return this.podsByKey.get(`${namespace}/${name}`);
  }

  /** The `nameserver` line of every pod's resolv.conf: the kube-dns Service's ClusterIP. */
  nameserver(): string {
    const svc = getObject(this.state, 'Service', 'kube-system', 'kube-dns');
    const ip = svc ? specOf(svc).clusterIP : undefined;
    return typeof ip === 'string' && ip !== 'None' ? ip : KUBE_DNS_IP;
  }

  /** The resolver's path to CoreDNS: UDP 53 to the kube-dns Service, judged like any connection. */
  dnsTransport(source: PodModel): DnsTransport {
    const known = this.transports.get(source);
    if (known) return known;
    const ip = this.nameserver();
    const report = this.connect(source, ip, 53, 'UDP');
    let result: DnsTransport['result'];
    if (report.result === 'inconsistent') result = 'inconsistent';
    else if (report.result === 'refused') result = 'refused';
    else if (report.result === 'connected' && report.speaks === 'dns') result = 'ok';
    else result = 'timeout';
    const transport = { nameserver: ip, result, report };
    this.transports.set(source, transport);
    return transport;
  }

  connect(source: PodModel, ip: string, port: number, protocol: Protocol): ConnectReport {
    let bySource = this.reports.get(source);
    if (!bySource) {
      bySource = new Map();
      this.reports.set(source, bySource);
    }
    const key = `${ip}:${port}/${protocol}`;
    let report = bySource.get(key);
    if (!report) {
      report = this.connectNow(source, ip, port, protocol);
      bySource.set(key, report);
    }
    return report;
  }

  private connectNow(source: PodModel, ip: string, port: number, protocol: Protocol): ConnectReport {
    const svc = this.servicesByIp.get(ip);
    if (svc) return this.viaService(source, svc, ip, port, protocol);
    const pod = this.podsByIp.get(ip);
    if (pod)
      return single(
        `pod ${pod.model.namespace}/${pod.model.name} (${ip}:${port}/${protocol})`,
        this.toPod(source, pod, ip, port, protocol),
      );
    return single(`${ip}:${port}/${protocol}`, this.toAddress(source, ip, port, protocol));
  }

  private viaService(
    source: PodModel,
    svc: KubeObject,
    ip: string,
    port: number,
    protocol: Protocol,
  ): ConnectReport {
    const ns = svc.metadata.namespace ?? '';
    const target = `Service ${ns}/${svc.metadata.name} (${ip}:${port}/${protocol})`;
    const sp = this.servicePortsOf(svc).find((p) => p.port === port && p.protocol === protocol);
    if (!sp) {
      return {
        target,
        result: 'dropped',
        hops: [],
        why: `Service ${ns}/${svc.metadata.name} has no ${protocol} port ${port}: kube-proxy has no rule for it and nothing answers`,
      };
    }
    const ep = getObject(this.state, 'Endpoints', ns, svc.metadata.name);
    const hops: Hop[] = [];
    for (const subset of asArray(ep?.subsets)) {
      const s = asRecord(subset);
      if (!s) continue;
      const epPort = asArray(s.ports)
        .map((p) => asRecord(p))
        .find((p) => p && (p.protocol ?? 'TCP') === protocol && (sp.name ? p.name === sp.name : true));
      if (!epPort || typeof epPort.port !== 'number') continue;
      for (const a of asArray(s.addresses)) {
        const address = asRecord(a);
        if (!address || typeof address.ip !== 'string') continue;
        const ref = asRecord(address.targetRef);
        const pod =
          ref?.kind === 'Pod' && typeof ref.name === 'string'
            ? this.podEntry(typeof ref.namespace === 'string' ? ref.namespace : ns, ref.name)
            : this.podsByIp.get(address.ip);
        hops.push(
          pod
            ? this.toPod(source, pod, address.ip, epPort.port, protocol)
            : this.toAddress(source, address.ip, epPort.port, protocol),
        );
      }
    }
    if (hops.length === 0) {
      return {
        target,
        result: 'refused',
        hops,
        why: `Service ${ns}/${svc.metadata.name} has no ready endpoints for port ${port}/${protocol}: kube-proxy rejects the connection`,
      };
    }
    const first = hops[0]!;
    if (hops.every((h) => h.result === first.result && h.speaks === first.speaks)) {
      return {
        target,
        result: first.result,
        ...(first.speaks ? { speaks: first.speaks } : {}),
        hops,
        why: first.why,
      };
    }
    return {
      target,
      result: 'inconsistent',
      hops,
      why: `the ${hops.length} endpoints of Service ${ns}/${svc.metadata.name} port ${port}/${protocol} answer differently (${hops
        .map((h) => `${h.endpoint}: ${describeHop(h)}`)
        .join('; ')}); a real cluster would give either answer, depending on the pod kube-proxy picks`,
    };
  }

  private servicePortsOf(svc: KubeObject): ServicePortSpec[] {
    let ports = this.portsByService.get(svc);
    if (!ports) {
      ports = servicePorts(svc);
      this.portsByService.set(svc, ports);
    }
    return ports;
  }

  private judge(
    source: PodModel,
    destination: Endpoint,
    port: number,
    protocol: Protocol,
  ): ConnectionVerdict {
    return evaluate(this.net, { kind: 'pod', pod: source }, destination, port, protocol);
  }

  private toPod(source: PodModel, dst: PodEntry, ip: string, port: number, protocol: Protocol): Hop {
    const verdict = this.judge(source, { kind: 'pod', pod: dst.model }, port, protocol);
    const endpoint = `${dst.model.namespace}/${dst.model.name}`;
    const base = { endpoint, ip, port, protocol, verdict };
    if (this.enforcePolicies && !verdict.allowed) {
      return { ...base, result: 'dropped', why: `NetworkPolicy drops it: ${verdict.reasons.join('; ')}` };
    }
    const allowedText = this.enforcePolicies
      ? `policy allows it (${verdict.reasons.join('; ')})`
      : 'NetworkPolicy is not enforced';
    if (!dst.running) {
      return {
        ...base,
        result: 'refused',
        why: `${allowedText}, but ${endpoint}'s containers are not running, so nothing listens on ${port}/${protocol}`,
      };
    }
    const listener = findListener(dst.listeners, port, protocol);
    if (!listener) {
      return {
        ...base,
        result: 'refused',
        why: `${allowedText}, but nothing in ${endpoint} listens on ${port}/${protocol}`,
      };
    }
    return {
      ...base,
      result: 'connected',
      speaks: listener.speaks,
      why: `${allowedText}, and ${listener.because} listens on ${port}/${protocol}`,
    };
  }

  private toAddress(source: PodModel, ip: string, port: number, protocol: Protocol): Hop {
    const verdict = this.judge(source, { kind: 'ip', ip }, port, protocol);
    const node = this.nodesByIp.get(ip);
    const host = this.hostsByIp.get(ip);
    const what = node ? `node ${node.name}` : host ? `external host ${host.name}` : `address ${ip}`;
    const base = {
      endpoint: node ? `${node.name} (${ip})` : host ? `${host.name} (${ip})` : ip,
      ip,
      port,
      protocol,
      verdict,
    };
    if (this.enforcePolicies && !verdict.allowed) {
      return { ...base, result: 'dropped', why: `NetworkPolicy drops it: ${verdict.reasons.join('; ')}` };
    }
    if (!node && !host)
      return {
        ...base,
        result: 'dropped',
        why: `nothing in the simulation has address ${ip}, so no answer comes back`,
      };
    let speaks: Speaks | undefined;
    let because = '';
    if (host) {
      if (host.ports.some((p) => p.port === port && p.protocol === protocol)) {
        speaks = 'unknown';
        because = `${host.name} serves ${port}/${protocol}`;
      }
    } else if (node) {
      const known = NODE_LISTENERS[node.controlPlane ? 'control' : 'worker']!.find(
        (l) => l.port === port && protocol === 'TCP',
      );
      if (known) {
        speaks = 'https';
        because = `${known.because} listens on ${port}/TCP`;
      } else {
        const hostPod = [...this.podsByKey.values()].find(
          (e) =>
            e.model.hostNetwork &&
            nodeNameOf(e.pod) === node.name &&
            e.running &&
            findListener(e.listeners, port, protocol),
        );
        const listener = hostPod ? findListener(hostPod.listeners, port, protocol) : undefined;
        if (hostPod && listener) {
          speaks = listener.speaks;
          because = `host-network pod ${hostPod.model.namespace}/${hostPod.model.name} (${listener.because}) listens on ${port}/${protocol}`;
        }
      }
    }
    const allowedText = this.enforcePolicies ? 'policy allows it' : 'NetworkPolicy is not enforced';
    if (!speaks)
      return {
        ...base,
        result: 'refused',
        why: `${allowedText}, but nothing on ${what} listens on ${port}/${protocol}`,
      };
    return { ...base, result: 'connected', speaks, why: `${allowedText}, and ${because}` };
  }
}

function single(target: string, hop: Hop): ConnectReport {
  return {
    target,
    result: hop.result,
    ...(hop.speaks ? { speaks: hop.speaks } : {}),
    hops: [hop],
    why: hop.why,
  };
}

function describeHop(h: Hop): string {
  if (h.result === 'dropped') return 'dropped by policy';
  if (h.result === 'refused') return 'nothing listens';
  return 'connects';
}
