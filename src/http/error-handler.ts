/** Every error leaves as `{ code, message, requestId, details? }` with the status of its code. */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError, errorCodes, type ErrorCode } from '../domain/errors.js';

const fastifyCodes: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_request',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_request',
  FST_ERR_VALIDATION: 'invalid_request',
};

const DB_DOWN = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '57P01', '57P03', '08006', '08001', '08003']);

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | AppError, req, reply) => {
    let code: ErrorCode;
    let message: string;
    let details: Record<string, unknown> | undefined;
    if (err instanceof AppError) {
      code = err.code;
      message = err.message;
      details = err.detail;
    } else if (hasZodFastifySchemaValidationErrors(err)) {
      code = 'invalid_request';
      message = 'The request is not valid.';
      details = { issues: err.validation.map((v) => ({ path: v.instancePath || '/', message: v.message })), in: err.validationContext };
    } else if (err.code && fastifyCodes[err.code]) {
      code = fastifyCodes[err.code]!;
      message = errorCodes[code].message;
    } else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      code = err.statusCode === 413 ? 'payload_too_large' : err.statusCode === 415 ? 'unsupported_media_type' : err.statusCode === 429 ? 'rate_limited' : 'invalid_request';
      message = errorCodes[code].message;
    } else if (DB_DOWN.has(String((err as { code?: string }).code)) || /Connection terminated|timeout exceeded when trying to connect|encountered a connection error and is not queryable/.test(err.message)) {
      code = 'unavailable';
      message = errorCodes.unavailable.message;
      req.log.error({ err: { message: err.message, code: err.code } }, 'storage unavailable');
    } else {
      code = 'internal';
      message = errorCodes.internal.message;
      req.log.error({ err }, 'unhandled error');
    }
    const retry = details?.retryAfterSeconds;
    if (typeof retry === 'number') void reply.header('retry-after', String(retry));
    void reply.status(errorCodes[code].status).send({ code, message, requestId: req.id, ...(details ? { details } : {}) });
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send({ code: 'not_found', message: errorCodes.not_found.message, requestId: req.id });
  });
}

/**
 * Fastify's `frameworkErrors` option: errors raised while routing, before any route or hook runs
 * (a malformed percent-encoding in the path, a path parameter over maxParamLength). Without it
 * Fastify answers its own `{ error, code: "FST_ERR_...", message: "'<path>' is ..." }`, outside the
 * registry and echoing the path; this answers like every other error.
 */
export function frameworkErrorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const code: ErrorCode = err.code === 'FST_ERR_BAD_URL' || err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'invalid_request' : 'internal';
  if (code === 'internal') req.log.error({ err }, 'routing error');
  void reply
    .status(errorCodes[code].status)
    .header('x-request-id', req.id)
    .header('cache-control', 'no-store')
    .header('x-content-type-options', 'nosniff')
    .send({ code, message: errorCodes[code].message, requestId: req.id });
}
