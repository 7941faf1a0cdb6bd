/** Tenants and their versioned policies. */
import type { Selectable } from 'kysely';
import type { Db } from '../db.js';
import type { TenantsTable } from '../schema.js';

export type TenantRow = Selectable<TenantsTable>;

export class TenantRepo {
  constructor(private readonly db: Db) {}

  async create(t: { id: string; slug: string; name: string; isPlatform?: boolean; policy: unknown; now: Date; createdBy: string | null }): Promise<TenantRow> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('tenants')
        .values({ id: t.id, slug: t.slug, name: t.name, is_platform: t.isPlatform ?? false, policy_version: 1, created_at: t.now })
        .returningAll()
        .executeTakeFirstOrThrow();
      await trx
        .insertInto('tenant_policies')
        .values({ tenant_id: t.id, version: 1, policy: JSON.stringify(t.policy), created_at: t.now, created_by: t.createdBy })
        .execute();
      return row;
    });
  }

  bySlug(slug: string): Promise<TenantRow | undefined> {
    return this.db.selectFrom('tenants').selectAll().where('slug', '=', slug).executeTakeFirst();
  }

  byId(id: string): Promise<TenantRow | undefined> {
    return this.db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
  }

  list(): Promise<TenantRow[]> {
    return this.db.selectFrom('tenants').selectAll().orderBy('created_at').execute();
  }

  /** Every tenant with its policy in force (one query, for the operator's list). */
  listWithPolicy(): Promise<Array<TenantRow & { policy: unknown }>> {
    return this.db
      .selectFrom('tenants as t')
      .innerJoin('tenant_policies as p', (j) => j.onRef('p.tenant_id', '=', 't.id').onRef('p.version', '=', 't.policy_version'))
      .selectAll('t')
      .select('p.policy')
      .orderBy('t.created_at')
      .execute();
  }

  platform(): Promise<TenantRow | undefined> {
    return this.db.selectFrom('tenants').selectAll().where('is_platform', '=', true).executeTakeFirst();
  }

  /** The policy in force, as stored (parsed by the caller). */
  async currentPolicy(tenantId: string): Promise<{ version: number; policy: unknown } | undefined> {
    return this.db
      .selectFrom('tenants as t')
      .innerJoin('tenant_policies as p', (j) => j.onRef('p.tenant_id', '=', 't.id').onRef('p.version', '=', 't.policy_version'))
      .select(['p.version', 'p.policy'])
      .where('t.id', '=', tenantId)
      .executeTakeFirst();
  }

  /** Saves a new version if `expectedVersion` is still current (optimistic concurrency). */
  async savePolicy(tenantId: string, expectedVersion: number, policy: unknown, by: string | null, now: Date): Promise<number | null> {
    return this.db.transaction().execute(async (trx) => {
      const bumped = await trx
        .updateTable('tenants')
        .set((eb) => ({ policy_version: eb('policy_version', '+', 1) }))
        .where('id', '=', tenantId)
        .where('policy_version', '=', expectedVersion)
        .returning('policy_version')
        .executeTakeFirst();
      if (!bumped) return null;
      await trx
        .insertInto('tenant_policies')
        .values({ tenant_id: tenantId, version: bumped.policy_version, policy: JSON.stringify(policy), created_at: now, created_by: by })
        .execute();
      return bumped.policy_version;
    });
  }

  policyHistory(tenantId: string) {
    return this.db.selectFrom('tenant_policies').selectAll().where('tenant_id', '=', tenantId).orderBy('version', 'desc').execute();
  }
}
