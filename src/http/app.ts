/**
 * Builds the Fastify application: schema-first routes (zod), the generated OpenAPI 3.1 document at
 * /openapi.json with browsable docs at /docs, JSON errors with a request id, cookies, rate limits.
 */
import { randomUUID } from 'node:crypto';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Services } from '../services/context.js';
import { enterStatementCounter } from '../storage/db.js';
import { bindOutboxSealing } from '../storage/repositories/outbox.js';
import { consoleDir, registerConsole } from './console.js';
import { frameworkErrorHandler, installErrorHandler } from './error-handler.js';
import { rejectNulCharacters } from './nul-guard.js';
import { createLimiters, type Limiters } from './rate-limit.js';
import { apiKeyRoutes } from './routes/api-keys.js';
import { approvalRoutes } from './routes/approvals.js';
import { auditKeyRoutes, auditRoutes } from './routes/audit.js';
import { authRoutes } from './routes/auth.js';
import { customerRoutes } from './routes/customers.js';
import { healthRoutes } from './routes/health.js';
import { ivrRoutes } from './routes/ivr.js';
import { meRoutes } from './routes/me.js';
import { authenticatorModelRoutes } from './routes/authenticator-models.js';
import { outboxRoutes } from './routes/outbox.js';
import { templateRoutes } from './routes/templates.js';
import { tenantRoutes } from './routes/tenants.js';
import { twilioVoiceRoutes } from './routes/twilio-voice.js';
import { userRoutes } from './routes/users.js';
import { verificationEventRoutes, type StreamOptions } from './routes/verification-events.js';
import { assertionRoutes, verificationRoutes } from './routes/verifications.js';

export interface AppOptions {
  limiters?: Limiters;
  /** pino logger options or false; defaults to the configured level. */
  logger?: boolean;
  /** Serve the web console at `/` (default true). */
  console?: boolean;
  /** Poll and ping intervals of the server-sent event streams (tests shorten them). */
  streams?: StreamOptions;
}

/**
 * What a request line says in the log: the path without its query string. Queries carry callers'
 * phone numbers and emails (a customer search, a recipient filter) and those never go to a log.
 */
export function loggedUrl(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : `${url.slice(0, q)}?[redacted]`;
}

/** Fastify's `req` serializer with the query string redacted (the serializer of the parent logger wins over Fastify's). */
const requestLogSerializers = {
  req: (req: FastifyRequest) => ({ method: req.method, url: loggedUrl(req.url), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort }),
};

export async function buildApp(s: Services, opts: AppOptions = {}): Promise<FastifyInstance> {
  bindOutboxSealing(s.store.db, s.aead); // outbox messages written on this database are sealed with the service key
  const app = Fastify({
    loggerInstance: (opts.logger === false ? s.log.child({}, { level: 'silent' }) : s.log.child({}, { serializers: requestLogSerializers })) as FastifyBaseLogger,
    trustProxy: s.config.trustProxy,
    bodyLimit: 64 * 1024,
    frameworkErrors: frameworkErrorHandler,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{8,64}$/.test(given) ? given : randomUUID();
    },
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorateRequest('principal', null);
  app.decorateRequest('apiKey', null);
  app.removeContentTypeParser('text/plain'); // a JSON API: anything else answers 415
  // SQL statements per request: logged at debug, and sent as a header in dev mode (for tests and benchmarks)
  const sqlCount = new WeakMap<object, { count: number }>();
  app.addHook('onRequest', async (req) => {
    const box = { count: 0 };
    sqlCount.set(req, box);
    enterStatementCounter(box);
  });
  app.addHook('onSend', async (req, reply, payload) => {
    const box = sqlCount.get(req);
    if (box && s.config.mode === 'dev') void reply.header('x-sql-statements', String(box.count));
    void reply.header('x-request-id', req.id);
    if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
    void reply.header('x-content-type-options', 'nosniff');
    return payload;
  });
  app.addHook('preValidation', rejectNulCharacters);
  installErrorHandler(app as unknown as FastifyInstance);
  await app.register(cookie);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Callwarden API', version: '0.1.0', description: 'Multi-factor authentication for contact centers: staff sign-in and caller verification.' },
      components: {
        securitySchemes: {
          session: { type: 'http', scheme: 'bearer', description: 'Session token (or the cw_session cookie)' },
          apiKey: { type: 'http', scheme: 'bearer', description: 'Tenant API key (cwk_...), for the IVR routes only' },
        },
      },
      security: [{ session: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const limiters = opts.limiters ?? createLimiters({ ipPerMinute: s.config.ipAttemptsPerMinute, identifierPerMinute: s.config.identifierAttemptsPerMinute });
  await app.register(healthRoutes(s));
  await app.register(authRoutes(s, limiters));
  await app.register(meRoutes(s));
  await app.register(authenticatorModelRoutes(s));
  await app.register(tenantRoutes(s));
  await app.register(userRoutes(s));
  await app.register(approvalRoutes(s));
  await app.register(customerRoutes(s));
  await app.register(verificationRoutes(s, limiters));
  await app.register(verificationEventRoutes(s, opts.streams));
  await app.register(assertionRoutes(s));
  await app.register(apiKeyRoutes(s));
  await app.register(ivrRoutes(s, limiters));
  await app.register(twilioVoiceRoutes(s, limiters));
  await app.register(templateRoutes(s));
  await app.register(auditRoutes(s));
  await app.register(auditKeyRoutes(s));
  if (s.config.devOutboxApi) await app.register(outboxRoutes(s));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  if (opts.console !== false) await registerConsole(app as unknown as FastifyInstance, consoleDir(s.config.consoleDir));
  return app as unknown as FastifyInstance;
}
