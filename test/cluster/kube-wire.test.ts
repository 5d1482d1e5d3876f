import { dumpYaml } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  applyOrder,
  droppedFields,
  prepareForApply,
  toClientObject,
  toWireObject,
} from '../../server/cluster/kube-wire.js';
import type { KubeObject } from '../../server/cluster/types.js';
import { KubelabError } from '../../server/errors.js';

const policy: KubeObject = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'np-backend', namespace: 'np-lab' },
  spec: {
    podSelector: { matchLabels: { app: 'backend' } },
    policyTypes: ['Ingress', 'Egress'],
    ingress: [
      { from: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ protocol: 'TCP', port: 8080 }] },
    ],
    egress: [
      { to: [{ podSelector: { matchLabels: { app: 'db1' } } }], ports: [{ protocol: 'TCP', port: 1111 }] },
      {
        to: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
            podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
          },
        ],
        ports: [
          { protocol: 'UDP', port: 53 },
          { protocol: 'TCP', port: 53 },
        ],
      },
    ],
  },
};

// What the client's serializer puts in a request body for this object (dumpYaml runs the very
// serializer KubernetesObjectApi.patch uses; kube.test.ts also checks the real HTTP body).
const serialized = (o: unknown): Record<string, unknown> => parse(dumpYaml(o)) as Record<string, unknown>;

describe('the from/_from trap', () => {
  it('TRAP: a plain object through the typed serializer loses `from`, so the rule would allow everyone', () => {
    const body = serialized(structuredClone(policy)) as { spec: { ingress: Array<Record<string, unknown>> } };
    expect(body.spec.ingress[0]).not.toHaveProperty('from');
    expect(body.spec.ingress[0]).toEqual({ ports: [{ protocol: 'TCP', port: 8080 }] });
  });

  it('the conversion kubelab uses keeps `from` and `to` on the wire', () => {
    const body = serialized(toClientObject(policy));
    expect(body).toEqual(policy);
    const spec = body.spec as {
      ingress: Array<Record<string, unknown>>;
      egress: Array<Record<string, unknown>>;
    };
    expect(spec.ingress[0]).toHaveProperty('from');
    expect(spec.egress[1]).toHaveProperty('to');
  });

  it('model objects read back from the client are serialized to the wire shape again', () => {
    const model = toClientObject(policy) as unknown as { spec: { ingress: Array<Record<string, unknown>> } };
    expect(model.spec.ingress[0]).toHaveProperty('_from'); // the model's name for it
    expect(toWireObject(model)).toEqual(policy);
  });

  it('list items (no apiVersion/kind) need their type set before serializing, or `_from` leaks out', () => {
    const item = toClientObject(policy) as unknown as Record<string, unknown>;
    delete item.apiVersion;
    delete item.kind;
    const leaked = serialized(item) as { spec: { ingress: Array<Record<string, unknown>> } };
    expect(leaked.spec.ingress[0]).toHaveProperty('_from');
    expect(toWireObject(item, { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' })).toEqual(policy);
  });

  it('CRD schemas keep enum, default and x-kubernetes-* through the conversion (and lose them as plain objects)', () => {
    const crd: KubeObject = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com',
        names: { kind: 'Widget', plural: 'widgets' },
        scope: 'Namespaced',
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: 'object',
                'x-kubernetes-preserve-unknown-fields': true,
                properties: {
                  mode: { type: 'string', enum: ['a', 'b'], default: 'a' },
                  size: { 'x-kubernetes-int-or-string': true },
                },
              },
            },
          },
        ],
      },
    };
    expect(serialized(toClientObject(crd))).toEqual(crd);
    const plain = JSON.stringify(serialized(structuredClone(crd)));
    expect(plain).not.toContain('enum');
    expect(plain).not.toContain('x-kubernetes-preserve-unknown-fields');
  });
});

describe('prepareForApply', () => {
  it('passes objects that survive the conversion unchanged', () => {
    const [prepared] = prepareForApply([policy]);
    expect(serialized(prepared!.model)).toEqual(policy);
  });

  it('refuses fields the client would drop, naming each one, instead of sending a different object', () => {
    const typo = structuredClone(policy) as KubeObject & { spec: Record<string, unknown> };
    typo.spec.podSelecter = { matchLabels: { app: 'x' } };
    (typo.spec.egress as Array<Record<string, unknown>>)[0]!.too = [];
    try {
      prepareForApply([typo]);
      expect.unreachable();
    } catch (e) {
      const err = e as KubelabError;
      expect(err.code).toBe('BAD_INPUT');
      expect(err.problems.map((p) => p.path).sort()).toEqual(['spec.egress[0].too', 'spec.podSelecter']);
      expect(err.problems[0]!.message).toContain('NetworkPolicy np-lab/np-backend');
    }
  });

  it('ignores null values and status (kubectl-generated YAML has both)', () => {
    const generated = {
      ...structuredClone(policy),
      metadata: { ...policy.metadata, creationTimestamp: null },
      status: {},
    } as unknown as KubeObject;
    expect(() => prepareForApply([generated])).not.toThrow();
  });

  it('rejects objects without apiVersion, kind or name', () => {
    try {
      prepareForApply([{ kind: 'Pod', metadata: {} } as unknown as KubeObject]);
      expect.unreachable();
    } catch (e) {
      expect((e as KubelabError).problems[0]!.message).toMatch(/needs apiVersion, kind and metadata.name/);
    }
  });
});

describe('droppedFields', () => {
  it('finds missing keys at any depth, in arrays too', () => {
    expect(droppedFields({ a: { b: 1, c: [{ d: 1, e: 2 }] } }, { a: { b: 1, c: [{ d: 1 }] } })).toEqual([
      'a.c[0].e',
    ]);
    expect(droppedFields({ a: 1 }, { a: 1 })).toEqual([]);
  });
});

describe('applyOrder', () => {
  it('puts CRDs first, then Namespaces, and otherwise keeps the order given', () => {
    const o = (kind: string, name: string) => ({ kind, name });
    expect(
      applyOrder([
        o('Deployment', 'a'),
        o('Namespace', 'n'),
        o('Service', 'b'),
        o('CustomResourceDefinition', 'c'),
        o('Namespace', 'm'),
      ]).map((x) => x.name),
    ).toEqual(['c', 'n', 'm', 'a', 'b']);
  });
});
