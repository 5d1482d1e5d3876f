/**
 * ipBlock peers: CIDR parsing as Go's net.ParseCIDR accepts it (the API server's check) and
 * membership tests for IPv4 and IPv6.
 *
 * Addresses are validated by node's own parser (net.isIP) and then turned into 32-bit words, so a
 * test is a few integer compares. node's net.BlockList gives the same answers but builds a
 * SocketAddress object on every check, which made compiling 500 policies over 1000 pods take
 * seconds; the words are computed once per pod and once per block instead.
 */
import { isIP } from 'node:net';
import type { IPBlock } from './types.js';

export type IpFamily = 'ipv4' | 'ipv6';

/** An address as words: one for IPv4, four (most significant first) for IPv6. */
export type IpWords = Uint32Array;

export interface ParsedCidr {
  /** The address as written (host bits may be set; Go's ParseCIDR accepts that and masks them). */
  address: string;
  prefix: number;
  family: IpFamily;
  words: IpWords;
}

/** The family of a plain address, or undefined when it is not one (zones like `%eth0` are refused). */
export function ipFamily(ip: string): IpFamily | undefined {
  if (ip.includes('%')) return undefined;
  const v = isIP(ip);
  return v === 4 ? 'ipv4' : v === 6 ? 'ipv6' : undefined;
}

/** The address as words, or undefined when it is not a valid address. */
export function parseIp(ip: string): IpWords | undefined {
  const family = ipFamily(ip);
  if (family === 'ipv4') return Uint32Array.of(ipv4ToNumber(ip));
  if (family === 'ipv6') return ipv6ToWords(ip);
  return undefined;
}

function ipv4ToNumber(ip: string): number {
  const [a = 0, b = 0, c = 0, d = 0] = ip.split('.').map(Number);
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

/** Expands `::` and a trailing dotted IPv4 part; the text is already known to be valid. */
function ipv6ToWords(ip: string): IpWords {
  let text = ip;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    // `::ffff:1.2.3.4` is `::ffff:102:304` written another way.
    const v4 = ipv4ToNumber(text.slice(lastColon + 1));
    text = `${text.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const hex = (s: string) => (s === '' ? [] : s.split(':').map((h) => parseInt(h, 16)));
  const doubleColon = text.indexOf('::');
  let groups: number[];
  if (doubleColon >= 0) {
    const head = hex(text.slice(0, doubleColon));
    const rest = hex(text.slice(doubleColon + 2));
    groups = [...head, ...Array<number>(8 - head.length - rest.length).fill(0), ...rest];
  } else {
    groups = hex(text);
  }
  const words = new Uint32Array(4);
  for (let i = 0; i < 4; i++) words[i] = (((groups[2 * i] ?? 0) << 16) | (groups[2 * i + 1] ?? 0)) >>> 0;
  return words;
}

/** Parses `a.b.c.d/n` or `x::y/n`; returns undefined when Go's ParseCIDR would refuse the text. */
export function parseCidr(text: string): ParsedCidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0 || slash !== text.lastIndexOf('/')) return undefined;
  const address = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  const family = ipFamily(address);
  if (!family || !/^[0-9]{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > (family === 'ipv4' ? 32 : 128)) return undefined;
  return { address, prefix, family, words: parseIp(address)! };
}

/** Do the first `prefix` bits of two addresses of the same family agree? */
export function samePrefix(a: IpWords, b: IpWords, prefix: number): boolean {
  if (a.length !== b.length) return false;
  let bits = prefix;
  for (let i = 0; i < a.length && bits > 0; i++) {
    const take = Math.min(32, bits);
    const mask = take === 32 ? 0xffffffff : ~(0xffffffff >>> take) >>> 0;
    if (((a[i]! ^ b[i]!) & mask) >>> 0 !== 0) return false;
    bits -= take;
  }
  return true;
}

/** An ipBlock ready for membership tests: inside `cidr` and outside every `except`. */
export class CompiledIpBlock {
  readonly source: IPBlock;
  private readonly cidr: ParsedCidr | undefined;
  private readonly except: ParsedCidr[];

  constructor(block: IPBlock) {
    this.source = block;
    // Validated policies never carry a bad CIDR; an unparsable one matches nothing.
    this.cidr = parseCidr(block.cidr);
    this.except = (block.except ?? []).map(parseCidr).filter((c): c is ParsedCidr => c !== undefined);
  }

  /** Go's IPNet.Contains compares within one family only (an IPv4 pod never matches an IPv6 block). */
  containsWords(ip: IpWords): boolean {
    const cidr = this.cidr;
    if (!cidr || !samePrefix(cidr.words, ip, cidr.prefix)) return false;
    return !this.except.some((e) => samePrefix(e.words, ip, e.prefix));
  }

  contains(ip: string): boolean {
    const words = parseIp(ip);
    return words !== undefined && this.containsWords(words);
  }

  /** `10.0.0.0/8 except 10.1.0.0/16` for reasons. */
  describe(): string {
    const except = this.source.except ?? [];
    return except.length === 0 ? this.source.cidr : `${this.source.cidr} except ${except.join(', ')}`;
  }
}

/**
 * The API server's rule for `except`: each entry must be a strict subset of `cidr` (same family,
 * longer prefix, inside cidr). Returns a message, or undefined when it is fine.
 */
export function exceptProblem(cidr: ParsedCidr, except: ParsedCidr): string | undefined {
  if (cidr.family !== except.family || except.prefix <= cidr.prefix)
    return 'must be a strict subset of `cidr`';
  // With a longer prefix, every address of the except network shares cidr's leading bits, so
  // testing the address as written is the same as testing its network address.
  return samePrefix(cidr.words, except.words, cidr.prefix) ? undefined : 'must be a strict subset of `cidr`';
}
