/**
 * covers: does one set of rules grant everything another grants? This is the escalation check:
 * you may only write a role, or bind one, whose rules you already hold.
 *
 * Each requested rule is broken into single permissions (one verb x one group x one resource x
 * one name, or one verb x one URL), and each of those must be covered by ONE owned rule. Coverage
 * is literal: a requested `*` verb is covered only by an owned `*`; `* /sub` covers any resource's
 * subresource `sub`; an owned rule without resourceNames covers any names, one with names covers
 * only those names and never a request for all names; a URL ending in `*` covers its prefix.
 */
import type { PolicyRule } from './types.js';
import { rule as makeRule } from './rules.js';

export function breakdownRule(r: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const group of r.apiGroups) {
    for (const resource of r.resources) {
      for (const verb of r.verbs) {
        if (r.resourceNames.length > 0) {
          for (const name of r.resourceNames) {
            out.push(
              makeRule({ verbs: [verb], apiGroups: [group], resources: [resource], resourceNames: [name] }),
            );
          }
        } else out.push(makeRule({ verbs: [verb], apiGroups: [group], resources: [resource] }));
      }
    }
  }
  for (const url of r.nonResourceURLs)
    for (const verb of r.verbs) out.push(makeRule({ verbs: [verb], nonResourceURLs: [url] }));
  return out;
}

const hasAll = (set: string[], wanted: string[]) => wanted.every((w) => set.includes(w));

function resourcesCovered(owner: string[], wanted: string[]): boolean {
  if (owner.includes('*') || hasAll(owner, wanted)) return true;
  return wanted.every((w) => {
    if (owner.includes(w)) return true;
    const slash = w.indexOf('/');
    if (slash < 0) return false;
    return owner.includes(`*/${w.slice(slash + 1)}`);
  });
}

function urlCovered(owner: string, wanted: string): boolean {
  if (owner === wanted || owner === '*') return true;
  return owner.endsWith('*') && wanted.startsWith(owner.slice(0, -1));
}

export function ruleCovers(owner: PolicyRule, wanted: PolicyRule): boolean {
  const verbs = owner.verbs.includes('*') || hasAll(owner.verbs, wanted.verbs);
  const groups = owner.apiGroups.includes('*') || hasAll(owner.apiGroups, wanted.apiGroups);
  const resources = resourcesCovered(owner.resources, wanted.resources);
  const urls = wanted.nonResourceURLs.every((w) => owner.nonResourceURLs.some((o) => urlCovered(o, w)));
  const names =
    wanted.resourceNames.length === 0
      ? owner.resourceNames.length === 0
      : owner.resourceNames.length === 0 || hasAll(owner.resourceNames, wanted.resourceNames);
  return verbs && groups && resources && urls && names;
}

/** Every single permission of `wanted` that no rule of `owned` covers (empty: covered). */
export function uncovered(owned: readonly PolicyRule[], wanted: readonly PolicyRule[]): PolicyRule[] {
  const missing: PolicyRule[] = [];
  for (const w of wanted) {
    for (const piece of breakdownRule(w)) {
      if (!owned.some((o) => ruleCovers(o, piece))) missing.push(piece);
    }
  }
  return missing;
}
