/**
 * policyTypes defaulting, as the API server does it: when `policyTypes` is absent, a policy
 * always isolates Ingress, and isolates Egress only if it has at least one egress rule.
 * When present, it says exactly which directions are isolated, whatever rules are written.
 */
import type { NetworkPolicySpec } from './types.js';

export interface EffectivePolicyTypes {
  ingress: boolean;
  egress: boolean;
}

export function effectivePolicyTypes(spec: NetworkPolicySpec): EffectivePolicyTypes {
  if (spec.policyTypes && spec.policyTypes.length > 0) {
    return { ingress: spec.policyTypes.includes('Ingress'), egress: spec.policyTypes.includes('Egress') };
  }
  return { ingress: true, egress: (spec.egress ?? []).length > 0 };
}
