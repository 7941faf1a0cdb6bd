/**
 * A tolerant JSON Schema check for 2xx response bodies: type (with integer and nullable), const,
 * enum, anyOf/oneOf (one branch passes), allOf, object properties/required/additionalProperties,
 * array items. Formats, lengths and patterns are not checked. Returns the problems found (empty: ok).
 */
import type { Schema } from './schema-arb.js';

const typeOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : typeof v);

function typeMatches(t: string, v: unknown): boolean {
  const actual = typeOf(v);
  return t === actual || (t === 'number' && actual === 'integer');
}

export function checkSchema(value: unknown, schema: Schema | boolean | undefined, path = '$', root?: Schema, depth = 0): string[] {
  if (schema === undefined || schema === true || depth > 30) return [];
  if (schema === false) return [`${path}: no value allowed`];
  let s = schema;
  if (typeof s.$ref === 'string') {
    // a reference the check cannot follow would pass anything: say so instead
    const target = root && s.$ref.startsWith('#/') ? s.$ref.slice(2).split('/').reduce((a: any, k: string) => a?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], root) : undefined;
    if (!target) return [`${path}: cannot resolve ${s.$ref}`];
    s = target;
  }
  const problems: string[] = [];
  if ('const' in s && JSON.stringify(s.const) !== JSON.stringify(value)) problems.push(`${path}: expected const ${JSON.stringify(s.const)}`);
  if (Array.isArray(s.enum) && !s.enum.some((e: unknown) => JSON.stringify(e) === JSON.stringify(value))) problems.push(`${path}: ${JSON.stringify(value)} not in enum`);
  const alts = s.anyOf ?? s.oneOf;
  if (Array.isArray(alts) && !alts.some((a: Schema) => checkSchema(value, a, path, root, depth + 1).length === 0)) problems.push(`${path}: matches no anyOf/oneOf branch`);
  if (Array.isArray(s.allOf)) for (const a of s.allOf) problems.push(...checkSchema(value, a, path, root, depth + 1));
  const types: string[] = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  if (s.nullable === true) types.push('null');
  if (types.length && !types.some((t) => typeMatches(t, value))) {
    problems.push(`${path}: expected ${types.join('|')}, got ${typeOf(value)}`);
    return problems;
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    for (const k of s.required ?? []) if (!(k in obj)) problems.push(`${path}.${k}: required`);
    for (const [k, v] of Object.entries(obj)) {
      if (s.properties && k in s.properties) problems.push(...checkSchema(v, s.properties[k], `${path}.${k}`, root, depth + 1));
      else if (s.additionalProperties === false) problems.push(`${path}.${k}: not allowed`);
      else if (s.additionalProperties && typeof s.additionalProperties === 'object') problems.push(...checkSchema(v, s.additionalProperties, `${path}.${k}`, root, depth + 1));
    }
  }
  if (Array.isArray(value) && s.items && typeof s.items === 'object') value.forEach((v, i) => problems.push(...checkSchema(v, s.items, `${path}[${i}]`, root, depth + 1)));
  return problems;
}
