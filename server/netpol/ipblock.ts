/**
 * ipBlock peers: CIDR parsing as Go's net.ParseCIDR accepts it (the API server's check), and
 * membership tests through node's net.BlockList, which does the IPv4 and IPv6 arithmetic for us.
 */
import { BlockList, isIP } from 'node:net';
import type { IPBlock } from './types.js';

export type IpFamily = 'ipv4' | 'ipv6';

export interface ParsedCidr {
  /** The address as written (host bits may be set; Go's ParseCIDR accepts that and masks them). */
  address: string;
  prefix: number;
  family: IpFamily;
}

/** The family of a plain address, or undefined when it is not one (zones like `%eth0` are refused). */
export function ipFamily(ip: string): IpFamily | undefined {
  if (ip.includes('%')) return undefined;
  const v = isIP(ip);
  return v === 4 ? 'ipv4' : v === 6 ? 'ipv6' : undefined;
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
  return { address, prefix, family };
}

/** An ipBlock ready for membership tests: inside `cidr` and outside every `except`. */
export class CompiledIpBlock {
  readonly source: IPBlock;
  private readonly allowed = new BlockList();
  private readonly excluded = new BlockList();
  private readonly family: IpFamily;

  constructor(block: IPBlock) {
    this.source = block;
    const cidr = parseCidr(block.cidr);
    // Validated policies never get here with a bad CIDR; an unparsable one matches nothing.
    this.family = cidr?.family ?? 'ipv4';
    if (cidr) this.allowed.addSubnet(cidr.address, cidr.prefix, cidr.family);
    for (const text of block.except ?? []) {
      const except = parseCidr(text);
      if (except) this.excluded.addSubnet(except.address, except.prefix, except.family);
    }
  }

  contains(ip: string): boolean {
    const family = ipFamily(ip);
    // BlockList would match an IPv4-mapped IPv6 address against an IPv4 rule; Go's IPNet.Contains
    // compares within one family only, so we do too.
    if (family !== this.family) return false;
    return this.allowed.check(ip, family) && !this.excluded.check(ip, family);
  }

  /** `10.0.0.0/8 except 10.1.0.0/16` for reasons. */
  describe(): string {
    const except = this.source.except ?? [];
    return except.length === 0 ? this.source.cidr : `${this.source.cidr} except ${except.join(', ')}`;
  }
}

/**
 * The API server's rule for `except`: each entry must be a strict subset of `cidr` (same family,
 * longer prefix, its network inside cidr). Returns a message, or undefined when it is fine.
 */
export function exceptProblem(cidr: ParsedCidr, except: ParsedCidr): string | undefined {
  if (cidr.family !== except.family || except.prefix <= cidr.prefix) return 'must be a strict subset of `cidr`';
  const outer = new BlockList();
  outer.addSubnet(cidr.address, cidr.prefix, cidr.family);
  // With a longer prefix, every address of the except network shares cidr's leading bits, so
  // testing the address as written is the same as testing its network address.
  return outer.check(except.address, except.family) ? undefined : 'must be a strict subset of `cidr`';
}
