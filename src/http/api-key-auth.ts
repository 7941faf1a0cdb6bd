/**
 * Authentication of machine callers (the IVR) with a tenant API key: `Authorization: Bearer cwk_...`.
 * Only an API key opens these routes: a staff session (bearer token or cookie) does not, and an API
 * key opens no session route. The tenant comes from the key, never from the request.
 */
import type { FastifyRequest } from 'fastify';
import { AppError } from '../domain/errors.js';
import { authenticateApiKey, type ApiKeyPrincipal, type ApiKeyScope } from '../services/api-keys.js';
import type { Services } from '../services/context.js';
import { bearerToken } from './auth.js';

declare module 'fastify' {
  interface FastifyRequest {
    apiKey: ApiKeyPrincipal | null;
  }
}

/** onRequest hook: a live API key of an enabled tenant holding `scope` (401 otherwise; 403 without the scope). */
export function requireApiKey(s: Services, scope: ApiKeyScope) {
  return async (req: FastifyRequest) => {
    const key = bearerToken(req.headers.authorization);
    const k = key ? await authenticateApiKey(s, key) : undefined;
    if (!k) throw new AppError('unauthenticated', undefined, 'A valid API key is required.');
    if (!k.scopes.includes(scope)) throw new AppError('forbidden', { scope }, 'This API key does not have the needed scope.');
    req.apiKey = k;
  };
}

export function apiKeyOf(req: FastifyRequest): ApiKeyPrincipal {
  if (!req.apiKey) throw new AppError('unauthenticated');
  return req.apiKey;
}
