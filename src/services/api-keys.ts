/**
 * Tenant API keys: created by a tenant administrator for a machine (the IVR), shown once as
 * `cwk_<prefix>_<secret>` and stored as its SHA-256; listed without secrets; revoked at once.
 * `authenticateApiKey` is what the HTTP layer calls for `Authorization: Bearer cwk_...`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { hashToken, newToken } from '../crypto/tokens.js';
import { AppError } from '../domain/errors.js';
import type { ApiKeyRow } from '../storage/repositories/api-keys.js';
import { audit } from './audit-log.js';
import type { Origin, Services } from './context.js';
import type { Actor } from './users.js';

export const apiKeyScopes = ['ivr'] as const;
export type ApiKeyScope = (typeof apiKeyScopes)[number];
export const API_KEY_PREFIX = 'cwk_';

/** What a request authenticated with a key carries. */
export interface ApiKeyPrincipal {
  id: string;
  tenantId: string;
  scopes: string[];
}

export function publicApiKey(k: ApiKeyRow) {
  return {
    id: k.id,
    name: k.name,
    prefix: `${API_KEY_PREFIX}${k.prefix}`,
    scopes: k.scopes,
    createdBy: k.created_by,
    createdAt: k.created_at.toISOString(),
    lastUsedAt: k.last_used_at?.toISOString() ?? null,
    revokedAt: k.revoked_at?.toISOString() ?? null,
  };
}

export async function createApiKey(s: Services, a: { tenantId: string; name: string; scopes: ApiKeyScope[]; actor: Actor; origin: Origin }) {
  const prefix = randomBytes(4).toString('hex');
  const key = `${API_KEY_PREFIX}${prefix}_${newToken(32)}`;
  const row = await s.store.apiKeys.create({
    id: randomUUID(),
    tenantId: a.tenantId,
    name: a.name,
    prefix,
    keyHash: hashToken(key),
    scopes: [...new Set(a.scopes)],
    createdBy: a.actor.type === 'user' ? a.actor.id : null,
    now: s.clock(),
  });
  await audit(s, {
    tenantId: a.tenantId,
    type: 'api_key.created',
    outcome: 'success',
    actor: a.actor,
    target: { type: 'api_key', id: row.id },
    origin: a.origin,
    data: { name: row.name, prefix: `${API_KEY_PREFIX}${prefix}`, scopes: row.scopes },
  });
  return { apiKey: publicApiKey(row), key };
}

export async function listApiKeys(s: Services, tenantId: string) {
  return (await s.store.apiKeys.list(tenantId)).map(publicApiKey);
}

export async function revokeApiKey(s: Services, a: { tenantId: string; id: string; actor: Actor; origin: Origin }) {
  const row = await s.store.apiKeys.revoke(a.tenantId, a.id, s.clock());
  if (!row) {
    const current = await s.store.apiKeys.byId(a.tenantId, a.id);
    if (!current) throw new AppError('not_found');
    throw new AppError('conflict', { revokedAt: current.revoked_at?.toISOString() }, 'This key is already revoked.');
  }
  await audit(s, {
    tenantId: a.tenantId,
    type: 'api_key.revoked',
    outcome: 'success',
    actor: a.actor,
    target: { type: 'api_key', id: row.id },
    origin: a.origin,
    data: { name: row.name, prefix: `${API_KEY_PREFIX}${row.prefix}` },
  });
  return publicApiKey(row);
}

/** The live key for this secret, or undefined (unknown, revoked, or its tenant disabled). */
export async function authenticateApiKey(s: Services, key: string): Promise<ApiKeyPrincipal | undefined> {
  if (!key.startsWith(API_KEY_PREFIX) || key.length > 128) return undefined;
  // one statement: a live key of an enabled tenant, its use recorded (at most once a minute)
  const row = await s.store.apiKeys.authenticate(hashToken(key), s.clock());
  return row && { id: row.id, tenantId: row.tenant_id, scopes: row.scopes };
}
