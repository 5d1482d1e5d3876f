/** One row per cause: replicas folded into their workload only when they behave alike. */
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../server/cluster/types.js';
import { generaliser, groupProbes, workloadsOf } from '../../server/grader/grouping.js';
import type { ProbeResult } from '../../server/grader/report.js';

function pod(
  ns: string,
  name: string,
  owner?: { kind: string; name: string },
  labels: Record<string, string> = {},
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: ns,
      labels,
      ...(owner
        ? {
            ownerReferences: [
              { apiVersion: 'apps/v1', kind: owner.kind, name: owner.name, uid: 'u', controller: true },
            ],
          }
        : {}),
    },
  };
}

function probe(from: string, to: string, explanation: string, passed = false): ProbeResult {
  return {
    from,
    to,
    expected: 'blocked',
    actual: passed ? 'blocked' : 'allowed',
    passed,
    attempts: 1,
    detail: 'curl exit 0: connected',
    explanation,
  };
}

const WORKLOADS = workloadsOf([
  pod(
    'np',
    'web-7d9c4b5f6b-abcde',
    { kind: 'ReplicaSet', name: 'web-7d9c4b5f6b' },
    { 'pod-template-hash': '7d9c4b5f6b' },
  ),
  pod(
    'np',
    'web-7d9c4b5f6b-fghjk',
    { kind: 'ReplicaSet', name: 'web-7d9c4b5f6b' },
    { 'pod-template-hash': '7d9c4b5f6b' },
  ),
  pod('np', 'db-0', { kind: 'StatefulSet', name: 'db' }),
  pod('np', 'db-10', { kind: 'StatefulSet', name: 'db-1' }),
  pod('np', 'lonely'),
]);

describe('workloadsOf', () => {
  it('names a Deployment by its ReplicaSet minus the pod-template-hash, other owners by their name', () => {
    expect(WORKLOADS).toEqual({
      'np/web-7d9c4b5f6b-abcde': 'np/web',
      'np/web-7d9c4b5f6b-fghjk': 'np/web',
      'np/db-0': 'np/db',
      'np/db-10': 'np/db-1',
    });
  });

  it('leaves a ReplicaSet whose name does not end in the hash as it is', () => {
    expect(
      workloadsOf([pod('np', 'rs-x', { kind: 'ReplicaSet', name: 'plain' }, { 'pod-template-hash': 'zz' })]),
    ).toEqual({
      'np/rs-x': 'np/plain',
    });
  });
});

describe('groupProbes', () => {
  const a = 'np/web-7d9c4b5f6b-abcde';
  const b = 'np/web-7d9c4b5f6b-fghjk';

  it('folds the replicas of one workload and the targets of one cause into one row', () => {
    const probes = [
      probe(
        a,
        'db.np:1/TCP',
        `open: no policy restricts egress from ${a}; no policy restricts ingress to np/db-0.`,
      ),
      probe(
        a,
        'db.np:2/TCP',
        `open: no policy restricts egress from ${a}; no policy restricts ingress to np/db-0.`,
      ),
      probe(
        b,
        'db.np:1/TCP',
        `open: no policy restricts egress from ${b}; no policy restricts ingress to np/db-0.`,
      ),
      probe(
        b,
        'db.np:2/TCP',
        `open: no policy restricts egress from ${b}; no policy restricts ingress to np/db-0.`,
      ),
    ];
    const groups = groupProbes(probes, WORKLOADS);
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatchObject({
      from: 'np/web (2 pods)',
      to: ['db.np:1/TCP', 'db.np:2/TCP'],
      explanation: 'open: no policy restricts egress from np/web; no policy restricts ingress to np/db.',
    });
    expect(groups[0]!.probes).toHaveLength(4);
  });

  it('keeps distinct causes apart', () => {
    const groups = groupProbes(
      [
        probe(a, 'x', 'because of rule 1'),
        probe(b, 'x', 'because of rule 1'),
        probe(a, 'y', 'because of rule 2'),
        probe(b, 'y', 'because of rule 2'),
      ],
      WORKLOADS,
    );
    expect(groups.map((g) => [g.from, g.to, g.explanation])).toEqual([
      ['np/web (2 pods)', ['x'], 'because of rule 1'],
      ['np/web (2 pods)', ['y'], 'because of rule 2'],
    ]);
  });

  it('names the pod when only some replicas fail: the difference is the point', () => {
    const all = [probe(a, 'x', `from ${a}`), probe(b, 'x', `from ${b}`, true)];
    const groups = groupProbes(
      all.filter((p) => !p.passed),
      WORKLOADS,
      all,
    );
    expect(groups.map((g) => [g.from, g.explanation])).toEqual([[a, `from ${a}`]]);
  });

  it('never reads a pod name inside a longer one, and keeps a sentence-final full stop', () => {
    const general = generaliser(WORKLOADS);
    expect(general('to np/db-10 and np/db-0.')).toBe('to np/db-1 and np/db.');
    expect(general('np/db-0x stays')).toBe('np/db-0x stays');
  });

  it('makes one generaliser per workloads map, and a new one for another map', () => {
    expect(generaliser(WORKLOADS)).toBe(generaliser(WORKLOADS));
    const other = { ...WORKLOADS, 'np/db-10': 'np/other' };
    expect(generaliser(other)).not.toBe(generaliser(WORKLOADS));
    expect(generaliser(other)('np/db-10')).toBe('np/other');
    expect(generaliser(WORKLOADS)('np/db-10')).toBe('np/db-1');
  });

  it('leaves pods no controller made under their own names', () => {
    const groups = groupProbes([probe('np/lonely', 'x', 'from np/lonely')], WORKLOADS);
    expect(groups[0]).toMatchObject({ from: 'np/lonely', explanation: 'from np/lonely' });
  });
});
