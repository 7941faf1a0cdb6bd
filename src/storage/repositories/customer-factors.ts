/**
 * A customer's own bound authenticators (today: a TOTP app). Pending until confirmed by a first code,
 * at most one active per kind (a partial unique index); every read is scoped by customer, which the
 * services only reach through a tenant-scoped customer lookup. Time steps are recorded in the shared
 * TOTP replay ledger under the customer's id.
 */
import { sql, type Selectable } from 'kysely';
import type { Db } from '../db.js';
import type { CustomerFactorsTable } from '../schema-customer-factors.js';

export type CustomerFactorRow = Selectable<CustomerFactorsTable>;

export class CustomerFactorRepo {
  constructor(private readonly db: Db) {}

  /** Adds a pending factor, dropping the customer's earlier unconfirmed ones of the same kind. */
  async createPending(f: { id: string; tenantId: string; customerId: string; kind: string; label: string; secret: Buffer | null; now: Date }): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('customer_factors').where('customer_id', '=', f.customerId).where('kind', '=', f.kind).where('status', '=', 'pending').execute();
      await trx
        .insertInto('customer_factors')
        .values({ id: f.id, tenant_id: f.tenantId, customer_id: f.customerId, kind: f.kind, label: f.label, status: 'pending', secret: f.secret, created_at: f.now })
        .execute();
    });
  }

  /** Moves a pending factor to active; false if it was not pending or the customer already has an active one of this kind. */
  async activate(customerId: string, id: string, now: Date): Promise<boolean> {
    try {
      const r = await this.db
        .updateTable('customer_factors')
        .set({ status: 'active', confirmed_at: now })
        .where('id', '=', id)
        .where('customer_id', '=', customerId)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    } catch (e) {
      if ((e as { code?: string }).code === '23505') return false;
      throw e;
    }
  }

  byId(customerId: string, id: string): Promise<CustomerFactorRow | undefined> {
    return this.db.selectFrom('customer_factors').selectAll().where('customer_id', '=', customerId).where('id', '=', id).executeTakeFirst();
  }

  active(customerId: string, kind: string): Promise<CustomerFactorRow | undefined> {
    return this.db.selectFrom('customer_factors').selectAll().where('customer_id', '=', customerId).where('kind', '=', kind).where('status', '=', 'active').executeTakeFirst();
  }

  /** Active factor kinds of a customer (no secrets). */
  async activeKinds(customerId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('customer_factors').select('kind').where('customer_id', '=', customerId).where('status', '=', 'active').execute();
    return rows.map((r) => r.kind);
  }

  /** Removes every factor of this kind (active and pending); returns the removed rows. */
  removeKind(customerId: string, kind: string): Promise<CustomerFactorRow[]> {
    return this.db.deleteFrom('customer_factors').where('customer_id', '=', customerId).where('kind', '=', kind).returningAll().execute();
  }

  /**
   * Records a TOTP time step as used by this customer (false when it was used before; atomic: one
   * winner) and, in the same statement, stamps the factor's last use.
   */
  async useTotpStep(customerId: string, step: number, now: Date, factorId: string): Promise<boolean> {
    const r = await sql<{ used: number }>`
      WITH used AS (
        INSERT INTO totp_used_steps (subject_id, step, used_at) VALUES (${customerId}, ${step}, ${now})
        ON CONFLICT DO NOTHING RETURNING step),
      touched AS (
        UPDATE customer_factors SET last_used_at = ${now} WHERE id = ${factorId} AND customer_id = ${customerId} AND EXISTS (SELECT 1 FROM used) RETURNING id)
      SELECT (SELECT count(*) FROM used)::int AS used, (SELECT count(*) FROM touched)::int AS touched`.execute(this.db);
    return (r.rows[0]?.used ?? 0) === 1;
  }
}
