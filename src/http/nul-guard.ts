/**
 * Refuses the NUL character (U+0000) anywhere in path parameters, the query string or the parsed
 * body (values and keys, at any depth) with 400 invalid_request. No field of the API can hold it,
 * and PostgreSQL refuses it in text and jsonb ("invalid byte sequence for encoding UTF8: 0x00"),
 * which otherwise surfaced as a 500 from whichever query first touched the value. The walk is
 * iterative, so a deeply nested body cannot exhaust the stack.
 */
import type { FastifyRequest } from 'fastify';
import { AppError } from '../domain/errors.js';

function nulPath(root: unknown): string | null {
  const stack: Array<[unknown, string]> = [[root, '']];
  while (stack.length) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return path || '/';
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) stack.push([v[i], `${path}/${i}`]);
    } else if (v && typeof v === 'object') {
      for (const k of Object.keys(v)) {
        if (k.includes('\u0000')) return `${path}/${k.replace(/\u0000/g, '\\u0000')}`;
        stack.push([(v as Record<string, unknown>)[k], `${path}/${k}`]);
      }
    }
  }
  return null;
}

/** preValidation hook: see above. */
export async function rejectNulCharacters(req: FastifyRequest): Promise<void> {
  for (const [where, value] of [['params', req.params], ['querystring', req.query], ['body', req.body]] as const) {
    const path = nulPath(value);
    if (path !== null) throw new AppError('invalid_request', { issues: [{ path, message: 'must not contain the NUL character' }], in: where });
  }
}
