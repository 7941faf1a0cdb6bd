/**
 * Finds the parts of a response schema that accept anything: an empty schema (`{}`, what
 * `z.unknown()` becomes), an object whose values are free (`record<string, unknown>`, an object with
 * no properties and no constraining `additionalProperties`), or extra properties allowed as anything
 * (`looseObject`). The fuzzer's "2xx body matches its declared schema" check passes vacuously on such
 * a part, so no 2xx response may have one (test/fuzz/typed-responses.test.ts).
 */
import type { Schema } from './schema-arb.js';

const SHAPE_KEYWORDS = ['type', '$ref', 'anyOf', 'oneOf', 'allOf', 'const', 'enum', 'not', 'properties', 'items', 'additionalProperties', 'patternProperties', 'prefixItems'];

/** True for a schema that constrains nothing (`{}`, `true`, or only annotations like a description). */
export const isEmptySchema = (s: unknown): boolean => s === true || (typeof s === 'object' && s !== null && !SHAPE_KEYWORDS.some((k) => k in s));

/** JSON paths (`$`, `$.events[]`, `$.claims{}`) of the parts of `schema` that accept any value. */
export function unconstrainedParts(schema: Schema | boolean | undefined, root?: Schema, path = '$', seen = new Set<unknown>()): string[] {
  if (schema === undefined || schema === false) return [];
  if (isEmptySchema(schema)) return [path];
  const s = schema as Schema;
  if (seen.has(s)) return [];
  seen.add(s);
  if (typeof s.$ref === 'string') {
    const target = root && s.$ref.startsWith('#/') ? s.$ref.slice(2).split('/').reduce((a: any, k: string) => a?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], root) : undefined;
    return target === undefined ? [`${path} (unresolved ${s.$ref})`] : unconstrainedParts(target, root, path, seen);
  }
  const out: string[] = [];
  for (const k of ['anyOf', 'oneOf', 'allOf'] as const) if (Array.isArray(s[k])) for (const part of s[k]) out.push(...unconstrainedParts(part, root, path, seen));
  const types: string[] = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  const isObject = types.includes('object') || (!types.length && ('properties' in s || 'additionalProperties' in s));
  if (isObject) {
    const props = (s.properties ?? {}) as Record<string, Schema>;
    for (const [k, v] of Object.entries(props)) out.push(...unconstrainedParts(v, root, `${path}.${k}`, seen));
    const extra = s.additionalProperties;
    if (extra !== undefined && extra !== false && !isEmptySchema(extra)) out.push(...unconstrainedParts(extra, root, `${path}{}`, seen));
    else if (extra !== false && (Object.keys(props).length === 0 || extra !== undefined)) out.push(`${path}{}`);
  }
  if (types.includes('array') || 'items' in s) {
    if (s.items === undefined || isEmptySchema(s.items)) out.push(`${path}[]`);
    else out.push(...unconstrainedParts(s.items, root, `${path}[]`, seen));
  }
  return out;
}

/** 2xx answers that are not JSON and carry no JSON schema by nature (each named with its reason). */
const NON_JSON_2XX = ['text/event-stream', 'text/xml', 'application/x-ndjson'];
const NO_CONTENT_2XX: Record<string, string> = {
  'GET /v1/tenants/{tenant}/verifications/{id}/events 204': 'the stream ends with no body',
  'GET /v1/tenants/{tenant}/audit/export 200': 'JSON lines (application/x-ndjson), one audit event per line',
};
/** Free-form by design: an audit event's details, whose keys depend on the event type. */
export const FREE_FORM_PARTS: Record<string, string[]> = {
  'GET /v1/tenants/{tenant}/audit 200': ['$.events[].data{}'],
};

/**
 * Every 2xx answer of every operation whose body the fuzzer's schema check could not really check:
 * a 2xx with no content (outside NO_CONTENT_2XX), JSON with no schema, or a schema with a part that
 * accepts anything (outside FREE_FORM_PARTS). Empty: the "2xx matches its schema" check bites everywhere.
 */
export function untypedResponses(doc: Schema): string[] {
  const out: string[] = [];
  for (const [path, item] of Object.entries<Schema>(doc.paths ?? {})) {
    for (const [method, op] of Object.entries<Schema>(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const key = `${method.toUpperCase()} ${path}`;
      const ok = Object.entries<Schema>(op.responses ?? {}).filter(([status]) => /^2/.test(status));
      if (!ok.length) out.push(`${key}: no 2xx response declared`);
      for (const [status, res] of ok) {
        const where = `${key} ${status}`;
        const content = (res.content ?? {}) as Record<string, Schema>;
        if (!Object.keys(content).length) {
          if (!NO_CONTENT_2XX[where]) out.push(`${where}: no content declared`);
          continue;
        }
        for (const [type, media] of Object.entries(content)) {
          if (NON_JSON_2XX.includes(type)) continue;
          if (type !== 'application/json') out.push(`${where}: ${type}`);
          else if (!media.schema) out.push(`${where}: JSON without a schema`);
          else {
            const free = unconstrainedParts(media.schema, doc).filter((p) => !(FREE_FORM_PARTS[where] ?? []).includes(p));
            if (free.length) out.push(`${where}: accepts anything at ${free.join(', ')}`);
          }
        }
      }
    }
  }
  return out;
}
