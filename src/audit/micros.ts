/** Times at the database's precision: microseconds since the epoch, as decimal strings. */

/** Microseconds since the epoch of a JS date (which holds milliseconds). */
export const dateMicros = (d: Date): string => (BigInt(d.getTime()) * 1000n).toString();

/** The ISO form of a microsecond time: 2025-03-01T12:34:56.789123Z. */
export function microIso(us: string | bigint): string {
  const n = BigInt(us);
  let ms = n / 1000n;
  let frac = n % 1000n;
  if (frac < 0n) {
    frac += 1000n;
    ms -= 1n;
  }
  const iso = new Date(Number(ms)).toISOString();
  return `${iso.slice(0, -1)}${frac.toString().padStart(3, '0')}Z`;
}
