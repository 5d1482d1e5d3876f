import { describe, expect, it } from 'vitest';
import { ParseMemo } from '../../server/web/parse-memo.js';

describe('ParseMemo', () => {
  it('parses a text once per key, and again whenever the lab, a limit or the text changes', () => {
    const memo = new ParseMemo<string[]>();
    let calls = 0;
    const parse = (text: string) => () => {
      calls++;
      return text.split('\n');
    };
    const key = ['np-backend', 131072, 50];
    expect(memo.get(key, 'a\nb', parse('a\nb'))).toEqual(['a', 'b']);
    expect(memo.get(key, 'a\nb', parse('a\nb'))).toEqual(['a', 'b']);
    expect(calls).toBe(1);
    for (const [k, text] of [
      [['np-ports', 131072, 50], 'a\nb'],
      [['np-backend', 1024, 50], 'a\nb'],
      [['np-backend', 131072, 0], 'a\nb'],
      [key, 'a\nc'],
      [key, 'a\nb '],
    ] as const) {
      expect(memo.get(k, text, parse(text))).toEqual(text.split('\n'));
    }
    expect(calls).toBe(6);
  });

  it('keeps no error, and forgets the least recently used beyond its size', () => {
    const memo = new ParseMemo<number>(2);
    expect(() =>
      memo.get(['x'], 'bad', () => {
        throw new Error('bad YAML');
      }),
    ).toThrow('bad YAML');
    expect(memo.size).toBe(0);
    let calls = 0;
    const n = (v: number) => () => (calls++, v);
    memo.get(['x'], '1', n(1));
    memo.get(['x'], '2', n(2));
    memo.get(['x'], '1', n(1)); // 1 is now the most recent
    memo.get(['x'], '3', n(3)); // evicts 2
    expect(calls).toBe(3);
    memo.get(['x'], '1', n(1));
    expect(calls).toBe(3);
    memo.get(['x'], '2', n(2));
    expect(calls).toBe(4);
    expect(memo.size).toBe(2);
  });
});
