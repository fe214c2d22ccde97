import { describe, expect, it } from 'vitest';
import { blockedRange } from '../../src/net/addressPolicy.js';

/**
 * The exact name and the exact edges of every range: the name is what the refusal log says,
 * and an off-by-one in a mask or a group test would let a neighbour of a private range through
 * (or refuse a public one).
 */
describe('address policy: IPv4 ranges, named and bounded', () => {
  it.each([
    ['192.0.0.8', 'IETF protocol assignments (192.0.0/24)'],
    ['192.0.2.1', 'documentation (192.0.2/24)'],
    ['192.88.99.1', '6to4 relay (192.88.99/24)'],
    ['198.18.0.1', 'benchmarking (198.18/15)'],
    ['198.19.255.255', 'benchmarking (198.18/15)'],
    ['198.51.100.7', 'documentation (198.51.100/24)'],
    ['203.0.113.9', 'documentation (203.0.113/24)'],
    ['0.0.0.0', 'this network (0/8)'],
    ['100.64.0.0', 'carrier-grade NAT (100.64/10)'],
    ['169.254.0.1', 'link-local (169.254/16)'],
    ['224.0.0.1', 'multicast (224/4)'],
    ['255.255.255.255', 'reserved (240/4, incl. broadcast)'],
  ])('names %s as %s', (address, range) => {
    expect(blockedRange(address)).toBe(range);
  });

  it('lets the public neighbours of the small ranges through', () => {
    for (const address of ['192.0.1.1', '192.88.98.255', '192.88.100.0', '198.17.255.255', '198.20.0.0', '198.51.99.1', '198.51.101.1', '203.0.112.1', '203.0.114.1', '192.167.255.255', '192.169.0.0']) {
      expect(blockedRange(address), address).toBeUndefined();
    }
  });
});

