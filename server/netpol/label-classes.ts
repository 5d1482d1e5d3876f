/**
 * Label classes: every label set there could ever be, cut into finitely many classes that no
 * selector of interest can tell apart.
 *
 * A selector only ever asks, per key, whether the key is present and whether its value is one of
 * the values the selector names. So for each key that some selector mentions, the values that
 * matter are: absent, each value some selector names, and "any other value". A class gives, per
 * key, the set of those cells a label set may fall in; a label set with a key nobody mentions is
 * indistinguishable from one without it. Refining by a selector splits a class into the part the
 * selector matches (one class: a conjunction per key) and the part it does not (one class per
 * requirement that fails, the earlier ones holding), so classes stay disjoint and cover
 * everything. This is what lets a check speak of "any pod that could be created later" exactly.
 */
import type { LabelSelector, Labels } from './types.js';

/** Per key, a bitmask over the key's cells: bit 0 = absent, bit i = values[i-1], last bit = other. */
export type LabelClass = ReadonlyMap<string, bigint>;

export class LabelSpace {
  /** Per key, the values selectors name, in a stable order. */
  private readonly values = new Map<string, string[]>();

  /** Keys whose values are fixed by the system (the namespace name label): no "absent" cell. */
  constructor(private readonly alwaysPresent: ReadonlySet<string> = new Set()) {}

  /** Registers the keys and values a selector mentions; call before building classes. */
  mention(selector: LabelSelector): void {
    for (const [key, value] of Object.entries(selector.matchLabels ?? {})) this.addValues(key, [value]);
    for (const r of selector.matchExpressions ?? []) this.addValues(r.key, r.values ?? []);
  }

  /** Registers a key's value (e.g. a label an existing object carries) without a selector. */
  mentionValue(key: string, value: string): void {
    this.addValues(key, [value]);
  }

  private addValues(key: string, vals: string[]): void {
    let list = this.values.get(key);
    if (!list) {
      list = [];
      this.values.set(key, list);
    }
    for (const v of vals) if (!list.includes(v)) list.push(v);
  }

  keys(): string[] {
    return [...this.values.keys()].sort();
  }

  private cellCount(key: string): number {
    return (this.values.get(key)?.length ?? 0) + 2;
  }

  private allCells(key: string): bigint {
    const all = (1n << BigInt(this.cellCount(key))) - 1n;
    return this.alwaysPresent.has(key) ? all & ~1n : all;
  }

  private valueCell(key: string, value: string): bigint {
    const i = this.values.get(key)?.indexOf(value) ?? -1;
    return i < 0 ? this.otherCell(key) : 1n << BigInt(i + 1);
  }

  private otherCell(key: string): bigint {
    return 1n << BigInt(this.cellCount(key) - 1);
  }

  /** The class of every label set: no constraint on any key. */
  universe(): LabelClass {
    return new Map(this.keys().map((k) => [k, this.allCells(k)]));
  }

  /** The class of exactly this label set (keys nobody mentions are dropped). */
  classOf(labels: Labels): LabelClass {
    return new Map(
      this.keys().map((k) => [k, Object.hasOwn(labels, k) ? this.valueCell(k, labels[k]!) : 1n]),
    );
  }

  /** Removes cells from a class (e.g. namespace names that are already taken). Undefined if empty. */
  without(cls: LabelClass, key: string, values: string[]): LabelClass | undefined {
    let mask = cls.get(key);
    if (mask === undefined) return cls;
    for (const v of values) if (this.values.get(key)?.includes(v)) mask &= ~this.valueCell(key, v);
    if (mask === 0n) return undefined;
    return new Map(cls).set(key, mask);
  }

  /** Per key, the cells a selector accepts (keys it does not constrain are absent from the map). */
  private constraints(selector: LabelSelector): Map<string, bigint> {
    const out = new Map<string, bigint>();
    const full = (key: string) => (1n << BigInt(this.cellCount(key))) - 1n;
    const and = (key: string, mask: bigint) => out.set(key, (out.get(key) ?? full(key)) & mask);
    for (const [key, value] of Object.entries(selector.matchLabels ?? {}))
      and(key, this.valueCell(key, value));
    for (const r of selector.matchExpressions ?? []) {
      const named = (r.values ?? []).reduce((m, v) => m | this.valueCell(r.key, v), 0n);
      const all = full(r.key);
      switch (r.operator) {
        case 'In':
          and(r.key, named);
          break;
        case 'NotIn':
          and(r.key, all & ~named);
          break;
        case 'Exists':
          and(r.key, all & ~1n);
          break;
        case 'DoesNotExist':
          and(r.key, 1n);
          break;
        default:
          and(r.key, 0n);
      }
    }
    return out;
  }

