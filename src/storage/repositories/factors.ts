/** Bound second factors, the TOTP replay ledger and recovery codes. */
import { sql, type Selectable } from 'kysely';
import type { Db } from '../db.js';
import type { FactorsTable } from '../schema.js';

export type FactorRow = Selectable<FactorsTable>;

export class FactorRepo {
  constructor(private readonly db: Db) {}

  createPending(f: { id: string; tenantId: string; userId: string; kind: string; label: string; secret: Buffer | null; now: Date }): Promise<FactorRow> {
    return this.db
      .insertInto('factors')
      .values({ id: f.id, tenant_id: f.tenantId, user_id: f.userId, kind: f.kind, label: f.label, status: 'pending', secret: f.secret, created_at: f.now })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** Moves a pending factor to active; false if it was not pending or the user already has one of this kind. */
  async activate(id: string, userId: string, now: Date): Promise<boolean> {
    try {
      const r = await this.db
        .updateTable('factors')
        .set({ status: 'active', confirmed_at: now })
        .where('id', '=', id)
        .where('user_id', '=', userId)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    } catch (e) {
      if ((e as { code?: string }).code === '23505') return false;
      throw e;
    }
  }

  byId(userId: string, id: string): Promise<FactorRow | undefined> {
    return this.db.selectFrom('factors').selectAll().where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
  }

  active(userId: string, kind: string): Promise<FactorRow | undefined> {
    return this.db.selectFrom('factors').selectAll().where('user_id', '=', userId).where('kind', '=', kind).where('status', '=', 'active').executeTakeFirst();
  }

  /** Active factor kinds of a user (no secrets). */
  async activeKinds(userId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('factors').select('kind').where('user_id', '=', userId).where('status', '=', 'active').execute();
    return rows.map((r) => r.kind);
  }

  /** Active factor kinds of many users (no secrets), for an admin's list. */
  async activeKindsOf(userIds: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (!userIds.length) return out;
    const rows = await this.db.selectFrom('factors').select(['user_id', 'kind']).where('user_id', 'in', userIds).where('status', '=', 'active').orderBy('created_at').execute();
    for (const r of rows) out.set(r.user_id, [...(out.get(r.user_id) ?? []), r.kind]);
    return out;
  }

  list(userId: string) {
    return this.db
      .selectFrom('factors')
      .select(['id', 'kind', 'label', 'status', 'created_at', 'confirmed_at', 'last_used_at'])
      .where('user_id', '=', userId)
      .where('status', '=', 'active')
      .orderBy('created_at')
      .execute();
  }

  async remove(userId: string, id: string): Promise<FactorRow | undefined> {
    return this.db.deleteFrom('factors').where('user_id', '=', userId).where('id', '=', id).returningAll().executeTakeFirst();
  }

  async removeAll(userId: string): Promise<number> {
    const r = await this.db.deleteFrom('factors').where('user_id', '=', userId).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async touch(id: string, now: Date): Promise<void> {
    await this.db.updateTable('factors').set({ last_used_at: now }).where('id', '=', id).execute();
  }

  /**
   * Records a TOTP time step as used; false when it was used before (atomic: one winner). With a
   * factor id, the same statement stamps that factor's last use.
   */
  async useTotpStep(subjectId: string, step: number, now: Date, factorId?: string): Promise<boolean> {
    if (!factorId) {
      const r = await this.db
        .insertInto('totp_used_steps')
        .values({ subject_id: subjectId, step, used_at: now })
        .onConflict((oc) => oc.doNothing())
        .returning('step')
        .executeTakeFirst();
      return r !== undefined;
    }
    const r = await sql<{ used: number }>`
      WITH used AS (
        INSERT INTO totp_used_steps (subject_id, step, used_at) VALUES (${subjectId}, ${step}, ${now})
        ON CONFLICT DO NOTHING RETURNING step),
      touched AS (
        UPDATE factors SET last_used_at = ${now} WHERE id = ${factorId} AND EXISTS (SELECT 1 FROM used) RETURNING id)
      SELECT (SELECT count(*) FROM used)::int AS used, (SELECT count(*) FROM touched)::int AS touched`.execute(this.db);
    return (r.rows[0]?.used ?? 0) === 1;
  }

  /** Replaces the user's recovery codes (a new factor row with its hashed codes). */
  async replaceRecoveryCodes(f: { id: string; tenantId: string; userId: string; hashes: Buffer[]; now: Date }): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('factors').where('user_id', '=', f.userId).where('kind', '=', 'recovery_code').execute();
      await trx
        .insertInto('factors')
        .values({ id: f.id, tenant_id: f.tenantId, user_id: f.userId, kind: 'recovery_code', label: 'Recovery codes', status: 'active', secret: null, created_at: f.now, confirmed_at: f.now })
        .execute();
      await trx
        .insertInto('recovery_codes')
        .values(f.hashes.map((h) => ({ factor_id: f.id, user_id: f.userId, code_hash: h, used_at: null })))
        .execute();
    });
  }

  /** Spends one recovery code; returns how many remain, or null if no unused code matched. */
  async consumeRecoveryCode(userId: string, hash: Buffer, now: Date): Promise<number | null> {
    const used = await this.db
      .updateTable('recovery_codes')
      .set({ used_at: now })
      .where('user_id', '=', userId)
      .where('code_hash', '=', hash)
      .where('used_at', 'is', null)
      .returning('factor_id')
      .executeTakeFirst();
    if (!used) return null;
    const left = await this.db
      .selectFrom('recovery_codes')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('factor_id', '=', used.factor_id)
      .where('used_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(left.n);
  }

  async recoveryCodesLeft(userId: string): Promise<number> {
    const r = await this.db
      .selectFrom('recovery_codes')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('user_id', '=', userId)
      .where('used_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }
}
