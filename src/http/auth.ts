/**
 * Request authentication and authorization: the session comes from the `cw_session` cookie or an
 * `Authorization: Bearer` header; routes ask for a permission, and tenant-scoped routes resolve the
 * tenant so that another tenant's objects answer 404 (not 403).
 */
import '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../domain/errors.js';
import type { Permission } from '../domain/permissions.js';
import type { Origin, Services } from '../services/context.js';
import { authenticateApiKey, API_KEY_PREFIX, type ApiKeyPrincipal } from '../services/api-keys.js';
import { authenticate, type Principal } from '../services/sessions.js';
import type { TenantRow } from '../storage/repositories/tenants.js';

export const SESSION_COOKIE = 'cw_session';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/**
 * The credentials of an `Authorization: Bearer <token>` header. The scheme name is case-insensitive
 * (RFC 9110 11.1: `bearer`, `BEARER` and `Bearer` are the same scheme); undefined for any other scheme.
 */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^bearer[ \t]+(\S.*)$/i.exec(header ?? '');
  const token = m?.[1]?.trim();
  return token ? token : undefined;
}

export function sessionToken(req: FastifyRequest): string | undefined {
  return bearerToken(req.headers.authorization) ?? req.cookies?.[SESSION_COOKIE];
}

export function origin(req: FastifyRequest): Origin {
  const ua = req.headers['user-agent'];
  return { ip: req.ip ?? null, userAgent: typeof ua === 'string' ? ua.slice(0, 512) : null, requestId: req.id, channel: 'api' };
}

/** onRequest hook: a live, fully signed-in session is required (checked before the body is even parsed). */
export function requireSession(s: Services) {
  return async (req: FastifyRequest) => {
    const token = sessionToken(req);
    const p = token ? await authenticate(s, token) : undefined;
    if (!p) throw new AppError('unauthenticated');
    req.principal = p;
  };
}

export function principal(req: FastifyRequest): Principal {
  if (!req.principal) throw new AppError('unauthenticated');
  return req.principal;
}

/**
 * For public routes that tell an authenticated caller more: who sent the request, if anyone. A
 * tenant API key (`Bearer cwk_...`) or a live session (bearer token or cookie); null when the request
 * carries no credential; 401 when it carries one that is not valid (a caller who meant to sign in
 * hears so rather than silently getting the anonymous answer).
 */
export async function optionalCaller(s: Services, req: FastifyRequest): Promise<{ session: Principal } | { apiKey: ApiKeyPrincipal } | null> {
  const token = sessionToken(req);
  if (!token) return null;
  if (token.startsWith(API_KEY_PREFIX)) {
    const apiKey = await authenticateApiKey(s, token);
    if (!apiKey) throw new AppError('unauthenticated', undefined, 'A valid API key is required.');
    return { apiKey };
  }
  const session = await authenticate(s, token);
  if (!session) throw new AppError('unauthenticated');
  return { session };
}

/** The tenant named in the path (slug or id), if the caller may see it and holds the permission. */
export async function tenantFor(s: Services, req: FastifyRequest, ref: string, permission: Permission): Promise<TenantRow> {
  const p = principal(req);
  const isId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(ref);
  const tenant = isId ? await s.store.tenants.byId(ref) : await s.store.tenants.bySlug(ref.toLowerCase());
  if (!tenant || (tenant.id !== p.tenantId && !p.isOperator)) throw new AppError('not_found');
  if (!p.permissions.has(permission)) throw new AppError('forbidden', { permission });
  return tenant;
}

/**
 * The id of the tenant named in the path, as `tenantFor` checks it, without a query when it is the
 * principal's own tenant (the session read already has its id and slug): hot routes stay in budget.
 */
export async function tenantIdFor(s: Services, req: FastifyRequest, ref: string, permission: Permission): Promise<string> {
  const p = principal(req);
  if (ref === p.tenantId || ref.toLowerCase() === p.tenantSlug) {
    if (!p.permissions.has(permission)) throw new AppError('forbidden', { permission });
    return p.tenantId;
  }
  return (await tenantFor(s, req, ref, permission)).id;
}

/** Platform-level permission (operator routes). */
export function requirePermission(req: FastifyRequest, permission: Permission): Principal {
  const p = principal(req);
  if (!p.permissions.has(permission)) throw new AppError('forbidden', { permission });
  return p;
}

export function setSessionCookie(reply: FastifyReply, token: string, secure: boolean, maxAgeS: number): void {
  void reply.setCookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'strict', secure, path: '/', maxAge: maxAgeS });
}

export function clearSessionCookie(reply: FastifyReply, secure: boolean): void {
  void reply.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', secure, path: '/' });
}
