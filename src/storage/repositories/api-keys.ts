/**
 * Tenant API keys (the IVR authenticates with one). Only the SHA-256 of a key is stored; a lookup is
 * by that hash. Revoking sets revoked_at (the row stays listed); `touch` records use at most once a
 * minute so a busy IVR does not write on every request.
 */
import type { Selectable } from 'kysely';
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

  async touch(id: string, now: Date): Promise<void> {
    const minuteAgo = new Date(now.getTime() - 60_000);
    await this.db
      .updateTable('api_keys')
      .set({ last_used_at: now })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', minuteAgo)]))
      .execute();
  }
}
