import { describe, it, expect } from 'vitest';
import { BlockList } from 'node:net';
import fc from 'fast-check';
import { CompiledIpBlock, exceptProblem, parseCidr, parseIp } from '../../server/netpol/ipblock.js';

describe('parseCidr', () => {
  it('accepts IPv4 and IPv6 CIDRs, host bits included (as Go ParseCIDR does)', () => {
    expect(parseCidr('10.0.0.0/8')).toMatchObject({ prefix: 8, family: 'ipv4' });
    expect(parseCidr('10.0.0.1/24')).toMatchObject({ prefix: 24, family: 'ipv4' });
    expect(parseCidr('0.0.0.0/0')).toMatchObject({ prefix: 0 });
    expect(parseCidr('2001:db8::/32')).toMatchObject({ prefix: 32, family: 'ipv6' });
    expect(parseCidr('::/0')).toMatchObject({ prefix: 0, family: 'ipv6' });
  });
  it('refuses what is not a CIDR', () => {
    for (const bad of [
      '10.0.0.0',
      '10.0.0.0/33',
      '10.0.0/8',
      '300.0.0.0/8',
      '10.0.0.0/-1',
      '10.0.0.0/8/8',
      'fe80::1%eth0/64',
      '2001:db8::/129',
      'abc/8',
      '10.0.0.0/ 8',
      '010.0.0.0/8',
    ]) {
      expect(parseCidr(bad), bad).toBeUndefined();
    }
  });
});

describe('CompiledIpBlock', () => {
  it('matches inside cidr and outside every except (IPv4)', () => {
    const b = new CompiledIpBlock({ cidr: '10.0.0.0/16', except: ['10.0.1.0/24', '10.0.2.128/25'] });
    expect(b.contains('10.0.0.1')).toBe(true);
    expect(b.contains('10.0.255.255')).toBe(true);
    expect(b.contains('10.0.1.7')).toBe(false);
    expect(b.contains('10.0.2.127')).toBe(true);
    expect(b.contains('10.0.2.128')).toBe(false);
    expect(b.contains('10.1.0.0')).toBe(false);
    expect(b.describe()).toBe('10.0.0.0/16 except 10.0.1.0/24, 10.0.2.128/25');
  });
  it('matches IPv6 and never crosses families', () => {
    const b = new CompiledIpBlock({ cidr: '2001:db8::/32', except: ['2001:db8:ff::/48'] });
    expect(b.contains('2001:db8::1')).toBe(true);
    expect(b.contains('2001:db8:fe:ffff::1')).toBe(true);
    expect(b.contains('2001:db8:ff::1')).toBe(false);
    expect(b.contains('2001:db9::1')).toBe(false);
    expect(b.contains('10.0.0.1')).toBe(false);
    const v4 = new CompiledIpBlock({ cidr: '0.0.0.0/0' });
    expect(v4.contains('::ffff:10.0.0.1')).toBe(false);
    expect(v4.contains('8.8.8.8')).toBe(true);
    expect(new CompiledIpBlock({ cidr: '::/0' }).contains('1.2.3.4')).toBe(false);
  });
  it('handles host bits in cidr, /32 and /128', () => {
    expect(new CompiledIpBlock({ cidr: '192.168.1.77/24' }).contains('192.168.1.1')).toBe(true);
    expect(new CompiledIpBlock({ cidr: '192.168.1.77/32' }).contains('192.168.1.77')).toBe(true);
    expect(new CompiledIpBlock({ cidr: '192.168.1.77/32' }).contains('192.168.1.78')).toBe(false);
    expect(new CompiledIpBlock({ cidr: 'fd00::5/128' }).contains('fd00::5')).toBe(true);
    expect(new CompiledIpBlock({ cidr: 'fd00::5/128' }).contains('fd00::6')).toBe(false);
  });
  it('reads embedded IPv4 in IPv6 text', () => {
    expect([...parseIp('::ffff:1.2.3.4')!]).toEqual([0, 0, 0xffff, 0x01020304]);
    expect([...parseIp('1::6:1.2.3.4')!]).toEqual([0x00010000, 0, 6, 0x01020304]);
    expect(parseIp('not-an-ip')).toBeUndefined();
  });

  // node's BlockList is an independent implementation: use it as the oracle.
  const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
  const v6 = fc.ipV6();
  it('agrees with net.BlockList on random IPv4 blocks and addresses', () => {
    fc.assert(
      fc.property(v4, fc.integer({ min: 0, max: 32 }), v4, (net, prefix, ip) => {
        const oracle = new BlockList();
        oracle.addSubnet(net, prefix, 'ipv4');
        expect(new CompiledIpBlock({ cidr: `${net}/${prefix}` }).contains(ip)).toBe(oracle.check(ip, 'ipv4'));
        // An address inside by construction: same first `prefix` bits.
        expect(new CompiledIpBlock({ cidr: `${ip}/${prefix}` }).contains(ip)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
  it('agrees with net.BlockList on random IPv6 blocks and addresses', () => {
    fc.assert(
      fc.property(v6, fc.integer({ min: 0, max: 128 }), v6, (net, prefix, ip) => {
        const oracle = new BlockList();
        oracle.addSubnet(net, prefix, 'ipv6');
        expect(new CompiledIpBlock({ cidr: `${net}/${prefix}` }).contains(ip)).toBe(oracle.check(ip, 'ipv6'));
        expect(new CompiledIpBlock({ cidr: `${ip}/${prefix}` }).contains(ip)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('exceptProblem (strict subset rule)', () => {
  const p = (s: string) => parseCidr(s)!;
  it('accepts a longer prefix inside cidr', () => {
    expect(exceptProblem(p('10.0.0.0/8'), p('10.1.0.0/16'))).toBeUndefined();
    expect(exceptProblem(p('10.0.0.0/8'), p('10.1.2.3/16'))).toBeUndefined();
    expect(exceptProblem(p('2001:db8::/32'), p('2001:db8:1::/48'))).toBeUndefined();
  });
  it('refuses equal, larger, outside or other-family excepts', () => {
    expect(exceptProblem(p('10.0.0.0/24'), p('10.0.0.0/24'))).toMatch(/strict subset/);
    expect(exceptProblem(p('10.0.0.0/24'), p('10.0.0.0/16'))).toMatch(/strict subset/);
    expect(exceptProblem(p('10.0.0.0/24'), p('192.168.0.0/25'))).toMatch(/strict subset/);
    expect(exceptProblem(p('10.0.0.0/8'), p('2001:db8::/64'))).toMatch(/strict subset/);
  });
});
