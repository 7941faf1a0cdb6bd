/** Per-tenant signing keys for verification assertions (private keys sealed at rest). */
import type { Selectable } from 'kysely';
import type { Db } from '../db.js';
import type { SigningKeysTable } from '../schema-verification.js';

export type SigningKeyRow = Selectable<SigningKeysTable>;

export class SigningKeyRepo {
  constructor(private readonly db: Db) {}

  async create(k: { kid: string; tenantId: string; alg: string; publicJwk: unknown; privateKey: Buffer; now: Date }): Promise<void> {
    await this.db
      .insertInto('signing_keys')
      .values({ kid: k.kid, tenant_id: k.tenantId, alg: k.alg, public_jwk: JSON.stringify(k.publicJwk), private_key: k.privateKey, created_at: k.now })
      .execute();
  }

  /** The newest key still in use for signing. */
  current(tenantId: string): Promise<SigningKeyRow | undefined> {
    return this.db.selectFrom('signing_keys').selectAll().where('tenant_id', '=', tenantId).where('retired_at', 'is', null).orderBy('created_at', 'desc').limit(1).executeTakeFirst();
  }

  byKid(kid: string): Promise<SigningKeyRow | undefined> {
    return this.db.selectFrom('signing_keys').selectAll().where('kid', '=', kid).executeTakeFirst();
  }

  /** Public keys a verifier may meet: current ones and those retired less than a day ago. */
  published(tenantId: string, now: Date): Promise<Array<Pick<SigningKeyRow, 'kid' | 'public_jwk'>>> {
    return this.db
      .selectFrom('signing_keys')
      .select(['kid', 'public_jwk'])
      .where('tenant_id', '=', tenantId)
      .where((eb) => eb.or([eb('retired_at', 'is', null), eb('retired_at', '>', new Date(now.getTime() - 86_400_000))]))
      .orderBy('created_at', 'desc')
      .execute();
  }
}
