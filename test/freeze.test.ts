/** Deep freezing, and what is remembered for frozen objects. */
import { describe, expect, it } from 'vitest';
import { FrozenMemo, freezeDeep } from '../server/freeze.js';

describe('freezeDeep', () => {
  it('freezes every level and returns the same object', () => {
    const value = { a: { b: [1, { c: 2 }] } };
    expect(freezeDeep(value)).toBe(value);
    expect(Object.isFrozen(value.a.b[1])).toBe(true);
  });
});

describe('FrozenMemo', () => {
  it('works a frozen key out once, undefined answers included, and an unfrozen key every time', () => {
    const memo = new FrozenMemo<object, string | undefined>();
    let calls = 0;
    const count = (answer: string | undefined) => () => {
      calls++;
      return answer;
    };
    const frozen = Object.freeze({});
    expect(memo.get(frozen, count('x'))).toBe('x');
    expect(memo.get(frozen, count('y'))).toBe('x');
    const nothing = Object.freeze({});
    expect(memo.get(nothing, count(undefined))).toBeUndefined();
    expect(memo.get(nothing, count('late'))).toBeUndefined();
    expect(calls).toBe(2);
    const open = {};
    expect(memo.get(open, count('a'))).toBe('a');
    expect(memo.get(open, count('b'))).toBe('b');
    expect(calls).toBe(4);
  });
});
