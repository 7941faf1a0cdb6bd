/**
 * Hostile values and mutations of otherwise valid JSON bodies: wrong types, missing required fields,
 * extra fields, huge strings, unicode (lone surrogates, RTL overrides, combining marks), null bytes,
 * prototype-pollution keys (__proto__, constructor.prototype), numbers at the edges.
 */
import fc from 'fast-check';

/** An object with a real own `__proto__` key (an object literal would set the prototype instead). */
export function withOwnKey(base: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

export const POLLUTION_MARK = 'fuzzPolluted';

/** JSON texts that would pollute Object.prototype if a parser or a merge were naive. */
export const pollutionPayloads = (): Array<Record<string, unknown>> => [
  withOwnKey({}, '__proto__', { [POLLUTION_MARK]: 'yes' }),
  { constructor: { prototype: { [POLLUTION_MARK]: 'yes' } } },
  withOwnKey({ a: 1 }, '__proto__', { [POLLUTION_MARK]: 'yes', isAdmin: true }),
];

const strings = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\u0000'.repeat(64),
  '\uD800',
  'x\uDFFFy',
  '\uFFFE\uFFFF',
  '\u202Egnp.exe',
  'e\u0301\u0301\u0301\u0301',
  'İıß',
  '😀'.repeat(50),
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  '"; DROP TABLE users; --',
  '%s%n%x',
  '../../../../etc/passwd',
  '${jndi:ldap://x}',
  '{{7*7}}',
  '__proto__',
  'constructor',
  'NaN',
  '-0',
  '1e999',
  '0x10',
  'null',
  'true',
  '[object Object]',
  '\r\nSet-Cookie: x=1',
  '\t\n\v\f\r',
  '+15005550006',
  '00000000-0000-0000-0000-000000000000',
];

/** Values of every JSON type, biased toward the ones that break code. */
export function nastyValue(): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom<unknown>(...strings) },
    { weight: 2, arbitrary: fc.constantFrom<unknown>(null, true, false, 0, -1, -0, 0.5, 1e308, -1e308, 2 ** 53 + 2, -(2 ** 31), 2 ** 31, 4294967296) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>([], {}, [[[]]], [null], { '': '' }, ...pollutionPayloads()) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
    { weight: 1, arbitrary: fc.constantFrom(5_000, 20_000, 60_000).chain((n) => fc.constantFrom('x', 'é', '😀', '\u0000').map((c) => c.repeat(n))) },
    { weight: 1, arbitrary: fc.integer() },
    { weight: 1, arbitrary: fc.double().map((d) => (Number.isFinite(d) ? d : 1e300)) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  );
}

type Path = Array<string | number>;

/** Paths to every value in a JSON tree (the root is []). */
function paths(v: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v && typeof v === 'object') for (const k of Object.keys(v)) paths((v as Record<string, unknown>)[k], [...at, k], out);
  return out;
}

function setAt(root: unknown, path: Path, fn: (v: unknown) => unknown): unknown {
  if (!path.length) return fn(root);
  const [head, ...rest] = path;
  if (Array.isArray(root)) return root.map((x, i) => (i === head ? setAt(x, rest, fn) : x));
  if (root && typeof root === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(root)) Object.defineProperty(out, k, { value: k === head ? setAt((root as Record<string, unknown>)[k], rest, fn) : (root as Record<string, unknown>)[k], enumerable: true, writable: true, configurable: true });
    return out;
  }
  return root;
}

const DELETE = Symbol('delete');

function prune(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((x) => x !== DELETE).map(prune);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== DELETE) Object.defineProperty(out, k, { value: prune(x), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return v;
}

export type Mutation = 'replace' | 'delete' | 'extra' | 'proto' | 'wrap' | 'stringify';

/** One to three mutations of `value` at random places in its tree. */
export function mutate(value: unknown): fc.Arbitrary<unknown> {
  const all = paths(value);
  const one = fc.record({
    at: fc.nat({ max: all.length - 1 }),
    kind: fc.constantFrom<Mutation>('replace', 'replace', 'replace', 'delete', 'delete', 'extra', 'proto', 'wrap', 'stringify'),
    key: fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'isAdmin', 'tenantId', 'roles', ''), fc.string({ maxLength: 12 })),
    value: nastyValue(),
  });
  return fc.array(one, { minLength: 1, maxLength: 3 }).map((ms) => {
    let v = value;
    for (const m of ms) {
      const ps = paths(v);
      const p = ps[m.at % ps.length]!;
      v = setAt(v, p, (cur) => {
        switch (m.kind) {
          case 'replace':
            return m.value;
          case 'delete':
            return p.length ? DELETE : null;
          case 'extra':
            return cur && typeof cur === 'object' && !Array.isArray(cur) ? withOwnKey(cur as Record<string, unknown>, m.key, m.value) : Array.isArray(cur) ? [...cur, m.value] : m.value;
          case 'proto':
            return cur && typeof cur === 'object' && !Array.isArray(cur) ? withOwnKey(cur as Record<string, unknown>, m.key === 'constructor' ? 'constructor' : '__proto__', m.key === 'constructor' ? { prototype: { [POLLUTION_MARK]: 'yes' } } : { [POLLUTION_MARK]: 'yes' }) : cur;
          case 'wrap':
            return [cur];
          case 'stringify':
            return JSON.stringify(cur ?? null);
        }
      });
      v = prune(v);
    }
    return v;
  });
}