  /** Does every label set of the class match the selector? (Classes are refined, so all or none do.) */
  matches(cls: LabelClass, selector: LabelSelector): boolean {
    for (const [key, mask] of this.constraints(selector)) {
      if (((cls.get(key) ?? 1n) & ~mask) !== 0n) return false;
    }
    return true;
  }

  /** Splits classes so that each is wholly inside or wholly outside the selector. */
  refine(classes: LabelClass[], selector: LabelSelector): LabelClass[] {
    const constraints = [...this.constraints(selector)];
    if (constraints.length === 0) return classes;
    const out: LabelClass[] = [];
    for (const cls of classes) {
      let rest: Map<string, bigint> | undefined = new Map(cls);
      for (const [key, mask] of constraints) {
        const current = rest.get(key) ?? 1n;
        const outside = current & ~mask;
        if (outside !== 0n) out.push(new Map(rest).set(key, outside));
        const inside = current & mask;
        if (inside === 0n) {
          rest = undefined;
          break;
        }
        rest.set(key, inside);
      }
      if (rest) out.push(rest);
    }
    return out;
  }

  /**
   * One concrete label set of the class, preferring absent keys, then named values, and a fresh
   * value when only "any other value" remains.
   */
  witness(cls: LabelClass, fresh = 'other'): Record<string, string> {
    const labels: Record<string, string> = {};
    for (const [key, mask] of cls) {
      if (mask & 1n) continue;
      const vals = this.values.get(key) ?? [];
      const i = vals.findIndex((_, j) => (mask & (1n << BigInt(j + 1))) !== 0n);
      labels[key] = i >= 0 ? vals[i]! : freshValue(vals, fresh);
    }
    return labels;
  }

  /**
   * The class in words: `app=backend`, `app not in (db1, db2)`, `no label k8s-app`. Keys without a
   * constraint are left out; an empty list means "any labels".
   */
  describe(cls: LabelClass): string[] {
    const parts: string[] = [];
    for (const key of this.keys()) {
      const mask = cls.get(key) ?? 1n;
      if (mask === this.allCells(key)) continue;
      const vals = this.values.get(key) ?? [];
      const named = vals.filter((_, j) => (mask & (1n << BigInt(j + 1))) !== 0n);
      const absent = (mask & 1n) !== 0n;
      if (mask === 1n) parts.push(`no label ${key}`);
      else if ((mask & this.otherCell(key)) === 0n) {
        parts.push(`${key}=${named.join('|')}${absent ? ` or no label ${key}` : ''}`);
      } else {
        const excluded = vals.filter((v) => !named.includes(v));
        // "not in" includes "no such label", as it does in a selector.
        if (absent) parts.push(`${key} not in (${excluded.join(', ')})`);
        else
          parts.push(
            excluded.length > 0 ? `${key} set, not in (${excluded.join(', ')})` : `label ${key} set`,
          );
      }
    }
    return parts;
  }
}

function freshValue(taken: string[], base: string): string {
  let candidate = base;
  for (let i = 2; taken.includes(candidate); i++) candidate = `${base}${i}`;
  return candidate;
}

/**
 * Do two selectors select the same label sets, over every label set there could be? Returns a
 * label set that only one of them matches, or undefined when they are equivalent.
 */
export function selectorDifference(
  a: LabelSelector,
  b: LabelSelector,
): { labels: Record<string, string>; matchedBy: 'first' | 'second' } | undefined {
  const space = new LabelSpace();
  space.mention(a);
  space.mention(b);
  const classes = space.refine(space.refine([space.universe()], a), b);
  for (const cls of classes) {
    const ma = space.matches(cls, a);
    const mb = space.matches(cls, b);
    if (ma !== mb) return { labels: space.witness(cls), matchedBy: ma ? 'first' : 'second' };
  }
  return undefined;
}
