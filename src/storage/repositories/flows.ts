/**
 * The flow record's repository: creating a flow (with its audit event, in one statement), scoped
 * reads, cancel, the velocity counts caller risk needs, and the expiry sweep. Claims and the
 * records of a check are in ./flow-claims.ts and ./flow-records.ts.
 */
import { sql, type Insertable } from 'kysely';
import type { FlowRecord } from '../../engine/flow.js';
import type { Db } from '../db.js';
import type { FlowsTable } from '../schema-flows.js';
import { type AuditEvent } from './audit.js';
import { claimFlow, type Claimed, type KindNeed } from './flow-claims.js';
import { auditInsert, insertRows } from './flow-records.js';

export type NewFlow = Omit<Insertable<FlowsTable>, 'ceremony' | 'context'> & { ceremony?: Record<string, unknown>; context?: Record<string, unknown> };

const values = (f: NewFlow) => ({ ...f, ceremony: JSON.stringify(f.ceremony ?? {}), context: JSON.stringify(f.context ?? {}) });

export class FlowRepo {
  constructor(private readonly db: Db) {}

  /** A new flow and its events, in one statement. */
  async create(f: NewFlow, events: AuditEvent[] = []): Promise<FlowRecord> {
    if (!events.length) return this.db.insertInto('flows').values(values(f)).returningAll().executeTakeFirstOrThrow();
    const r = await sql<FlowRecord>`
      WITH f AS (${insertRows('flows', [values(f) as unknown as Record<string, unknown>], ['ceremony', 'context'])} RETURNING *),
           ev AS (${auditInsert(events)} RETURNING 1)
      SELECT * FROM f`.execute(this.db);
    return r.rows[0]!;
  }

  /**
   * A sign-in flow for the tenant named by its slug, in one statement; undefined when there is no
   * such (enabled) tenant.
   */
  async createForSlug(slug: string, f: Omit<NewFlow, 'tenant_id'>): Promise<FlowRecord | undefined> {
    const v = values({ ...f, tenant_id: '00000000-0000-0000-0000-000000000000' });
    const cols = Object.keys(v).filter((k) => k !== 'tenant_id');
    const r = await sql<FlowRecord>`
      INSERT INTO flows (tenant_id, ${sql.join(cols.map((c) => sql.ref(c)))})
      SELECT t.id, ${sql.join(cols.map((c) => sql`${(v as Record<string, unknown>)[c]}`))}
      FROM tenants t WHERE t.slug = ${slug} AND t.disabled_at IS NULL
      RETURNING *`.execute(this.db);
    return r.rows[0];
  }

  byId(id: string): Promise<FlowRecord | undefined> {
    return this.db.selectFrom('flows').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Scoped read: another tenant's flow is not found. */
  inTenant(tenantId: string, id: string, kind?: FlowRecord['kind']): Promise<FlowRecord | undefined> {
    let q = this.db.selectFrom('flows').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id);
    if (kind) q = q.where('kind', '=', kind);
    return q.executeTakeFirst();
  }

  /** One statement: the flow (any state) of the tenant, its policy and what the kind needs read. */
  readWith(tenantId: string, id: string, kindNeeds: readonly KindNeed[], now: Date): Promise<Claimed | undefined> {
    return claimFlow(this.db, { id, tenantId, states: [], now, spend: false, readOnly: true, kindNeeds });
  }

  /** The tenant's newest flow of an interaction (a call), with what the kind needs, in one statement. */
  readLatestForInteraction(tenantId: string, interactionId: string, kindNeeds: readonly KindNeed[], now: Date): Promise<Claimed | undefined> {
    // the interaction names the flow (id unused)
    return claimFlow(this.db, { id: '', tenantId, interactionId, states: [], now, spend: false, readOnly: true, kindNeeds });
  }


  /** Cancels a flow still in one of `states` (never a terminal one); undefined otherwise. */
  async cancel(tenantId: string, id: string, states: readonly string[], now: Date, events: AuditEvent[]): Promise<FlowRecord | undefined> {
    const r = await sql<FlowRecord>`
      WITH f AS (UPDATE flows SET state = 'canceled', updated_at = ${now}
                 WHERE tenant_id = ${tenantId} AND id = ${id} AND state = ANY(${[...states]}::text[]) AND expires_at > ${now} AND attempts_left > 0
                 RETURNING *)
      ${events.length ? sql`, ev AS (${auditInsert(events.map((e) => ({ ...e })))} WHERE EXISTS (SELECT 1 FROM f) RETURNING 1)` : sql``}
      SELECT * FROM f`.execute(this.db);
    return r.rows[0];
  }

  /** Caller verifications of this customer, and from this caller number, since `since` (velocity). */
  async velocity(tenantId: string, customerId: string, ani: string | null, since: Date): Promise<{ customer: number; ani: number }> {
    const r = await sql<{ customer: number; ani: number }>`
      SELECT (SELECT count(*) FROM flows WHERE tenant_id = ${tenantId} AND subject_id = ${customerId} AND kind = 'verification' AND created_at >= ${since})::int AS customer,
             (SELECT count(*) FROM flows WHERE tenant_id = ${tenantId} AND caller_ani = ${ani} AND created_at >= ${since})::int AS ani`.execute(this.db);
    return { customer: Number(r.rows[0]?.customer ?? 0), ani: Number(r.rows[0]?.ani ?? 0) };
  }

  async deleteExpired(kinds: readonly FlowRecord['kind'][], before: Date): Promise<number> {
    const r = await this.db.deleteFrom('flows').where('kind', 'in', [...kinds]).where('expires_at', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
