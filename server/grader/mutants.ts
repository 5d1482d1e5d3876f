/**
 * Mutants of a lab's solution: small, plausible mistakes derived mechanically from its
 * NetworkPolicies, so `kubelab lab test` can ask of every lab "does the grader notice each change
 * that matters, and forgive each change that does not?" without an author listing them by hand.
 *
 * Each operator makes one change at one place. Mutants the API server would refuse (a range past
 * 65535, say) are not generated; mutants that come out identical to the solution or to each other
 * are dropped.
 */
import type { KubeObject } from '../cluster/types.js';
import { isRecord } from '../manifests/load.js';
import { validateNetworkPolicy } from '../netpol/index.js';
import { objectEdits } from './workload-mutants.js';

export interface Mutant {
  /** What was changed, e.g. `np-lab/np-backend: drop spec.egress[1].ports`. */
  name: string;
  objects: KubeObject[];
}

type Json = Record<string, unknown>;
type Edit = { where: string; apply: (spec: Json, obj: KubeObject) => void };

export function mutantsOf(solution: KubeObject[]): Mutant[] {
  const out: Mutant[] = [];
  const seen = new Set<string>([JSON.stringify(solution)]);
  solution.forEach((obj, index) => {
    if (obj.kind !== 'NetworkPolicy') {
      const id = `${obj.kind} ${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata.name}`;
      for (const edit of objectEdits(obj)) {
        const copy = structuredClone(solution);
        edit.apply(copy[index]!);
        const key = JSON.stringify(copy);
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ name: `${id}: ${edit.where}`, objects: copy });
      }
      return;
    }
    if (!isRecord(obj.spec)) return;
    const id = `${obj.metadata.namespace ?? 'default'}/${obj.metadata.name}`;
    for (const edit of editsOf(obj.spec as Json)) {
      const copy = structuredClone(solution);
      const target = copy[index]!;
      edit.apply(target.spec as Json, target);
      if (!validateNetworkPolicy(target, target.metadata.namespace).policy) continue;
      const key = JSON.stringify(copy);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ name: `${id}: ${edit.where}`, objects: copy });
    }
  });
  return out;
}

function editsOf(spec: Json): Edit[] {
  const edits: Edit[] = [];
  const at =
    (path: Array<string | number>) =>
    (s: Json): unknown =>
      path.reduce<unknown>(
        (cur, k) => (isRecord(cur) || Array.isArray(cur) ? (cur as Json)[k as string] : undefined),
        s,
      );

  edits.push({
    where: 'rename the policy',
    apply: (_s, obj) => {
      obj.metadata.name = `${obj.metadata.name}-renamed`;
    },
  });
  if (Array.isArray(spec.policyTypes)) {
    edits.push({ where: 'drop spec.policyTypes', apply: (s) => delete s.policyTypes });
  }
  if (isRecord(spec.podSelector) && Object.keys(spec.podSelector).length > 0) {
    edits.push({ where: 'widen spec.podSelector to {}', apply: (s) => (s.podSelector = {}) });
  }

  for (const [direction, peersKey] of [
    ['ingress', 'from'],
    ['egress', 'to'],
  ] as const) {
    const rules = spec[direction];
    if (!Array.isArray(rules)) continue;
    rules.forEach((rule, r) => {
      if (!isRecord(rule)) return;
      const rp = `spec.${direction}[${r}]`;
      const ruleAt = (s: Json) => at([direction, r])(s) as Json;
      edits.push({ where: `drop ${rp}`, apply: (s) => (s[direction] as unknown[]).splice(r, 1) });

      const ports = rule.ports;
      if (Array.isArray(ports)) {
        edits.push({ where: `drop ${rp}.ports`, apply: (s) => delete ruleAt(s).ports });
        ports.forEach((port, p) => {
          if (!isRecord(port)) return;
          const pp = `${rp}.ports[${p}]`;
          const portAt = (s: Json) => (ruleAt(s).ports as Json[])[p]!;
          const proto = typeof port.protocol === 'string' ? port.protocol : 'TCP';
          const other = proto === 'TCP' ? 'UDP' : 'TCP';
          edits.push({
            where: `change ${pp} protocol ${proto} -> ${other}`,
            apply: (s) => (portAt(s).protocol = other),
          });
          if (typeof port.port === 'number') {
            const n = port.port;
            const end = typeof port.endPort === 'number' ? port.endPort : n;
            if (end < 65535)
              edits.push({
                where: `widen ${pp} ${n}${end !== n ? `-${end}` : ''} to ${n}-${end + 1}`,
                apply: (s) => (portAt(s).endPort = end + 1),
              });
            if (end !== n)
              edits.push({
                where: `narrow ${pp} ${n}-${end} to ${n}-${end - 1}`,
                apply: (s) => (portAt(s).endPort = end - 1),
              });
            if (n > 1)
              edits.push({
                where: `widen ${pp} down to ${n - 1}-${end}`,
                apply: (s) => {
                  portAt(s).port = n - 1;
                  portAt(s).endPort = end;
                },
              });
          }
        });
      }

      const peers = rule[peersKey];
      if (Array.isArray(peers)) {
        edits.push({
          where: `add 0.0.0.0/0 to ${rp}.${peersKey}`,
          apply: (s) => (ruleAt(s)[peersKey] as unknown[]).push({ ipBlock: { cidr: '0.0.0.0/0' } }),
        });
        peers.forEach((peer, i) => {
          if (!isRecord(peer)) return;
          const pp = `${rp}.${peersKey}[${i}]`;
          const peerAt = (s: Json) => (ruleAt(s)[peersKey] as Json[])[i]!;
          edits.push({ where: `drop ${pp}`, apply: (s) => (ruleAt(s)[peersKey] as unknown[]).splice(i, 1) });
          if (isRecord(peer.podSelector) && isRecord(peer.namespaceSelector)) {
            edits.push({
              where: `split ${pp} (namespace AND pod) into two peers (namespace OR pod)`,
              apply: (s) => {
                const { podSelector, namespaceSelector } = peerAt(s);
                (ruleAt(s)[peersKey] as unknown[]).splice(i, 1, { namespaceSelector }, { podSelector });
              },
            });
          }
          for (const sel of ['podSelector', 'namespaceSelector'] as const) {
            if (isRecord(peer[sel]) && Object.keys(peer[sel]).length > 0)
              edits.push({ where: `widen ${pp}.${sel} to {}`, apply: (s) => (peerAt(s)[sel] = {}) });
          }
          if (isRecord(peer.ipBlock) && Array.isArray(peer.ipBlock.except)) {
            (peer.ipBlock.except as unknown[]).forEach((_, e) =>
              edits.push({
                where: `drop ${pp}.ipBlock.except[${e}]`,
                apply: (s) => {
                  const block = peerAt(s).ipBlock as Json;
                  (block.except as unknown[]).splice(e, 1);
                  if ((block.except as unknown[]).length === 0) delete block.except;
                },
              }),
            );
          }
        });
      }
    });
  }
  return edits;
}
