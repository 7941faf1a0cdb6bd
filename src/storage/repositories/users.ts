/** Staff users, their roles, password history and the tenant's custom roles. */
import { sql, type Selectable } from 'kysely';
import type { Db } from '../db.js';
import type { UsersTable, RolesTable } from '../schema.js';

export type UserRow = Selectable<UsersTable>;
export type RoleRow = Selectable<RolesTable>;

export class UserRepo {
  constructor(private readonly db: Db) {}

  create(u: { id: string; tenantId: string; email: string; displayName: string; roles: string[]; now: Date; status?: 'invited' | 'active'; passwordHash?: string | null }): Promise<UserRow> {
    return this.db
      .insertInto('users')
      .values({
        id: u.id,
        tenant_id: u.tenantId,
        email: u.email,
        display_name: u.displayName,
        roles: u.roles,
        status: u.status ?? 'invited',
        password_hash: u.passwordHash ?? null,
        password_changed_at: u.passwordHash ? u.now : null,
        created_at: u.now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  byEmail(tenantId: string, email: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).where('email', '=', email).executeTakeFirst();
  }

  /** Scoped lookup: a user of another tenant is simply not found. */
  byId(tenantId: string, id: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  }

  list(tenantId: string, opts: { limit?: number; offset?: number } = {}): Promise<UserRow[]> {
    return this.db
      .selectFrom('users')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .orderBy('email')
      .limit(opts.limit ?? 100)
      .offset(opts.offset ?? 0)
      .execute();
  }

  /** Every enabled user of a tenant with the kinds of their active factors, in one query (policy previews). */
  async enabledWithFactorKinds(tenantId: string): Promise<Array<{ id: string; email: string; roles: string[]; kinds: string[] }>> {
    const r = await sql<{ id: string; email: string; roles: string[]; kinds: string[] }>`
      SELECT u.id, u.email, u.roles, coalesce(array_agg(f.kind) FILTER (WHERE f.kind IS NOT NULL), '{}') AS kinds
      FROM users u LEFT JOIN credentials f ON f.subject_type = 'user' AND f.subject_id = u.id AND f.status = 'active'
      WHERE u.tenant_id = ${tenantId} AND u.status <> 'disabled'
      GROUP BY u.id ORDER BY u.email`.execute(this.db);
    return r.rows;
  }

  countByTenant(tenantId: string): Promise<number> {
    return this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', tenantId)
      .executeTakeFirstOrThrow()
      .then((r) => Number(r.n));
  }

  async setPassword(userId: string, hash: string, now: Date, keepHistory: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('users').set({ password_hash: hash, password_changed_at: now, status: sql<'active'>`CASE WHEN status = 'invited' THEN 'active' ELSE status END` }).where('id', '=', userId).execute();
      await trx.insertInto('password_history').values({ user_id: userId, hash, created_at: now }).execute();
      await sql`DELETE FROM password_history WHERE user_id = ${userId} AND ctid NOT IN (
        SELECT ctid FROM password_history WHERE user_id = ${userId} ORDER BY created_at DESC LIMIT ${keepHistory})`.execute(trx);
    });
  }

  async recentPasswordHashes(userId: string, n: number): Promise<string[]> {
    const rows = await this.db.selectFrom('password_history').select('hash').where('user_id', '=', userId).orderBy('created_at', 'desc').limit(n).execute();
    return rows.map((r) => r.hash);
  }

  async setRoles(tenantId: string, userId: string, roles: string[]): Promise<UserRow | undefined> {
    return this.db.updateTable('users').set({ roles }).where('tenant_id', '=', tenantId).where('id', '=', userId).returningAll().executeTakeFirst();
  }

  /** Disables the user and revokes every session in one transaction. */
  async disable(tenantId: string, userId: string, now: Date): Promise<{ user: UserRow; sessionsRevoked: number } | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const user = await trx
        .updateTable('users')
        .set({ status: 'disabled', disabled_at: now })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', userId)
        .returningAll()
        .executeTakeFirst();
      if (!user) return undefined;
      const r = await trx.updateTable('sessions').set({ revoked_at: now }).where('user_id', '=', userId).where('revoked_at', 'is', null).executeTakeFirst();
      await trx.deleteFrom('flows').where('subject_type', '=', 'user').where('subject_id', '=', userId).where('kind', 'in', ['signin', 'reauth']).execute();
      return { user, sessionsRevoked: Number(r.numUpdatedRows) };
    });
  }

  async enable(tenantId: string, userId: string): Promise<UserRow | undefined> {
    return this.db
      .updateTable('users')
      .set({ status: sql<'active'>`CASE WHEN password_hash IS NULL THEN 'invited' ELSE 'active' END`, disabled_at: null })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', userId)
      .returningAll()
      .executeTakeFirst();
  }

  /** Records a completed sign-in; counts grace sign-ins while a required enrollment is pending. */
  async recordSignin(userId: string, now: Date, inGrace: boolean): Promise<void> {
    await this.db
      .updateTable('users')
      .set((eb) => ({
        last_signin_at: now,
        grace_signins: inGrace ? eb('grace_signins', '+', 1) : eb.ref('grace_signins'),
        grace_started_at: inGrace ? eb.fn.coalesce('grace_started_at', eb.val(now)) : eb.ref('grace_started_at'),
      }))
      .where('id', '=', userId)
      .execute();
  }

  // custom roles
  roles(tenantId: string): Promise<RoleRow[]> {
    return this.db.selectFrom('roles').selectAll().where('tenant_id', '=', tenantId).orderBy('name').execute();
  }

  async customPermissions(tenantId: string, roleNames: string[]): Promise<string[]> {
    if (roleNames.length === 0) return [];
    const rows = await this.db.selectFrom('roles').select('permissions').where('tenant_id', '=', tenantId).where('name', 'in', roleNames).execute();
    return rows.flatMap((r) => r.permissions);
  }

  upsertRole(r: { tenantId: string; name: string; description: string; permissions: string[]; now: Date }): Promise<RoleRow> {
    return this.db
      .insertInto('roles')
      .values({ tenant_id: r.tenantId, name: r.name, description: r.description, permissions: r.permissions, created_at: r.now })
      .onConflict((oc) => oc.columns(['tenant_id', 'name']).doUpdateSet({ description: r.description, permissions: r.permissions }))
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async deleteRole(tenantId: string, name: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const r = await trx.deleteFrom('roles').where('tenant_id', '=', tenantId).where('name', '=', name).executeTakeFirst();
      await sql`UPDATE users SET roles = array_remove(roles, ${name}) WHERE tenant_id = ${tenantId} AND ${name} = ANY(roles)`.execute(trx);
      return Number(r.numDeletedRows) > 0;
    });
  }
}
