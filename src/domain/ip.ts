/**
 * Client-address keys for rate limiting: IPv4 as is (also when IPv4-mapped), IPv6 reduced to its /64,
 * since one subscriber usually holds a whole /64 and could otherwise rotate addresses freely.
 */
import { isIPv4, isIPv6 } from 'node:net';

export function rateLimitKeyForIp(ip: string): string {
  let a = ip.trim();
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  if (mapped?.[1]) a = mapped[1];
  if (isIPv4(a)) return a;
  if (!isIPv6(a)) return `invalid:${a}`;
  const groups = expandIPv6(a);
  // IPv4-mapped in any other spelling (0:0:0:0:0:ffff:192.0.2.1, ::ffff:c000:201): the IPv4 address
  if (groups.slice(0, 5).every((g) => g === '0') && groups[5] === 'ffff') {
    const [hi, lo] = [parseInt(groups[6] ?? '0', 16), parseInt(groups[7] ?? '0', 16)];
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return `${groups.slice(0, 4).join(':')}::/64`;
}

function expandIPv6(a: string): string[] {
  let text = a.toLowerCase();
  // an embedded IPv4 tail (::1.2.3.4) becomes two groups
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [b1, b2, b3, b4] = v4.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, v4.index) + ((b1 << 8) | b2).toString(16) + ':' + ((b3 << 8) | b4).toString(16);
  }
  const [head = '', tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const fill = tail !== undefined ? new Array(8 - h.length - t.length).fill('0') : [];
  return [...h, ...fill, ...t].map((g) => (parseInt(g, 16) || 0).toString(16));
}
