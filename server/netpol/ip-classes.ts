/**
 * Address classes: the IPv4 and IPv6 address spaces cut at every CIDR boundary that matters, so
 * that inside one class every address is in the same CIDRs (and so in the same ipBlocks, whatever
 * their `except` lists). A class is a set of address ranges with one witness address.
 */
import { parseCidr, type IpFamily } from './ipblock.js';

export interface AddressRange {
  family: IpFamily;
  lo: bigint;
  hi: bigint;
}

export interface AddressClass {
  family: IpFamily;
  ranges: AddressRange[];
  /** Indexes (into the CIDR list given to addressClasses) of the CIDRs holding this class. */
  inside: number[];
  /** One address of the class, as text. */
  witness: string;
}

const BITS: Record<IpFamily, number> = { ipv4: 32, ipv6: 128 };

/** Addresses people recognise as "somewhere on the Internet", used as witnesses when they fit. */
const FAMILIAR: Record<IpFamily, bigint> = {
  ipv4: (8n << 24n) | (8n << 16n) | (8n << 8n) | 8n,
  ipv6: 0x2001_4860_4860_0000_0000_0000_0000_8888n,
};

export function cidrRange(text: string): AddressRange | undefined {
  const c = parseCidr(text);
  if (!c) return undefined;
  let value = 0n;
  for (const w of c.words) value = (value << 32n) | BigInt(w);
  const hostBits = BigInt(BITS[c.family] - c.prefix);
  const lo = (value >> hostBits) << hostBits;
  return { family: c.family, lo, hi: lo + (1n << hostBits) - 1n };
}

export function rangeContains(outer: AddressRange, inner: AddressRange): boolean {
  return outer.family === inner.family && outer.lo <= inner.lo && inner.hi <= outer.hi;
}

/**
 * Cuts both address families at the boundaries of `cidrs` (unparsable entries are skipped) and
 * groups the pieces by the CIDRs that hold them.
 */
export function addressClasses(cidrs: string[]): AddressClass[] {
  const ranges = cidrs.map(cidrRange);
  const out: AddressClass[] = [];
  for (const family of ['ipv4', 'ipv6'] as const) {
    const max = (1n << BigInt(BITS[family])) - 1n;
    const cuts = new Set<bigint>([0n]);
    ranges.forEach((r) => {
      if (r?.family !== family) return;
      cuts.add(r.lo);
      if (r.hi < max) cuts.add(r.hi + 1n);
    });
    const starts = [...cuts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const groups = new Map<string, AddressClass>();
    starts.forEach((lo, i) => {
      const hi = i + 1 < starts.length ? starts[i + 1]! - 1n : max;
      const piece: AddressRange = { family, lo, hi };
      const inside = ranges.flatMap((r, j) => (r && rangeContains(r, piece) ? [j] : []));
      const key = inside.join(',');
      const group = groups.get(key);
      if (group) group.ranges.push(piece);
      else groups.set(key, { family, ranges: [piece], inside, witness: '' });
    });
    for (const g of groups.values()) {
      const familiar = FAMILIAR[family];
      const pick = g.ranges.some((r) => r.lo <= familiar && familiar <= r.hi) ? familiar : g.ranges[0]!.lo;
      g.witness = formatAddress(family, pick);
      out.push(g);
    }
  }
  return out;
}

/** `n` distinct addresses of a class, skipping `taken`; fewer when the class is that small. */
export function addressesIn(cls: AddressClass, n: number, taken: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const r of cls.ranges) {
    // Skip a range's network address when the range is large enough to have hosts besides it.
    for (let a = r.hi - r.lo >= 2n ? r.lo + 1n : r.lo; a <= r.hi && out.length < n; a++) {
      const text = formatAddress(r.family, a);
      if (!taken.has(text)) out.push(text);
      if (a - r.lo > BigInt(n) + BigInt(taken.size) + 2n) break;
    }
    if (out.length >= n) break;
  }
  return out;
}

export function formatAddress(family: IpFamily, value: bigint): string {
  if (family === 'ipv4') {
    return [24n, 16n, 8n, 0n].map((s) => ((value >> s) & 255n).toString()).join('.');
  }
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
  // The longest run of two or more zero groups becomes "::" (RFC 5952).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** `203.0.113.64-203.0.113.127` or one address; several ranges joined with commas. */
export function describeRanges(ranges: AddressRange[], max = 3): string {
  const shown = ranges
    .slice(0, max)
    .map((r) =>
      r.lo === r.hi
        ? formatAddress(r.family, r.lo)
        : `${formatAddress(r.family, r.lo)}-${formatAddress(r.family, r.hi)}`,
    );
  return ranges.length > max ? `${shown.join(', ')}, ...` : shown.join(', ');
}
