/**
 * A small JSON Schema (as found in the OpenAPI 3.1 document) -> fast-check arbitrary converter.
 * It produces values that satisfy the schema as far as the keywords below go: type (also arrays of
 * types and OpenAPI 3.0 `nullable`), enum, const, anyOf/oneOf, allOf (merged), object (properties,
 * required, additionalProperties, propertyNames), string (minLength, maxLength, pattern, format:
 * uuid, email, date-time, date, uri), number/integer (minimum, maximum, exclusive bounds), boolean,
 * null, array (items, minItems, maxItems) and local `$ref`s. Unknown keywords are ignored.
 *
 * `hints` maps a property name to values known to the server (seeded ids, real slugs): when a string
 * property has a hint, the real values are mixed in, so generated bodies get past "not found".
 */
import fc from 'fast-check';

export type Schema = Record<string, any>;
/** Real values by property name: strings for string properties, objects and arrays for the others. */
export type Hints = Record<string, () => unknown[]>;

export interface ArbOptions {
  /** Resolves `#/...` references against this document. */
  root?: Schema;
  hints?: Hints;
  /** Cap on string lengths so valid bodies stay well below the body limit. */
  maxStringLength?: number;
  /** Recursion guard for self-referencing schemas. */
  depth?: number;
}

const MAX_ITEMS = 8;

function resolve(schema: Schema, root: Schema | undefined): Schema {
  let s = schema;
  for (let i = 0; i < 10 && typeof s?.$ref === 'string'; i++) {
    if (!root || !s.$ref.startsWith('#/')) return {};
    s = s.$ref.slice(2).split('/').reduce((acc: any, k: string) => acc?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], root) ?? {};
  }
  return s ?? {};
}

function mergeAllOf(schema: Schema, root: Schema | undefined): Schema {
  if (!Array.isArray(schema.allOf)) return schema;
  const out: Schema = { ...schema };
  delete out.allOf;
  for (const part of schema.allOf.map((p: Schema) => mergeAllOf(resolve(p, root), root))) {
    for (const [k, v] of Object.entries(part)) {
      if (k === 'properties') out.properties = { ...out.properties, ...(v as object) };
      else if (k === 'required') out.required = [...(out.required ?? []), ...(v as string[])];
      else if (out[k] === undefined) out[k] = v;
    }
  }
  return out;
}

/** Any JSON value (small), for `{}` schemas and record values. */
export const anyJson = (): fc.Arbitrary<unknown> => fc.jsonValue({ maxDepth: 2, depthSize: 'small' });

function stringArb(s: Schema, o: ArbOptions, name?: string): fc.Arbitrary<string> {
  const cap = o.maxStringLength ?? 300;
  const minLength = Math.max(0, s.minLength ?? 0);
  const maxLength = Math.max(minLength, Math.min(s.maxLength ?? cap, Math.max(cap, minLength)));
  const fits = (v: string) => v.length >= minLength && v.length <= maxLength && (!s.pattern || safeTest(s.pattern, v));
  let base: fc.Arbitrary<string>;
  switch (s.format) {
    case 'uuid':
      base = fc.uuid({ version: [1, 2, 3, 4, 5, 6, 7, 8] });
      break;
    case 'email':
      base = fc.emailAddress().filter((e) => e.length <= maxLength);
      break;
    case 'date-time':
      base = fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString());
      break;
    case 'date':
      base = fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
      break;
    case 'uri':
    case 'url':
      base = fc.webUrl().filter((u) => u.length <= maxLength);
      break;
    default:
      if (s.pattern) base = patternArb(s.pattern, minLength, maxLength);
      else base = fc.oneof({ weight: 3, arbitrary: fc.string({ minLength, maxLength: Math.min(maxLength, minLength + 40) }) }, { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength, maxLength: Math.min(maxLength, minLength + 20) }) });
  }
  if (s.format && s.pattern) base = base.filter((v) => safeTest(s.pattern, v));
  const hinted = name && o.hints?.[name] ? o.hints[name]!().filter((v): v is string => typeof v === 'string' && fits(v)) : [];
  return hinted.length ? fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...hinted) }, { weight: 1, arbitrary: base }) : base;
}

function safeTest(pattern: string, v: string): boolean {
  try {
    return new RegExp(pattern, 'u').test(v);
  } catch {
    return new RegExp(pattern).test(v);
  }
}

/** Strings matching a pattern; the length bounds are applied by filtering (patterns here are anchored and short). */
function patternArb(pattern: string, minLength: number, maxLength: number): fc.Arbitrary<string> {
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch {
    return fc.string({ minLength, maxLength });
  }
  return fc.stringMatching(re).filter((v) => v.length >= minLength && v.length <= maxLength && re.test(v));
}

