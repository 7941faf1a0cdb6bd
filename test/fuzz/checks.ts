/**
 * The properties every response must have, whatever was sent:
 *  - no status >= 500;
 *  - a 4xx is JSON `{ code, message, requestId }` whose code is in the error registry, with the
 *    registry's status for that code;
 *  - no body shows a stack trace, a source path or an internal error name;
 *  - a 2xx JSON body parses and matches the route's declared response schema (types, required
 *    properties, enums; formats and lengths are not checked); TwiML parses as a <Response>;
 *  - Object.prototype is untouched.
 */
import { errorCodes } from '../../src/domain/errors.js';
import { POLLUTION_MARK } from './mutations.js';
import type { Operation } from './requests.js';
import { checkSchema } from './schema-check.js';

const STACK = [/\n\s+at [^\n]*:\d+:\d+/, /\bat (async )?[\w.<>]+ \((?:file:\/\/|\/|node:)[^)]*\)/, /\/work\/main|node_modules\/|src\/[\w/-]+\.ts\b|\.js:\d+:\d+/, /\b(TypeError|ReferenceError|SyntaxError|RangeError): /, /FST_ERR_|ERR_[A-Z_]{4,}/, /\b(kysely|pglite|postgres(ql)? error|SQLSTATE)\b/i];

export function pollutionProblems(): string[] {
  const probe = {} as Record<string, unknown>;
  const out: string[] = [];
  for (const k of [POLLUTION_MARK, 'isAdmin', 'polluted']) if (probe[k] !== undefined || Object.prototype.hasOwnProperty.call(Object.prototype, k)) out.push(`Object.prototype.${k} is set`);
  return out;
}

export function responseProblems(o: Operation, res: { statusCode: number; headers: Record<string, unknown>; body: string }): string[] {
  const problems: string[] = [];
  const status = res.statusCode;
  const type = String(res.headers['content-type'] ?? '');
  if (status >= 500) problems.push(`status ${status}`);
  // 2xx bodies echo what was stored (names, audit data), so only real stack frames count there
  for (const re of status >= 400 ? STACK : STACK.slice(0, 2)) if (re.test(res.body)) problems.push(`body matches ${re} (stack trace or internals leaked)`);
  if (status >= 400) {
    let body: Record<string, unknown> | undefined;
    try {
      body = JSON.parse(res.body);
    } catch {
      problems.push(`${status} body is not JSON`);
    }
    if (!type.startsWith('application/json')) problems.push(`${status} content-type is ${type || 'missing'}`);
    if (body) {
      const code = body.code;
      if (typeof code !== 'string' || !Object.hasOwn(errorCodes, code)) problems.push(`${status} code ${JSON.stringify(code)} is not in the error registry`);
      else if (errorCodes[code as keyof typeof errorCodes].status !== status) problems.push(`${status} with code ${code} (registry says ${errorCodes[code as keyof typeof errorCodes].status})`);
      if (typeof body.message !== 'string' || !body.message) problems.push(`${status} has no message`);
      if (typeof body.requestId !== 'string') problems.push(`${status} has no requestId`);
    }
  } else if (status >= 200 && status < 300 && status !== 204) {
    const declared = o.op.responses?.[String(status)] ?? o.op.responses?.['2XX'] ?? o.op.responses?.default;
    if (!declared && o.op.responses) problems.push(`status ${status} is not declared`);
    if (type.startsWith('application/json')) {
      let body: unknown;
      try {
        body = JSON.parse(res.body);
      } catch {
        problems.push(`${status} JSON body does not parse`);
        return problems;
      }
      const schema = declared?.content?.['application/json']?.schema;
      if (schema) problems.push(...checkSchema(body, schema, '$', o.root).slice(0, 5).map((p) => `response schema: ${p}`));
    } else if (type.startsWith('text/xml')) {
      if (!/^<\?xml[^>]*\?><Response>[\s\S]*<\/Response>$/.test(res.body)) problems.push('TwiML is not a <Response> document');
    } else if (!type.startsWith('text/event-stream') && !type.startsWith('application/x-ndjson')) {
      problems.push(`${status} with unexpected content-type ${type || 'missing'}`);
    }
  }
  return problems;
}
