import { describe, expect, it } from 'vitest';
import { blockedRange, isPublicAddress } from '../../src/net/addressPolicy.js';

describe('address policy', () => {
  it('lets public IPv4 and IPv6 addresses through', () => {
    for (const address of ['1.1.1.1', '8.8.8.8', '93.184.216.34', '172.15.255.255', '172.32.0.1', '100.63.255.255', '100.128.0.1', '169.253.1.1', '223.255.255.255', '11.0.0.1', '2606:4700:4700::1111', '2a00:1450:4001:82a::200e', '::ffff:8.8.8.8', '64:ff9b::808:808']) {
      expect(blockedRange(address), address).toBeUndefined();
      expect(isPublicAddress(address), address).toBe(true);
    }
  });

  it.each([
    ['0.0.0.0', 'this network'],
    ['0.1.2.3', 'this network'],
    ['10.0.0.1', 'private (10/8)'],
    ['10.255.255.255', 'private (10/8)'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.254', 'carrier-grade NAT'],
    ['127.0.0.1', 'loopback'],
    ['127.0.0.2', 'loopback'],
    ['127.255.255.255', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['172.16.0.1', 'private (172.16/12)'],
    ['172.31.255.255', 'private (172.16/12)'],
    ['192.168.0.10', 'private (192.168/16)'],
    ['192.168.255.255', 'private (192.168/16)'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['198.18.0.1', 'benchmarking'],
    ['192.0.2.5', 'documentation'],
  ])('refuses IPv4 %s as %s', (address, range) => {
    expect(blockedRange(address)).toContain(range);
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each([
    ['::', 'unspecified'],
    ['::1', 'loopback (::1)'],
    ['0:0:0:0:0:0:0:1', 'loopback (::1)'],
    ['fe80::1', 'link-local (fe80::/10)'],
    ['fe80::1%eth0', 'link-local (fe80::/10)'],
    ['febf:ffff::1', 'link-local (fe80::/10)'],
    ['fc00::1', 'unique-local (fc00::/7)'],
    ['fd12:3456:789a::1', 'unique-local (fc00::/7)'],
    ['ff02::1', 'multicast'],
    ['fec0::1', 'site-local'],
    ['2001:db8::1', 'documentation'],
    ['2001:0:4136:e378::1', 'Teredo'],
    ['::7f00:1', 'IPv4-compatible'],
  ])('refuses IPv6 %s as %s', (address, range) => {
    expect(blockedRange(address)).toContain(range);
  });

  it.each([
    ['::ffff:10.0.0.1', 'private (10/8) as IPv4-mapped IPv6'],
    ['::ffff:7f00:1', 'loopback (127/8) as IPv4-mapped IPv6'],
    ['::ffff:127.0.0.2', 'loopback (127/8) as IPv4-mapped IPv6'],
    ['0:0:0:0:0:ffff:a9fe:a9fe', 'link-local (169.254/16) as IPv4-mapped IPv6'],
    ['::FFFF:192.168.1.1', 'private (192.168/16) as IPv4-mapped IPv6'],
    ['[::ffff:172.16.0.1]', 'private (172.16/12) as IPv4-mapped IPv6'],
    ['::ffff:0:a00:1', 'private (10/8) as IPv4-translated IPv6'],
    ['64:ff9b::a00:1', 'private (10/8) as NAT64'],
    ['64:ff9b::127.0.0.1', 'loopback (127/8) as NAT64'],
    ['2002:7f00:1::1', 'loopback (127/8) as 6to4'],
    ['2002:c0a8:101::', 'private (192.168/16) as 6to4'],
  ])('judges %s by the IPv4 address it carries', (address, range) => {
    expect(blockedRange(address)).toBe(range);
  });

  it('refuses anything that is not an IP address, so names must be resolved first', () => {
    for (const text of ['localhost', 'example.com', '', '1.2.3', '256.1.1.1', '::ffff:999.0.0.1', 'fe80:::1']) {
      expect(blockedRange(text), text).toBe('not an IP address');
    }
  });
});
