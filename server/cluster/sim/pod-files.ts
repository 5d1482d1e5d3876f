/**
 * What a pod knows about itself, for the few commands a learner types to look around in a pod
 * (`hostname`, `env`, `cat /etc/resolv.conf`): the texts the kubelet and the image give them, from
 * the pod's own object. Anything else is left to ./commands.ts (which refuses what it does not
 * model).
 *
 * Stated simplifications: `env` prints the container's literal `env` values (valueFrom and envFrom
 * are left out, as their sources are not simulated) and the Service variables of the Services
 * that exist now (a real kubelet takes those that existed when the container started); resolv.conf
 * carries only the cluster's search list (a real node may append its own search domains).
 */
import type { KubeObject } from '../types.js';
import { asArray, asRecord, specOf } from './state.js';
import { out, type ProbeRun } from './exec.js';

export interface PodFacts {
  pod: KubeObject;
  container: Record<string, unknown>;
  /** Services of the pod's namespace, and `default/kubernetes` if it exists. */
  services: KubeObject[];
  kubernetesService: KubeObject | undefined;
  nameserver: string;
}

/** The programs this file answers, for the images that have them (busybox in agnhost, netshoot). */
export const POD_FILE_PROGRAMS = ['hostname', 'env', 'cat'] as const;

/** The answer to argv, or undefined when argv is not one of the commands answered here. */
export function podFileCommand(facts: PodFacts, argv: readonly string[]): ProbeRun | undefined {
  const [program, ...args] = argv;
  const base = (program ?? '').split('/').pop();
  if (base === 'hostname' && args.length === 0) return out(0, `${hostnameOf(facts.pod)}\n`, '', 0, []);
  if (base === 'env' && args.length === 0) return out(0, envText(facts), '', 0, []);
  if (base === 'cat' && args.length > 0) {
    const texts = args.map((file) => fileText(facts, file));
    // Only the files the kubelet writes are known; any other path is not simulated, not "absent".
    if (texts.some((t) => t === undefined)) return undefined;
    return out(0, texts.join(''), '', 0, []);
  }
  return undefined;
}

function hostnameOf(pod: KubeObject): string {
  const spec = specOf(pod);
  return typeof spec.hostname === 'string' && spec.hostname ? spec.hostname : pod.metadata.name;
}

function fileText(facts: PodFacts, file: string): string | undefined {
  const ns = facts.pod.metadata.namespace ?? 'default';
  switch (file) {
    case '/etc/resolv.conf':
      return `search ${ns}.svc.cluster.local svc.cluster.local cluster.local\nnameserver ${facts.nameserver}\noptions ndots:5\n`;
    case '/etc/hostname':
      return `${hostnameOf(facts.pod)}\n`;
    default:
      return undefined;
  }
}

/** A Service's variables as the kubelet writes them (docker-links style). */
function serviceVars(svc: KubeObject): Array<[string, string]> {
  const spec = specOf(svc);
  const ip = typeof spec.clusterIP === 'string' ? spec.clusterIP : '';
  if (!ip || ip === 'None') return [];
  const prefix = svc.metadata.name.toUpperCase().replace(/-/g, '_');
  const ports = asArray(spec.ports).map((p) => asRecord(p) ?? {});
  const first = ports[0];
  if (!first) return [];
  const vars: Array<[string, string]> = [
    [`${prefix}_SERVICE_HOST`, ip],
    [`${prefix}_SERVICE_PORT`, String(first.port)],
  ];
  for (const p of ports) {
    if (typeof p.name === 'string' && p.name)
      vars.push([`${prefix}_SERVICE_PORT_${p.name.toUpperCase().replace(/-/g, '_')}`, String(p.port)]);
  }
  const proto = (p: Record<string, unknown>) => (typeof p.protocol === 'string' ? p.protocol : 'TCP');
  vars.push([`${prefix}_PORT`, `${proto(first).toLowerCase()}://${ip}:${String(first.port)}`]);
  for (const p of ports) {
    const key = `${prefix}_PORT_${String(p.port)}_${proto(p)}`;
    vars.push(
      [key, `${proto(p).toLowerCase()}://${ip}:${String(p.port)}`],
      [`${key}_PROTO`, proto(p).toLowerCase()],
      [`${key}_PORT`, String(p.port)],
      [`${key}_ADDR`, ip],
    );
  }
  return vars;
}

function envText(facts: PodFacts): string {
  const vars: Array<[string, string]> = [
    ['PATH', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    ['HOSTNAME', hostnameOf(facts.pod)],
  ];
  for (const e of asArray(facts.container.env)) {
    const entry = asRecord(e);
    if (entry && typeof entry.name === 'string' && typeof entry.value === 'string')
      vars.push([entry.name, entry.value]);
  }
  const links = specOf(facts.pod).enableServiceLinks !== false;
  const services = links ? facts.services : [];
  for (const svc of [...(facts.kubernetesService ? [facts.kubernetesService] : []), ...services])
    vars.push(...serviceVars(svc));
  vars.push(['HOME', '/root']);
  return vars.map(([k, v]) => `${k}=${v}\n`).join('');
}
