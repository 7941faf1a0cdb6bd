/** One-time setup links: stored hashed; `consume` is atomic (a link works once). */
import type { Db } from '../db.js';

export class InvitationRepo {
  constructor(private readonly db: Db) {}

  async create(i: { id: string; tenantId: string; userId: string; tokenHash: Buffer; createdBy: string | null; now: Date; expiresAt: Date }): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      // a new link replaces any earlier unused one
      await trx.updateTable('invitations').set({ used_at: i.now }).where('user_id', '=', i.userId).where('used_at', 'is', null).execute();
      await trx
        .insertInto('invitations')
        .values({ id: i.id, tenant_id: i.tenantId, user_id: i.userId, token_hash: i.tokenHash, created_by: i.createdBy, created_at: i.now, expires_at: i.expiresAt })
        .execute();
    });
  }

  /** Looks up an unused, unexpired link without spending it. */
  peek(tokenHash: Buffer, now: Date) {
    return this.db
      .selectFrom('invitations as i')
      .innerJoin('users as u', 'u.id', 'i.user_id')
      .innerJoin('tenants as t', 't.id', 'i.tenant_id')
      .select(['i.id', 'i.tenant_id', 'i.user_id', 'u.email', 'u.roles', 'u.status', 't.slug'])
      .where('i.token_hash', '=', tokenHash)
      .where('i.used_at', 'is', null)
      .where('i.expires_at', '>', now)
      .executeTakeFirst();
  }

  async consume(id: string, now: Date): Promise<boolean> {
    const r = await this.db.updateTable('invitations').set({ used_at: now }).where('id', '=', id).where('used_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
}
