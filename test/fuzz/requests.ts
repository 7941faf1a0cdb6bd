/**
 * Requests generated from one OpenAPI operation: path parameters (real seeded ids, valid-looking
 * values of the declared format, garbage, raw and percent-encoded), query strings (declared
 * parameters valid or not, duplicates, extra keys, raw junk), headers (authorization as each
 * principal, an API key, a cookie or garbage; x-flow-token valid or garbage; content-type variants;
 * Twilio signatures valid or not) and bodies (valid against the requestBody schema, mutated, any
 * JSON, invalid JSON texts, none).
 *
 * A generated `Spec` names real values symbolically ({ real: 'admin' }) and is resolved when sent,
 * so it stays meaningful after `World.restore()` replaced tokens; fast-check prints it on failure.
 */
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { templateNames } from '../../src/delivery/templates.js';
import { twilioSignature } from '../../src/http/twiml.js';
import { STRONG } from '../helpers/app.js';
import { mutate, nastyValue } from './mutations.js';
import { schemaArb, type Schema } from './schema-arb.js';
import { PUBLIC_URL, TWILIO_TOKEN, type World } from './world.js';

export interface Operation {
  method: string;
  path: string;
  key: string;
  op: Schema;
  params: Array<{ name: string; in: 'path' | 'query' | 'header'; required?: boolean; schema?: Schema }>;
  /** The JSON (or form) body schema, if any. */
  body?: { type: 'json' | 'form'; schema: Schema; required: boolean };
  /** The 200 answer is a server-sent event stream. */
  stream: boolean;
  /** Who may call it: session (default), apiKey or nobody in particular (security: []). */
  security: 'session' | 'apiKey' | 'public';
  /** The whole document, for local `$ref`s in its schemas. */
  root?: Schema;
}

export function operations(doc: Schema): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries<Schema>(doc.paths ?? {})) {
    for (const [method, op] of Object.entries<Schema>(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const content = op.requestBody?.content ?? {};
      const jsonSchema = content['application/json']?.schema;
      const formSchema = content['application/x-www-form-urlencoded']?.schema;
      const sec = op.security ?? doc.security ?? [];
      out.push({
        method: method.toUpperCase(),
        path,
        key: `${method.toUpperCase()} ${path}`,
        op,
        params: [...(item.parameters ?? []), ...(op.parameters ?? [])],
        body: jsonSchema ? { type: 'json', schema: jsonSchema, required: !!op.requestBody.required } : formSchema ? { type: 'form', schema: formSchema, required: !!op.requestBody.required } : undefined,
        stream: !!op.responses?.['200']?.content?.['text/event-stream'],
        security: sec.length === 0 ? 'public' : sec.some((x: Schema) => 'apiKey' in x) ? 'apiKey' : 'session',
        root: doc,
      });
    }
  }
  return out;
}

type Real = { real: string; i: number };
type PathValue = Real | { valid: string } | { enc: string } | { raw: string };
type Auth = 'none' | 'operator' | 'admin' | 'agent' | 'supervisor' | 'apiKey' | 'cookie' | { garbage: string } | { tokenSuffix: string };
export interface Spec {
  path: Record<string, PathValue>;
  query: Array<[string, string]> | { raw: string };
  auth: Auth;
  flow: 'none' | 'valid' | { garbage: string };
  contentType: string | null;
  twilio: 'valid' | 'none' | { garbage: string };
  extraHeaders: Record<string, string>;
  body: { none: true } | { json: unknown } | { raw: string } | { form: Record<string, string> };
}

const printable = fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c));
export const headerGarbage = (maxLength = 80) => fc.oneof(fc.string({ unit: printable, maxLength }), fc.constantFrom('', ' ', 'null', 'undefined', 'a'.repeat(4096), '%00', '\t', 'Bearer', '=?utf-8?b?AA==?='));

