import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { matchesSelector, isEmptySelector, formatSelector } from '../../server/netpol/index.js';
import { compileSelector } from '../../server/selectors/index.js';
import type { LabelSelector } from '../../server/selectors/index.js';

const labels = { app: 'web', tier: 'front', 'example.com/team': 'a' };

describe('matchesSelector', () => {
  it('selects everything with {} (and with empty lists)', () => {
    expect(matchesSelector({}, labels)).toBe(true);
    expect(matchesSelector({}, {})).toBe(true);
    expect(matchesSelector({ matchLabels: {}, matchExpressions: [] }, {})).toBe(true);
    expect(isEmptySelector({ matchLabels: {} })).toBe(true);
    expect(isEmptySelector({ matchLabels: { a: 'b' } })).toBe(false);
  });

  it('needs every matchLabels entry', () => {
    expect(matchesSelector({ matchLabels: { app: 'web' } }, labels)).toBe(true);
    expect(matchesSelector({ matchLabels: { app: 'web', tier: 'front' } }, labels)).toBe(true);
    expect(matchesSelector({ matchLabels: { app: 'web', tier: 'back' } }, labels)).toBe(false);
    expect(matchesSelector({ matchLabels: { missing: '' } }, labels)).toBe(false);
  });

  it('In needs the key present with one of the values', () => {
    expect(
      matchesSelector({ matchExpressions: [{ key: 'app', operator: 'In', values: ['db', 'web'] }] }, labels),
    ).toBe(true);
    expect(
      matchesSelector({ matchExpressions: [{ key: 'app', operator: 'In', values: ['db'] }] }, labels),
    ).toBe(false);
    expect(
      matchesSelector({ matchExpressions: [{ key: 'nope', operator: 'In', values: ['web'] }] }, labels),
    ).toBe(false);
  });

  it('NotIn matches when the key is absent or has another value', () => {
    expect(
      matchesSelector({ matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] }, labels),
    ).toBe(false);
    expect(
      matchesSelector({ matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['db'] }] }, labels),
    ).toBe(true);
    expect(
      matchesSelector({ matchExpressions: [{ key: 'nope', operator: 'NotIn', values: ['x'] }] }, labels),
    ).toBe(true);
  });

  it('Exists and DoesNotExist look at the key only', () => {
    expect(matchesSelector({ matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, labels)).toBe(true);
    expect(matchesSelector({ matchExpressions: [{ key: 'nope', operator: 'Exists' }] }, labels)).toBe(false);
    expect(matchesSelector({ matchExpressions: [{ key: 'nope', operator: 'DoesNotExist' }] }, labels)).toBe(
      true,
    );
    expect(matchesSelector({ matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, labels)).toBe(
      false,
    );
    expect(matchesSelector({ matchExpressions: [{ key: 'e', operator: 'Exists' }] }, { e: '' })).toBe(true);
  });

  it('ANDs matchLabels and every expression', () => {
    const s: LabelSelector = {
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['front'] },
        { key: 'legacy', operator: 'DoesNotExist' },
      ],
    };
    expect(matchesSelector(s, labels)).toBe(true);
    expect(matchesSelector(s, { ...labels, legacy: 'yes' })).toBe(false);
  });

  it('does not treat inherited object properties as labels', () => {
    expect(matchesSelector({ matchExpressions: [{ key: 'toString', operator: 'Exists' }] }, {})).toBe(false);
    expect(
      matchesSelector({ matchExpressions: [{ key: 'constructor', operator: 'DoesNotExist' }] }, {}),
    ).toBe(true);
  });

  it('formats selectors the way kubectl writes them', () => {
    expect(formatSelector({})).toBe('(all)');
    expect(
      formatSelector({
        matchLabels: { app: 'web' },
        matchExpressions: [
          { key: 't', operator: 'In', values: ['a', 'b'] },
          { key: 'u', operator: 'NotIn', values: ['c'] },
          { key: 'v', operator: 'Exists' },
          { key: 'w', operator: 'DoesNotExist' },
        ],
      }),
    ).toBe('app=web,t in (a,b),u notin (c),v,!w');
  });
});

describe('compileSelector', () => {
  const key = fc.constantFrom('a', 'b', 'c', 'toString');
  const value = fc.constantFrom('1', '2', '');
  const selector: fc.Arbitrary<LabelSelector> = fc.record(
    {
      matchLabels: fc.dictionary(key, value, { maxKeys: 2 }),
      matchExpressions: fc.array(
        fc.record({
          key,
          operator: fc.constantFrom('In', 'NotIn', 'Exists', 'DoesNotExist') as fc.Arbitrary<
            'In' | 'NotIn' | 'Exists' | 'DoesNotExist'
          >,
          values: fc.array(value, { maxLength: 2 }),
        }),
        { maxLength: 3 },
      ),
    },
    { requiredKeys: [] },
  );
  it('agrees with matchesSelector on every selector and label set', () => {
    fc.assert(
      fc.property(selector, fc.dictionary(key, value, { maxKeys: 4 }), (s, l) => {
        expect(compileSelector(s)(l)).toBe(matchesSelector(s, l));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('one selector module for every engine', () => {
  it('the NetworkPolicy and RBAC engines use the same matcher', async () => {
    const netpol = await import('../../server/netpol/index.js');
    const rbac = await import('../../server/rbac/index.js');
    const shared = await import('../../server/selectors/index.js');
    expect(netpol.matchesSelector).toBe(shared.matchesSelector);
    expect(rbac.matchesSelector).toBe(shared.matchesSelector);
  });
});
