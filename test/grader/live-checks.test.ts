/** Field paths and assertions of `state` checks, and reading a real cluster's dry run as an admission answer. */
import { describe, expect, it } from 'vitest';
import { assertionProblem, valuesAt } from '../../server/grader/live-checks.js';
import { admissionAnswerOf, parseWarningHeaders } from '../../server/cluster/kube-admission.js';
import type { KubeObject } from '../../server/cluster/types.js';

const ns = {
  metadata: { labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } },
  spec: { containers: [{ image: 'a' }, { image: 'b' }] },
};

describe('state assertions', () => {
  it('reads keys with dots, indexes and wildcards; absent fields give nothing', () => {
    expect(valuesAt(ns, 'metadata.labels["pod-security.kubernetes.io/enforce"]')).toEqual(['restricted']);
    expect(valuesAt(ns, 'spec.containers[*].image')).toEqual(['a', 'b']);
    expect(valuesAt(ns, 'spec.containers[1].image')).toEqual(['b']);
    expect(valuesAt(ns, 'spec.volumes[*].projected')).toEqual([]);
  });

  it('equals needs a value; oneOf with null accepts absence; absent and exists', () => {
    expect(assertionProblem([], { path: 'x', equals: false })).toBe('is absent, expected false');
    expect(assertionProblem([true], { path: 'x', equals: false })).toBe('is true, expected false');
    expect(assertionProblem([false, false], { path: 'x', equals: false })).toBeUndefined();
    expect(assertionProblem([], { path: 'x', oneOf: ['latest', null] })).toBeUndefined();
    expect(assertionProblem(['v1.22'], { path: 'x', oneOf: ['latest', null] })).toBe(
      'is "v1.22", expected one of "latest", absent',
    );
    expect(assertionProblem([{}], { path: 'x', absent: true })).toBe('is {}, expected it to be absent');
    expect(assertionProblem([], { path: 'x', exists: true })).toBe('is absent, expected it to be set');
  });
});

describe("a real cluster's dry run as an admission answer", () => {
  const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'n' } };
  it('parses Warning headers, several in one value', () => {
    expect(
      parseWarningHeaders(['299 - "would violate PodSecurity \\"restricted:latest\\": x", 299 - "second"']),
    ).toEqual(['would violate PodSecurity "restricted:latest": x', 'second']);
  });
  it('a Pod Security 403 is a refusal; an RBAC 403 or a 500 is an environment error, never an answer', () => {
    const refused = admissionAnswerOf(pod, {
      ok: false,
      code: 403,
      body: JSON.stringify({
        message: 'pods "p" is forbidden: violates PodSecurity "baseline:latest": privileged',
      }),
      warnings: [],
    });
    expect(refused).toMatchObject({ admitted: false, name: 'p', namespace: 'n' });
    expect(() =>
      admissionAnswerOf(pod, {
        ok: false,
        code: 403,
        body: { message: 'pods is forbidden: User "x" cannot create resource "pods"' },
        warnings: [],
      }),
    ).toThrow(/admission is unknown/);
    expect(() => admissionAnswerOf(pod, { ok: false, code: 500, body: 'boom', warnings: [] })).toThrow(
      /admission is unknown/,
    );
    expect(admissionAnswerOf(pod, { ok: true, warnings: ['w'] })).toMatchObject({
      admitted: true,
      warnings: ['w'],
    });
  });
});