function numberArb(s: Schema, integer: boolean): fc.Arbitrary<number> {
  const exMin = typeof s.exclusiveMinimum === 'number' ? s.exclusiveMinimum : undefined;
  const exMax = typeof s.exclusiveMaximum === 'number' ? s.exclusiveMaximum : undefined;
  if (integer) {
    const min = Math.max(Number.MIN_SAFE_INTEGER, s.minimum ?? (exMin !== undefined ? Math.floor(exMin) + 1 : -1_000_000));
    const max = Math.min(Number.MAX_SAFE_INTEGER, s.maximum ?? (exMax !== undefined ? Math.ceil(exMax) - 1 : 1_000_000));
    // mostly small values near the lower bound (where the interesting cases are), sometimes anywhere
    const small = fc.integer({ min, max: Math.min(max, min + 100) });
    return fc.oneof({ weight: 3, arbitrary: small }, { weight: 1, arbitrary: fc.integer({ min, max }) });
  }
  const min = s.minimum ?? exMin ?? -1e9;
  const max = s.maximum ?? exMax ?? 1e9;
  return fc.double({ min, max, noNaN: true, noDefaultInfinity: true }).filter((n) => (exMin === undefined || n > exMin) && (exMax === undefined || n < exMax));
}

function objectArb(s: Schema, o: ArbOptions): fc.Arbitrary<Record<string, unknown>> {
  const props: Record<string, Schema> = s.properties ?? {};
  const required = new Set<string>((s.required ?? []).filter((k: string) => k in props));
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [k, v] of Object.entries(props)) model[k] = schemaArb(v, { ...o, depth: (o.depth ?? 0) + 1 }, k);
  const known = fc.record(model, { requiredKeys: [...required] }) as fc.Arbitrary<Record<string, unknown>>;
  const ap = s.additionalProperties;
  const open = ap !== false && (ap !== undefined || s.propertyNames !== undefined || Object.keys(props).length === 0);
  if (!open) return known;
  const valueArb = ap && typeof ap === 'object' && Object.keys(ap).length ? schemaArb(ap, { ...o, depth: (o.depth ?? 0) + 1 }) : anyJson();
  const keyArb = s.propertyNames && Object.keys(s.propertyNames).length > 1 ? stringArb({ type: 'string', ...s.propertyNames }, o) : fc.string({ minLength: 1, maxLength: 20 });
  const extra = fc.dictionary(keyArb.filter((k) => !(k in props) && k !== '__proto__'), valueArb, { maxKeys: 4 });
  return fc.tuple(known, extra).map(([a, b]) => ({ ...b, ...a }));
}

/** An arbitrary of values valid against `schema` (for the keywords listed at the top). */
export function schemaArb(schema: Schema | boolean | undefined, o: ArbOptions = {}, name?: string): fc.Arbitrary<unknown> {
  if (schema === undefined || schema === true) return anyJson();
  if (schema === false) return fc.constant(undefined);
  let s = mergeAllOf(resolve(schema, o.root), o.root);
  if ((o.depth ?? 0) > 8) return fc.constant(null);
  if ('const' in s) return fc.constant(s.const);
  if (Array.isArray(s.enum) && s.enum.length) return fc.constantFrom(...s.enum);
  const alts = s.anyOf ?? s.oneOf;
  if (Array.isArray(alts) && alts.length) {
    const rest = { ...s };
    delete rest.anyOf;
    delete rest.oneOf;
    return fc.oneof(...alts.map((a: Schema) => schemaArb({ ...rest, ...resolve(a, o.root) }, o, name)));
  }
  const nullable = s.nullable === true;
  let types: string[] = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  if (!types.length) {
    if (s.properties || s.additionalProperties !== undefined || s.propertyNames) types = ['object'];
    else if (s.items) types = ['array'];
    else if (s.pattern || s.format || s.minLength !== undefined || s.maxLength !== undefined) types = ['string'];
    else if (s.minimum !== undefined || s.maximum !== undefined) types = ['number'];
    else return anyJson();
  }
  if (nullable && !types.includes('null')) types = [...types, 'null'];
  // real objects and arrays for this property name (a tenant's policy, say), beside generated ones
  const examples = name && o.hints?.[name] ? o.hints[name]!().filter((v) => v !== null && typeof v === 'object' && types.includes(Array.isArray(v) ? 'array' : 'object')) : [];
  const arbs = types.map((t): fc.Arbitrary<unknown> => {
    switch (t) {
      case 'string':
        return stringArb(s, o, name);
      case 'integer':
      case 'number': {
        const base = numberArb(s, t === 'integer');
        const real = name && o.hints?.[name] ? o.hints[name]!().filter((v): v is number => typeof v === 'number') : [];
        return real.length ? fc.oneof(fc.constantFrom(...real), base) : base;
      }
      case 'boolean':
        return fc.boolean();
      case 'null':
        return fc.constant(null);
      case 'array': {
        const minLength = s.minItems ?? 0;
        const maxLength = Math.max(minLength, Math.min(s.maxItems ?? MAX_ITEMS, minLength + MAX_ITEMS));
        return fc.array(schemaArb(s.items ?? {}, { ...o, depth: (o.depth ?? 0) + 1 }, name), { minLength, maxLength });
      }
      case 'object':
        return objectArb(s, o);
      default:
        return anyJson();
    }
  });
  const generated = arbs.length === 1 ? arbs[0]! : fc.oneof(...arbs);
  return examples.length ? fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...examples) }, { weight: 1, arbitrary: generated }) : generated;
}

/** Lists a schema's properties with whether each is required (for targeted mutations). */
export function objectShape(schema: Schema | undefined, root?: Schema): { props: string[]; required: string[] } {
  if (!schema) return { props: [], required: [] };
  const s = mergeAllOf(resolve(schema, root), root);
  return { props: Object.keys(s.properties ?? {}), required: s.required ?? [] };
}