describe('address policy: IPv6 forms', () => {
  it('tells the unspecified, loopback and IPv4-compatible addresses apart by both low groups', () => {
    expect(blockedRange('::')).toBe('unspecified (::)');
    expect(blockedRange('::1')).toBe('loopback (::1)');
    // Either low group non-zero makes it an IPv4-compatible address, not :: or ::1.
    expect(blockedRange('::1:0')).toBe('IPv4-compatible IPv6 (::/96)');
    expect(blockedRange('::1:1')).toBe('IPv4-compatible IPv6 (::/96)');
    expect(blockedRange('::2')).toBe('IPv4-compatible IPv6 (::/96)');
  });

  it('reads an IPv4-translated address only when the group after ffff is zero', () => {
    expect(blockedRange('::ffff:0:a00:1')).toBe('private (10/8) as IPv4-translated IPv6');
    expect(blockedRange('::ffff:0:808:808')).toBeUndefined();
    expect(blockedRange('::ffff:1:a00:1')).toBe('reserved (outside 2000::/3)');
  });

  it('reads NAT64 only from 64:ff9b::/96, every middle group zero', () => {
    expect(blockedRange('64:ff9b::a00:1')).toBe('private (10/8) as NAT64');
    for (const address of ['64:ff9b:0:1::a00:1', '64:ff9b:0:0:1::a00:1', '64:ff9b::1:0:a00:1', '64:ff9b::1:a00:1', '65:ff9b::a00:1', '64:ff9c::a00:1', '0:ff9b::a00:1']) {
      expect(blockedRange(address), address).toBe('reserved (outside 2000::/3)');
    }
  });

  it('refuses local-use NAT64 (64:ff9b:1::/48) whatever address it carries', () => {
    expect(blockedRange('64:ff9b:1::808:808')).toBe('local NAT64 (64:ff9b:1::/48)');
    expect(blockedRange('64:ff9b:1:ffff::1')).toBe('local NAT64 (64:ff9b:1::/48)');
    for (const address of ['64:ff9b:2::808:808', '65:ff9b:1::808:808', '64:ff9a:1::808:808']) {
      expect(blockedRange(address), address).toBe('reserved (outside 2000::/3)');
    }
  });

  it('refuses the discard prefix 100::/64 by name, and nothing next to it by that name', () => {
    expect(blockedRange('100::1')).toBe('discard (100::/64)');
    expect(blockedRange('100::ffff:ffff:ffff:ffff')).toBe('discard (100::/64)');
    for (const address of ['100:1::', '100:0:1::', '100:0:0:1::', '101::1']) {
      expect(blockedRange(address), address).toBe('reserved (outside 2000::/3)');
    }
  });

  it('refuses Teredo and documentation space by name, and keeps their public neighbours', () => {
    expect(blockedRange('2001::1')).toBe('Teredo (2001::/32)');
    expect(blockedRange('2001:db8:ffff::1')).toBe('documentation (2001:db8::/32)');
    for (const address of ['2001:db9::1', '2001:db7::1', '2a00:db8::1', '2001:1::1', '2400:0::1']) {
      expect(blockedRange(address), address).toBeUndefined();
    }
  });

  it('judges 6to4 by the IPv4 address in its second and third groups', () => {
    expect(blockedRange('2002:a00:1::')).toBe('private (10/8) as 6to4');
    expect(blockedRange('2002:808:808::a00:1')).toBeUndefined();
  });

  it('names the link-local, site-local, unique-local and multicast prefixes at their edges', () => {
    expect(blockedRange('fe80::')).toBe('link-local (fe80::/10)');
    expect(blockedRange('febf::1')).toBe('link-local (fe80::/10)');
    expect(blockedRange('fec0::1')).toBe('site-local (fec0::/10)');
    expect(blockedRange('feff::1')).toBe('site-local (fec0::/10)');
    expect(blockedRange('fc00::1')).toBe('unique-local (fc00::/7)');
    expect(blockedRange('fdff::1')).toBe('unique-local (fc00::/7)');
    expect(blockedRange('ff00::1')).toBe('multicast (ff00::/8)');
    expect(blockedRange('ff0e::1')).toBe('multicast (ff00::/8)');
  });

  it('lets only global unicast (2000::/3) through: the rest of the IPv6 space is not on the internet', () => {
    for (const address of ['1::1', '1fff::1', '4000::1', '8000::1', 'e000::1', 'fb00::1', 'fe00::1', '::1:0:0:1']) {
      expect(blockedRange(address), address).toBe('reserved (outside 2000::/3)');
    }
    for (const address of ['2000::1', '3fff:ffff::1', '2606:4700::1111']) {
      expect(blockedRange(address), address).toBeUndefined();
    }
  });
});

describe('address policy: parsing IPv6 text', () => {
  it('reads a dotted quad after a full set of six groups', () => {
    expect(blockedRange('2606:4700:0:0:0:0:8.8.8.8')).toBeUndefined();
    expect(blockedRange('0:0:0:0:0:ffff:10.0.0.1')).toBe('private (10/8) as IPv4-mapped IPv6');
    expect(blockedRange('fe80:0:0:0:0:0:10.0.0.1')).toBe('link-local (fe80::/10)');
  });

  it('reads every digit of a dotted quad', () => {
    expect(blockedRange('::ffff:192.168.100.200')).toBe('private (192.168/16) as IPv4-mapped IPv6');
    expect(blockedRange('::ffff:100.64.100.100')).toBe('carrier-grade NAT (100.64/10) as IPv4-mapped IPv6');
    expect(blockedRange('::ffff:8.8.100.200')).toBeUndefined();
  });

  it('drops a zone id before judging, however long it is', () => {
    expect(blockedRange('::ffff:10.0.0.1%eth0')).toBe('private (10/8) as IPv4-mapped IPv6');
    expect(blockedRange('::ffff:8.8.8.8%eth0')).toBeUndefined();
    expect(blockedRange('fe80::1%25')).toBe('link-local (fe80::/10)');
  });

  it('takes brackets only around the whole address', () => {
    expect(blockedRange('[2606:4700::1111]')).toBeUndefined();
    expect(blockedRange('[fe80::1]')).toBe('link-local (fe80::/10)');
    for (const text of ['2606:4700::[1111', '2606:4700::]1111', '2606:[4700::1111', '[2606:4700::]1111', '2606:4700::1111][']) {
      expect(blockedRange(text), text).toBe('not an IP address');
    }
  });
});
