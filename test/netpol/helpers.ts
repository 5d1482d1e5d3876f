/** Test helpers: reading the reference cases in test/fixtures/netpol/cases and small model builders. */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import {
  assignSyntheticIps,
  compileNetwork,
  validateNetworkPolicy,
  type CompiledNetwork,
  type ContainerPortModel,
  type NetworkModel,
  type NetworkPolicyModel,
  type PodModel,
  type Protocol,
} from '../../server/netpol/index.js';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'netpol');

export interface CaseProbe {
  from: string;
  to: string;
  port: number | string;
  protocol: Protocol;
  expect: 'allow' | 'deny';
  engineOnly?: boolean;
  cniDependent?: boolean;
  why?: string;
}

export interface NetpolCase {
  file: string;
  description: string;
  model: NetworkModel;
  policyObjects: unknown[];
  probes: CaseProbe[];
}

interface RawCase {
  description: string;
  namespaces: Record<string, Record<string, string>>;
  pods: Array<{
    namespace: string;
    name: string;
    labels: Record<string, string>;
    ports: ContainerPortModel[];
  }>;
  policies: unknown[];
  probes: CaseProbe[];
}

export function loadCases(): NetpolCase[] {
  const dir = join(FIXTURES, 'cases');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((file) => {
      const raw = parse(readFileSync(join(dir, file), 'utf8')) as RawCase;
      const policies: NetworkPolicyModel[] = raw.policies.map((obj, i) => {
        const { policy, problems } = validateNetworkPolicy(obj);
        if (!policy) throw new Error(`${file}: policy #${i} is invalid: ${JSON.stringify(problems)}`);
        return policy;
      });
      const pods: PodModel[] = raw.pods.map((p) => ({ ...p, ips: [] }));
      assignSyntheticIps(pods);
      return {
        file,
        description: raw.description,
        model: {
          namespaces: Object.entries(raw.namespaces).map(([name, labels]) => ({ name, labels })),
          pods,
          policies,
        },
        policyObjects: raw.policies,
        probes: raw.probes,
      };
    });
}

export function podOf(net: CompiledNetwork, ref: string): PodModel {
  const [ns, name] = ref.split('/');
  const pod = net.pod(ns!, name!);
  if (!pod) throw new Error(`no pod ${ref}`);
  return pod;
}

export function pod(
  namespace: string,
  name: string,
  labels: Record<string, string>,
  extra: Partial<PodModel> = {},
): PodModel {
  return { namespace, name, labels, ips: [], ports: [{ name: 'http', port: 80, protocol: 'TCP' }], ...extra };
}

export function netOf(
  pods: PodModel[],
  policies: unknown[],
  namespaces: NetworkModel['namespaces'] = [],
): CompiledNetwork {
  const models = policies.map((obj) => {
    const { policy, problems } = validateNetworkPolicy(obj);
    if (!policy) throw new Error(`invalid test policy: ${JSON.stringify(problems)}`);
    return policy;
  });
  const names = new Set(namespaces.map((n) => n.name));
  const allNamespaces = [...namespaces];
  for (const p of pods) {
    if (!names.has(p.namespace)) {
      names.add(p.namespace);
      allNamespaces.push({ name: p.namespace, labels: { 'kubernetes.io/metadata.name': p.namespace } });
    }
  }
  assignSyntheticIps(pods);
  return compileNetwork({ namespaces: allNamespaces, pods, policies: models });
}

export function np(namespace: string, name: string, spec: unknown): unknown {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace, name }, spec };
}
