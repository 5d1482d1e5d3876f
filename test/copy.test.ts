import { describe, expect, it } from 'vitest';
import { deepCopy } from '../server/copy.js';

describe('deepCopy', () => {
  it('copies wire-shaped objects into independent trees', () => {
    const pod = {
      metadata: { name: 'p', labels: { app: 'x' }, annotations: undefined },
      spec: { containers: [{ name: 'c', ports: [{ containerPort: 80 }] }] },
      status: { podIP: '192.168.0.5', ready: true, restarts: 0, gone: null },
    };
    const copy = deepCopy(pod);
    expect(copy).toStrictEqual(pod);
    copy.metadata.labels.app = 'y';
    copy.spec.containers[0]!.ports[0]!.containerPort = 81;
    expect(pod.metadata.labels.app).toBe('x');
    expect(pod.spec.containers[0]!.ports[0]!.containerPort).toBe(80);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
  });

  it('does not share sub-objects that appear twice (YAML aliases)', () => {
    const labels = { app: 'a' };
    const copy = deepCopy({ a: labels, b: labels });
    copy.a.app = 'changed';
    expect(copy.b.app).toBe('a');
  });

  it('keeps a "__proto__" key as an own property, never as the prototype', () => {
    const obj = JSON.parse('{"metadata":{"__proto__":{"polluted":true},"name":"n"}}') as {
      metadata: Record<string, unknown>;
    };
    const copy = deepCopy(obj);
    expect(Object.getPrototypeOf(copy.metadata)).toBe(Object.prototype);
    expect(Object.keys(copy.metadata)).toEqual(['__proto__', 'name']);
    expect((copy.metadata as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('hands anything that is not plain data to structuredClone', () => {
    const when = new Date(0);
    const sparse: number[] = [];
    sparse[0] = 1;
    sparse[2] = 3;
    const copy = deepCopy({ when, seen: new Map([['a', 1]]), sparse });
    expect(copy.when).toBeInstanceOf(Date);
    expect(copy.when).not.toBe(when);
    expect(copy.seen.get('a')).toBe(1);
    expect(1 in copy.sparse).toBe(false);
    expect(() => deepCopy({ f: () => 1 })).toThrow();
  });

  it('copies cyclic data instead of recursing forever', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    const copy = deepCopy(a);
    let node = copy;
    for (let i = 0; i < 100; i++) node = node.self as Record<string, unknown>;
    expect(node.name).toBe('a');
    expect(copy).not.toBe(a);
  });
});