/** Percent-encodes any string (lone surrogates become U+FFFD, which is what a client would send). */
export function enc(s: string): string {
  return [...Buffer.from(s, 'utf8')].map((b) => (/[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

const RAW_PATH = ['%', '%zz', '%E0%A4%A', '%C0%AF', '..', '.', '%2e%2e', '%2F', 'a%2Fb', '%00', '%u0041', ';', 'a;b=c', '~', '*', '$', ':id', '{id}', '%20', '+', '%F0%9F%98%80'];
const RAW_QUERY = ['%', '%zz', '&&&', '===', '=', 'a[b]=c', 'limit[]=1', '__proto__[x]=1', 'constructor[prototype][x]=1', '&limit', 'limit=%00', 'limit=1&limit=2', 'q=%E0%A4%A', '?'.repeat(10), 'a=' + 'x'.repeat(9000)];
const INVALID_JSON = ['{', '{"a":', '[1,2', 'nul', '"unterminated', '{"a":1}{"b":2}', '\uFEFF{}', '{"a":1,}', "{'a':1}", 'NaN', '{"__proto__":{"fuzzPolluted":"yes"}}', '{"a":1e400}', '{"a":-1e400}', '{"a":"\\ud800"}', '{"a":"\\u0000"}', '{"a":1,"a":2}', '', ' ', '\u0000', '[]', '0', 'true', 'null', '"string"', '{"a":' + '['.repeat(300) + ']'.repeat(300) + '}', '{"a":"\\x41"}', '{"a":01}', '{"a":.5}', '{"a":+1}', '{\n"a"\n:\n1\n}', '\r\n{}\r\n'];
const CONTENT_TYPES = ['application/json; charset=utf-8', 'Application/JSON', 'application/json;charset=UTF-8', 'application/json; charset=utf-16', 'application/json; charset=latin1', 'application/vnd.api+json', 'application/merge-patch+json', 'text/plain', 'text/html', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=----x', 'application/xml', 'application/octet-stream', '', 'application/json, text/plain', '*/*', 'application/jsonx', 'json', 'application/', ';', 'text/event-stream'];

/** Which seeded value a path parameter named `name` stands for. */
function realKey(path: string, name: string): string {
  if (name !== 'id') return name;
  if (path.startsWith('/v1/auth/flows/')) return 'flowId';
  if (path.includes('/customers/')) return 'customerId';
  if (path.includes('/approvals/')) return 'approvalId';
  if (path.includes('/verifications/')) return 'verificationId';
  return 'customerId';
}

function pathValueArb(o: Operation, p: Operation['params'][number], world: World): fc.Arbitrary<PathValue> {
  const key = realKey(o.path, p.name);
  const reals = world.realIds()[key] ?? [];
  const real = reals.length ? fc.nat({ max: reals.length - 1 }).map((i): PathValue => ({ real: key, i })) : fc.constant<PathValue>({ valid: 'x' });
  return fc.oneof(
    { weight: 8, arbitrary: real },
    { weight: 2, arbitrary: schemaArb(p.schema, { maxStringLength: 80 }).map((v): PathValue => ({ valid: String(v) })) },
    { weight: 1, arbitrary: nastyValue().map((v): PathValue => ({ enc: typeof v === 'string' ? v.slice(0, 300) : JSON.stringify(v).slice(0, 300) })) },
    { weight: 1, arbitrary: fc.constantFrom(...RAW_PATH).map((raw): PathValue => ({ raw })) },
  );
}

function queryArb(o: Operation, world: World): fc.Arbitrary<Spec['query']> {
  const declared = o.params.filter((p) => p.in === 'query');
  const hints = hintsOf(world);
  const one = (p: Operation['params'][number]) =>
    fc.oneof(
      { weight: p.required ? 0 : 2, arbitrary: fc.constant<Array<[string, string]>>([]) },
      { weight: 5, arbitrary: schemaArb(p.schema, { maxStringLength: 60, hints }, p.name).map((v): Array<[string, string]> => [[p.name, typeof v === 'string' ? v : JSON.stringify(v)]]) },
      { weight: 2, arbitrary: nastyValue().map((v): Array<[string, string]> => [[p.name, typeof v === 'string' ? v.slice(0, 2000) : JSON.stringify(v)]]) },
      { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 })).map(([a, b]): Array<[string, string]> => [[p.name, a], [p.name, b]]) },
    );
  const structured = fc
    .tuple(fc.tuple(...declared.map(one)), fc.array(fc.tuple(fc.oneof(fc.constantFrom('__proto__', 'constructor', 'limit', 'q', 'tenant', ''), fc.string({ maxLength: 8 })), fc.string({ maxLength: 20 })), { maxLength: 2 }))
    .map(([parts, extra]): Spec['query'] => [...parts.flat(), ...extra]);
  return fc.oneof({ weight: 9, arbitrary: structured }, { weight: 1, arbitrary: fc.constantFrom(...RAW_QUERY).map((raw) => ({ raw })) });
}

/** Property-name hints: seeded ids and real values for body and query fields. */
export function hintsOf(world: World) {
  const ids = () => world.realIds();
  const h: Record<string, () => unknown[]> = {};
  for (const k of Object.keys(world.realIds())) h[k] = () => ids()[k] ?? [];
  h.CallSid = () => [world.state.interactionId, 'CA0123456789'];
  h.From = () => ['+14155550134', '+1 415 555 0134'];
  h.Digits = () => ['480613', '1', '*', '#', '123456#'];
  h.digits = () => ['480613', '1', '*', '480613#'];
  h.pin = () => ['480613', '1234'];
  h.code = () => ['000000', '123456'];
  h.answer = () => ['Fluffy', 'fluffy '];
  h.field = () => ['nationalId', 'dateOfBirth', 'contact'];
  h.region = () => ['US', 'GB', 'fr'];
  h.locale = () => ['en', 'es', 'fr-CA'];
  h.defaultLocale = h.locale;
  h.template = () => templateNames;
  h.value = () => ['+1 415 555 0199', 'someone@example.com'];
  h.reason = () => ['Caller asked for it on a recorded line'];
  // the flow user's real password, so sign-in flows get past the password step sometimes
  h.password = () => [STRONG];
  h.permissions = () => ['users.read', 'audit.read', 'customers.read', 'platform.tenants.manage'];
  h.slug = () => ['globex', 'initech', 'platform', 'acme'];
  h.policy = () => [world.baselinePolicy];
  h.version = () => [world.policyVersion()];
  h.body = () => ['Your code is {{code}}.', '{{code}} {{unknown}}', '{{', '{{code}}'.repeat(300), '{{tenantName}}'];
  h.data = () => [
    'externalId,name,phone,email\nCRM-90,Ann Lee,+1 415 555 0100,ann@example.com\nCRM-91,Bo,not a phone,\n',
    'name,phone\n"unterminated,+1\n',
    'name,unknown_column\nA,B\n',
    'name\n' + 'x\n'.repeat(500),
    '{"externalId":"CRM-92","name":"Cy","contacts":[{"kind":"phone","value":"+1 415 555 0101"}]}\n{"name":\n[1,2]\n"str"\n{"__proto__":{"fuzzPolluted":"yes"},"name":"P"}\n',
  ];
  return h;
}

function bodyArb(o: Operation, world: World): fc.Arbitrary<Spec['body']> {
  const none = fc.constant<Spec['body']>({ none: true });
  const raw = fc.constantFrom(...INVALID_JSON).map((raw): Spec['body'] => ({ raw }));
  if (!o.body) {
    return fc.oneof({ weight: 8, arbitrary: none }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((json): Spec['body'] => ({ json })) }, { weight: 1, arbitrary: raw });
  }
  const valid = schemaArb(o.body.schema, { hints: hintsOf(world), maxStringLength: 200 });
  if (o.body.type === 'form') {
    const form = valid.map((v): Spec['body'] => ({ form: Object.fromEntries(Object.entries((v ?? {}) as Record<string, unknown>).map(([k, x]) => [k, typeof x === 'string' ? x : JSON.stringify(x)])) }));
    const mutated = valid.chain((v) => mutate(v)).map((v): Spec['body'] => (v && typeof v === 'object' && !Array.isArray(v) ? { form: Object.fromEntries(Object.entries(v).map(([k, x]) => [k, typeof x === 'string' ? x : JSON.stringify(x)])) } : { raw: String(v) }));
    return fc.oneof({ weight: 6, arbitrary: form }, { weight: 3, arbitrary: mutated }, { weight: 1, arbitrary: valid.map((json): Spec['body'] => ({ json })) }, { weight: 1, arbitrary: raw });
  }
  return fc.oneof(
    { weight: 9, arbitrary: valid.map((json): Spec['body'] => ({ json })) },
    { weight: 7, arbitrary: valid.chain((v) => mutate(v)).map((json): Spec['body'] => ({ json })) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((json): Spec['body'] => ({ json })) },
    { weight: 2, arbitrary: raw },
    { weight: 1, arbitrary: none },
  );
}

function authArb(o: Operation): fc.Arbitrary<Auth> {
  const w = (n: number, a: Auth) => ({ weight: n, arbitrary: fc.constant(a) });
  const garbage = headerGarbage().map((g): Auth => ({ garbage: g }));
  const wrong = fc.constantFrom('x', ' ', '\t', 'Bearer ', '.', '=').map((s): Auth => ({ tokenSuffix: s }));
  return fc.oneof(
    w(o.security === 'apiKey' ? 1 : 6, 'admin'),
    w(o.security === 'apiKey' ? 1 : 3, 'agent'),
    w(o.security === 'apiKey' ? 1 : 3, 'operator'),
    w(1, 'supervisor'),
    w(o.security === 'apiKey' ? 10 : 1, 'apiKey'),
    w(1, 'cookie'),
    w(1, 'none'),
    { weight: 1, arbitrary: garbage },
    { weight: 1, arbitrary: wrong },
  );
}

export function specArb(o: Operation, world: World): fc.Arbitrary<Spec> {
  const pathParams = o.params.filter((p) => p.in === 'path');
  const hasFlowHeader = o.params.some((p) => p.in === 'header' && p.name === 'x-flow-token');
  const isForm = o.body?.type === 'form';
  const extraHeader = fc.oneof(
    fc.constantFrom('x-request-id', 'x-forwarded-for', 'accept', 'cookie', 'last-event-id', 'content-encoding', 'x-http-method-override', 'origin', 'accept-language').chain((name) => headerGarbage().map((v) => ({ [name]: v }))),
    fc.constant({ accept: 'text/event-stream' }),
    fc.constant({ 'x-forwarded-for': '203.0.113.7, 10.0.0.1' }),
  );
  return fc.record({
    path: fc.record(Object.fromEntries(pathParams.map((p) => [p.name, pathValueArb(o, p, world)]))),
    query: queryArb(o, world),
    auth: authArb(o),
    flow: hasFlowHeader
      ? fc.oneof({ weight: 6, arbitrary: fc.constant<Spec['flow']>('valid') }, { weight: 3, arbitrary: headerGarbage(200).map((g): Spec['flow'] => ({ garbage: g })) }, { weight: 1, arbitrary: fc.constant<Spec['flow']>('none') })
      : fc.oneof({ weight: 9, arbitrary: fc.constant<Spec['flow']>('none') }, { weight: 1, arbitrary: headerGarbage().map((g): Spec['flow'] => ({ garbage: g })) }),
    contentType: fc.oneof(
      { weight: 12, arbitrary: fc.constant(isForm ? 'application/x-www-form-urlencoded' : 'application/json') },
      { weight: 2, arbitrary: fc.constantFrom<string | null>(null, ...CONTENT_TYPES) },
      { weight: 1, arbitrary: headerGarbage(40) },
    ),
    twilio: isForm
      ? fc.oneof({ weight: 6, arbitrary: fc.constant<Spec['twilio']>('valid') }, { weight: 2, arbitrary: headerGarbage(60).map((g): Spec['twilio'] => ({ garbage: g })) }, { weight: 1, arbitrary: fc.constant<Spec['twilio']>('none') })
      : fc.constant<Spec['twilio']>('none'),
    extraHeaders: fc.oneof({ weight: 4, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: extraHeader }),
    body: bodyArb(o, world),
  });
}

/** The concrete request for a spec, with the world's current tokens and ids. */
export function resolve(o: Operation, spec: Spec, world: World): InjectOptions & { url: string; headers: Record<string, string> } {
  const ids = world.realIds();
  const p = world.principals;
  let url = o.path.replace(/\{(\w+)\}/g, (_m, name: string) => {
    const v = spec.path[name];
    if (!v) return 'missing';
    if ('real' in v) return enc(ids[v.real]?.[v.i] ?? ids[v.real]?.[0] ?? 'gone');
    if ('valid' in v) return enc(v.valid);
    if ('enc' in v) return enc(v.enc);
    return v.raw;
  });
  if (Array.isArray(spec.query)) {
    if (spec.query.length) url += '?' + spec.query.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
  } else url += '?' + spec.query.raw;

  const headers: Record<string, string> = { ...spec.extraHeaders };
  const token = (a: 'operator' | 'admin' | 'agent' | 'supervisor') => p[a].token;
  const auth = spec.auth;
  if (auth === 'apiKey') headers.authorization = `Bearer ${world.state.apiKey}`;
  else if (auth === 'cookie') headers.cookie = `cw_session=${p.admin.token}`;
  else if (typeof auth === 'string' && auth !== 'none') headers.authorization = `Bearer ${token(auth)}`;
  else if (typeof auth === 'object' && 'garbage' in auth) headers.authorization = auth.garbage;
  else if (typeof auth === 'object') headers.authorization = `Bearer ${p.admin.token}${auth.tokenSuffix}`;
  if (spec.flow === 'valid') headers['x-flow-token'] = world.state.flowToken;
  else if (typeof spec.flow === 'object') headers['x-flow-token'] = spec.flow.garbage;

  let payload: string | undefined;
  const b = spec.body;
  if ('json' in b) payload = JSON.stringify(b.json) ?? 'null';
  else if ('raw' in b) payload = b.raw;
  else if ('form' in b) payload = new URLSearchParams(b.form).toString();
  if (payload !== undefined && spec.contentType !== null) headers['content-type'] = spec.contentType;
  if (spec.twilio === 'valid') headers['x-twilio-signature'] = twilioSignature(TWILIO_TOKEN, PUBLIC_URL + url, 'form' in b ? b.form : {});
  else if (typeof spec.twilio === 'object') headers['x-twilio-signature'] = spec.twilio.garbage;
  return { method: o.method as InjectOptions['method'], url, headers, ...(payload !== undefined ? { payload } : {}) };
}
