/**
 * Tenant API keys (the IVR authenticates with one). Only the SHA-256 of a key is stored; a lookup is
 * by that hash. Revoking sets revoked_at (the row stays listed); `authenticate` finds a live key of
 * an enabled tenant and records its use, at most once a minute (a busy IVR does not write its key's
 * row on every request), in one statement.
 */
import { sql, type Selectable } from 'kysely';
import type { Db } from '../db.js';
import type { ApiKeysTable } from '../schema-verification.js';

export type ApiKeyRow = Selectable<ApiKeysTable>;

export class ApiKeyRepo {
  constructor(private readonly db: Db) {}

  create(k: { id: string; tenantId: string; name: string; prefix: string; keyHash: Buffer; scopes: string[]; createdBy: string | null; now: Date }): Promise<ApiKeyRow> {
    return this.db
      .insertInto('api_keys')
      .values({ id: k.id, tenant_id: k.tenantId, name: k.name, prefix: k.prefix, key_hash: k.keyHash, scopes: k.scopes, created_by: k.createdBy, created_at: k.now })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** The key with this hash, revoked or not (the caller decides). */
  byHash(keyHash: Buffer): Promise<ApiKeyRow | undefined> {
    return this.db.selectFrom('api_keys').selectAll().where('key_hash', '=', keyHash).executeTakeFirst();
  }

  list(tenantId: string): Promise<ApiKeyRow[]> {
    return this.db.selectFrom('api_keys').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at', 'desc').orderBy('id').execute();
  }

  /** Revokes a live key of the tenant; undefined when there is none (unknown, other tenant's, or already revoked). */
  revoke(tenantId: string, id: string, now: Date): Promise<ApiKeyRow | undefined> {
    return this.db
      .updateTable('api_keys')
      .set({ revoked_at: now })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
  }

  byId(tenantId: string, id: string): Promise<ApiKeyRow | undefined> {
    return this.db.selectFrom('api_keys').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  }

  /**
   * One statement: the unrevoked key with this hash whose tenant is enabled and not the platform
   * tenant, its use recorded when the last record is a minute old (or there is none).
   */
  async authenticate(keyHash: Buffer, now: Date): Promise<{ id: string; tenant_id: string; scopes: string[] } | undefined> {
    const minuteAgo = new Date(now.getTime() - 60_000);
    const r = await sql<{ id: string; tenant_id: string; scopes: string[] }>`
      WITH k AS (
        SELECT k.id, k.tenant_id, k.scopes, k.last_used_at
        FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
        WHERE k.key_hash = ${keyHash} AND k.revoked_at IS NULL AND t.disabled_at IS NULL AND NOT t.is_platform
      ), used AS (
        UPDATE api_keys SET last_used_at = ${now}
        WHERE id IN (SELECT id FROM k WHERE last_used_at IS NULL OR last_used_at < ${minuteAgo})
        RETURNING id
      )
      SELECT id, tenant_id, scopes FROM k`.execute(this.db);
    return r.rows[0];
  }
}
