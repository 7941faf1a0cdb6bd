/** Sessions: stored by the SHA-256 of their token; looked up with the user and role data in one query. */
import { sql } from 'kysely';
import type { Db } from '../db.js';
import { auditRow, type AuditEvent } from './audit.js';

export interface SessionRecord {
  id: string;
  tenantId: string;
  userId: string;
  aal: number;
  methods: string[];
  authTime: Date;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  userEmail: string;
  userRoles: string[];
  userStatus: string;
  tenantSlug: string;
  isPlatform: boolean;
  customPermissions: string[];
}

export class SessionRepo {
  constructor(private readonly db: Db) {}

  async create(s: { id: string; tokenHash: Buffer; tenantId: string; userId: string; aal: number; methods: string[]; authTime: Date; now: Date; idleTimeoutS: number; expiresAt: Date; ip: string | null; userAgent: string | null }): Promise<void> {
    await this.db
      .insertInto('sessions')
      .values({
        id: s.id,
        token_hash: s.tokenHash,
        tenant_id: s.tenantId,
        user_id: s.userId,
        aal: s.aal,
        methods: s.methods,
        auth_time: s.authTime,
        created_at: s.now,
        last_seen_at: s.now,
        idle_timeout_s: s.idleTimeoutS,
        expires_at: s.expiresAt,
        ip: s.ip,
        user_agent: s.userAgent,
      })
      .execute();
  }

  /**
   * A completed sign-in in one statement: the session, the user's last sign-in (and grace sign-in
   * count) and the audit events of the step.
   */
  async createForSignin(
    s: { id: string; tokenHash: Buffer; tenantId: string; userId: string; aal: number; methods: string[]; authTime: Date; now: Date; idleTimeoutS: number; expiresAt: Date; ip: string | null; userAgent: string | null },
    o: { inGrace: boolean; events: AuditEvent[] },
  ): Promise<void> {
    await this.db
      .with('s', (d) =>
        d
          .insertInto('sessions')
          .values({ id: s.id, token_hash: s.tokenHash, tenant_id: s.tenantId, user_id: s.userId, aal: s.aal, methods: s.methods, auth_time: s.authTime, created_at: s.now, last_seen_at: s.now, idle_timeout_s: s.idleTimeoutS, expires_at: s.expiresAt, ip: s.ip, user_agent: s.userAgent })
          .returning('id'),
      )
      .with('u', (d) =>
        d
          .updateTable('users')
          .set((eb) => ({
            last_signin_at: s.now,
            grace_signins: o.inGrace ? eb('grace_signins', '+', 1) : eb.ref('grace_signins'),
            grace_started_at: o.inGrace ? eb.fn.coalesce('grace_started_at', eb.val(s.now)) : eb.ref('grace_started_at'),
          }))
          .where('id', '=', s.userId)
          .returning('id'),
      )
      .with('a', (d) => d.insertInto('audit_events').values(o.events.map(auditRow)).returning('id'))
      .selectFrom('s')
      .select('id')
      .execute();
  }

  /**
   * A live session (not revoked, not past its absolute expiry, user active) with its user's roles.
   * With `touchOlderThan`, the same statement records activity on a session last seen before it.
   */
  async lookup(tokenHash: Buffer, now: Date, touchOlderThan?: Date): Promise<SessionRecord | undefined> {
    const r = await sql<{
      id: string; tenant_id: string; user_id: string; aal: number; methods: string[]; auth_time: Date; created_at: Date; last_seen_at: Date; expires_at: Date;
      email: string; roles: string[]; status: string; slug: string; is_platform: boolean; custom: string[] | null;
    }>`
      ${touchOlderThan ? sql`WITH touched AS (UPDATE sessions SET last_seen_at = ${now} WHERE token_hash = ${tokenHash} AND revoked_at IS NULL AND expires_at > ${now}
                               AND last_seen_at < ${touchOlderThan} AND last_seen_at + make_interval(secs => idle_timeout_s) > ${now} RETURNING id)` : sql``}
      SELECT s.id, s.tenant_id, s.user_id, s.aal, s.methods, s.auth_time, s.created_at, s.last_seen_at, s.expires_at,
             u.email, u.roles, u.status, t.slug, t.is_platform,
             (SELECT array_agg(p) FROM roles r, unnest(r.permissions) p WHERE r.tenant_id = u.tenant_id AND r.name = ANY(u.roles)) AS custom
      FROM sessions s JOIN users u ON u.id = s.user_id JOIN tenants t ON t.id = s.tenant_id
      WHERE s.token_hash = ${tokenHash} AND s.revoked_at IS NULL AND s.expires_at > ${now}
        AND s.last_seen_at + make_interval(secs => s.idle_timeout_s) > ${now}
        AND u.status = 'active' AND t.disabled_at IS NULL`.execute(this.db);
    const row = r.rows[0];
    if (!row) return undefined;
    return {
      id: row.id,
      tenantId: row.tenant_id,
      userId: row.user_id,
      aal: row.aal,
      methods: row.methods,
      authTime: row.auth_time,
      createdAt: row.created_at,
      lastSeenAt: row.last_seen_at,
      expiresAt: row.expires_at,
      userEmail: row.email,
      userRoles: row.roles,
      userStatus: row.status,
      tenantSlug: row.slug,
      isPlatform: row.is_platform,
      customPermissions: row.custom ?? [],
    };
  }

  async touch(id: string, now: Date): Promise<void> {
    await this.db.updateTable('sessions').set({ last_seen_at: now }).where('id', '=', id).execute();
  }

  /** Re-authentication: a new token (new session id for the client) and a fresh auth time. */
  async reauthenticate(id: string, newHash: Buffer, methods: string[], aal: number, now: Date): Promise<{ expiresAt: Date; idleTimeoutS: number } | undefined> {
    const r = await this.db
      .updateTable('sessions')
      .set({ token_hash: newHash, auth_time: now, last_seen_at: now, methods, aal })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .returning(['expires_at', 'idle_timeout_s'])
      .executeTakeFirst();
    return r ? { expiresAt: r.expires_at, idleTimeoutS: r.idle_timeout_s } : undefined;
  }

  async revoke(userId: string, id: string, now: Date): Promise<boolean> {
    const r = await this.db.updateTable('sessions').set({ revoked_at: now }).where('user_id', '=', userId).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async revokeAll(userId: string, now: Date, exceptId?: string): Promise<number> {
    let q = this.db.updateTable('sessions').set({ revoked_at: now }).where('user_id', '=', userId).where('revoked_at', 'is', null);
    if (exceptId) q = q.where('id', '!=', exceptId);
    const r = await q.executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  listLive(userId: string, now: Date) {
    return this.db
      .selectFrom('sessions')
      .select(['id', 'aal', 'methods', 'auth_time', 'created_at', 'last_seen_at', 'expires_at', 'ip', 'user_agent'])
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .where(sql<boolean>`last_seen_at + make_interval(secs => idle_timeout_s) > ${now}`)
      .orderBy('created_at', 'desc')
      .execute();
  }
}
