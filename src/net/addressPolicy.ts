import { isIPv4, isIPv6 } from 'node:net';

/**
 * Which IP addresses the bot may download from. Links come from users and from the model's
 * output, so a link into the bot's own network (a database on loopback, a cloud metadata
 * service on 169.254.169.254, an admin page on 10.x) must never be fetched and re-posted.
 * Only addresses on the public internet pass; everything else is named so logs say why.
 */

type Range4 = readonly [first: number, prefix: number, name: string];

const ip4 = (a: number, b: number, c: number, d: number) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;

/** IPv4 ranges that are not the public internet (RFC 6890 and friends). */
const BLOCKED_V4: readonly Range4[] = [
  [ip4(0, 0, 0, 0), 8, 'this network (0/8)'],
  [ip4(10, 0, 0, 0), 8, 'private (10/8)'],
  [ip4(100, 64, 0, 0), 10, 'carrier-grade NAT (100.64/10)'],
  [ip4(127, 0, 0, 0), 8, 'loopback (127/8)'],
  [ip4(169, 254, 0, 0), 16, 'link-local (169.254/16)'],
  [ip4(172, 16, 0, 0), 12, 'private (172.16/12)'],
  [ip4(192, 0, 0, 0), 24, 'IETF protocol assignments (192.0.0/24)'],
  [ip4(192, 0, 2, 0), 24, 'documentation (192.0.2/24)'],
  [ip4(192, 88, 99, 0), 24, '6to4 relay (192.88.99/24)'],
  [ip4(192, 168, 0, 0), 16, 'private (192.168/16)'],
  [ip4(198, 18, 0, 0), 15, 'benchmarking (198.18/15)'],
  [ip4(198, 51, 100, 0), 24, 'documentation (198.51.100/24)'],
  [ip4(203, 0, 113, 0), 24, 'documentation (203.0.113/24)'],
  [ip4(224, 0, 0, 0), 4, 'multicast (224/4)'],
  [ip4(240, 0, 0, 0), 4, 'reserved (240/4, incl. broadcast)'],
];

function parseIPv4(text: string): number | undefined {
  if (!isIPv4(text)) return undefined;
  const [a = 0, b = 0, c = 0, d = 0] = text.split('.').map(Number);
  return ip4(a, b, c, d);
}

function v4Range(value: number): string | undefined {
  for (const [first, prefix, name] of BLOCKED_V4) {
    const mask = (~0 << (32 - prefix)) >>> 0;
    if ((value & mask) >>> 0 === first) return name;
  }
  return undefined;
}

/** The eight 16-bit groups of an IPv6 address (a trailing dotted quad and a zone id allowed). */
function parseIPv6(text: string): number[] | undefined {
  const bare = text.replace(/^\[|\]$/g, '').replace(/%.*/, '');
  // From here on the text is a valid IPv6 address, so only the group count is left to work out.
  if (!isIPv6(bare)) return undefined;
  let tail: number[] = [];
  let head = bare;
  // A valid address can carry a dotted quad only at its end.
  const dotted = /(\d+\.\d+\.\d+\.\d+)/.exec(bare);
  if (dotted?.[1]) {
    const v4 = parseIPv4(dotted[1]);
    if (v4 === undefined) return undefined;
    tail = [v4 >>> 16, v4 & 0xffff];
    // Drop the ':' before the quad, unless it is half of a '::'.
    head = bare.slice(0, -dotted[1].length);
    if (!head.endsWith('::')) head = head.slice(0, -1);
  }
  const toGroups = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const halves = head.split('::');
  // Stryker disable next-line StringLiteral: split always yields a first element, so the default never applies
  const [left = '', right] = halves;
  const leftGroups = toGroups(left);
  const rightGroups = right === undefined ? [] : toGroups(right);
  const missing = 8 - leftGroups.length - rightGroups.length - tail.length;
  return [...leftGroups, ...new Array<number>(missing).fill(0), ...rightGroups, ...tail];
}

const embeddedV4 = (hi: number, lo: number) => ((hi << 16) | lo) >>> 0;

function v6Range(g: number[]): string | undefined {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  const zeroTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  // Forms that carry an IPv4 address are judged by that address: ::ffff:10.0.0.1 is 10.0.0.1.
  const carried = (kind: string, v4: number) => {
    const inner = v4Range(v4);
    return inner ? `${inner} as ${kind}` : undefined;
  };
  if (zeroTo(5) && g5 === 0xffff) return carried('IPv4-mapped IPv6', embeddedV4(g6, g7));
  if (zeroTo(4) && g4 === 0xffff && g5 === 0) return carried('IPv4-translated IPv6', embeddedV4(g6, g7));
  if (zeroTo(6)) {
    if (g6 === 0 && g7 === 0) return 'unspecified (::)';
    if (g6 === 0 && g7 === 1) return 'loopback (::1)';
    return 'IPv4-compatible IPv6 (::/96)';
  }
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return carried('NAT64', embeddedV4(g6, g7));
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 1) return 'local NAT64 (64:ff9b:1::/48)';
  if (g0 === 0x2002) return carried('6to4', embeddedV4(g1, g2));
  if (g0 === 0x100 && g1 === 0 && g2 === 0 && g3 === 0) return 'discard (100::/64)';
  if (g0 === 0x2001 && g1 === 0) return 'Teredo (2001::/32)';
  if (g0 === 0x2001 && g1 === 0xdb8) return 'documentation (2001:db8::/32)';
  if ((g0 & 0xffc0) === 0xfe80) return 'link-local (fe80::/10)';
  if ((g0 & 0xffc0) === 0xfec0) return 'site-local (fec0::/10)';
  if ((g0 & 0xfe00) === 0xfc00) return 'unique-local (fc00::/7)';
  if ((g0 & 0xff00) === 0xff00) return 'multicast (ff00::/8)';
  // Only 2000::/3 is handed out for the public internet; the rest is reserved (::/8, 4000::/2, ...).
  if ((g0 & 0xe000) !== 0x2000) return 'reserved (outside 2000::/3)';
  return undefined;
}

/**
 * Why an IP address is not on the public internet ("loopback (127/8)", "private (10/8) as
 * IPv4-mapped IPv6"), or undefined when it is. Anything that is not an IP address at all is
 * refused too: the caller must resolve names first.
 */
export function blockedRange(address: string): string | undefined {
  const v4 = parseIPv4(address);
  if (v4 !== undefined) return v4Range(v4);
  const v6 = parseIPv6(address);
  if (v6) return v6Range(v6);
  return 'not an IP address';
}

/** Whether the bot may connect to this IP address for a download. */
export function isPublicAddress(address: string): boolean {
  return blockedRange(address) === undefined;
}
