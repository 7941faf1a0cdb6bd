/**
 * Bound authenticators of staff users and customers alike (one table, `credentials`), the shared
 * TOTP replay ledger and recovery codes. Every read and write is scoped by the subject (type and id),
 * so a user's credential is never found through a customer, nor one subject's through another's id;
 * services reach customers only through a tenant-scoped lookup. Pending until confirmed, at most one
 * active credential per subject and kind (a partial unique index); material is an AES-256-GCM
 * envelope bound to the credential id, sealed and opened by the callers.
 */
import { sql, type Selectable } from 'kysely';
import type { Db } from '../db.js';
import type { CredentialsTable, CredentialSubjectType } from '../schema-credentials.js';

export type CredentialRow = Selectable<CredentialsTable>;

/** Whose credential: a staff user (users.id) or a customer (customers.id). */
export interface CredentialSubject {
  type: CredentialSubjectType;
  id: string;
}

export class CredentialRepo {
  constructor(private readonly db: Db) {}

  private scoped(subject: CredentialSubject) {
    return this.db.selectFrom('credentials').selectAll().where('subject_type', '=', subject.type).where('subject_id', '=', subject.id);
  }

  /**
   * Adds a pending credential. With `replacePending`, the subject's earlier unconfirmed ones of the
   * same kind go in the same statement (an abandoned enrollment cannot be confirmed later).
   */
  createPending(c: { id: string; tenantId: string; subject: CredentialSubject; kind: string; label: string; material: Buffer | null; now: Date; replacePending?: boolean }): Promise<CredentialRow> {
    const row = { id: c.id, tenant_id: c.tenantId, subject_type: c.subject.type, subject_id: c.subject.id, kind: c.kind, label: c.label, status: 'pending' as const, material: c.material, created_at: c.now };
    if (!c.replacePending) return this.db.insertInto('credentials').values(row).returningAll().executeTakeFirstOrThrow();
    return this.db
      .with('dropped', (d) =>
        d.deleteFrom('credentials').where('subject_type', '=', c.subject.type).where('subject_id', '=', c.subject.id).where('kind', '=', c.kind).where('status', '=', 'pending'),
      )
      .insertInto('credentials')
      .values(row)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** Moves a pending credential to active; false if it was not pending or the subject already has an active one of this kind. */
  async activate(subject: CredentialSubject, id: string, now: Date): Promise<boolean> {
    try {
      const r = await this.db
        .updateTable('credentials')
        .set({ status: 'active', confirmed_at: now })
        .where('id', '=', id)
        .where('subject_type', '=', subject.type)
        .where('subject_id', '=', subject.id)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    } catch (e) {
      if ((e as { code?: string }).code === '23505') return false;
      throw e;
    }
  }

  byId(subject: CredentialSubject, id: string): Promise<CredentialRow | undefined> {
    return this.scoped(subject).where('id', '=', id).executeTakeFirst();
  }

  active(subject: CredentialSubject, kind: string): Promise<CredentialRow | undefined> {
    return this.scoped(subject).where('kind', '=', kind).where('status', '=', 'active').executeTakeFirst();
  }

  /** Active credential kinds of a subject (no material). */
  async activeKinds(subject: CredentialSubject): Promise<string[]> {
    const rows = await this.db
      .selectFrom('credentials')
      .select('kind')
      .where('subject_type', '=', subject.type)
      .where('subject_id', '=', subject.id)
      .where('status', '=', 'active')
      .orderBy('created_at')
      .execute();
    return rows.map((r) => r.kind);
  }

  /** Active credential kinds of many subjects of one type (no material), for an admin's list; one statement. */
  async activeKindsOf(type: CredentialSubjectType, ids: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (!ids.length) return out;
    const rows = await this.db
      .selectFrom('credentials')
      .select(['subject_id', 'kind'])
      .where('subject_type', '=', type)
      .where('subject_id', 'in', ids)
      .where('status', '=', 'active')
      .orderBy('created_at')
      .execute();
    for (const r of rows) out.set(r.subject_id, [...(out.get(r.subject_id) ?? []), r.kind]);
    return out;
  }

  /** The subject's active (and suspended) credentials, oldest first (no material). */
  list(subject: CredentialSubject) {
    return this.db
      .selectFrom('credentials')
      .select(['id', 'kind', 'label', 'status', 'sign_count', 'meta', 'created_at', 'confirmed_at', 'last_used_at'])
      .where('subject_type', '=', subject.type)
      .where('subject_id', '=', subject.id)
      .where('status', 'in', ['active', 'suspended'])
      .orderBy('created_at')
      .execute();
  }

  /** The subject's security keys (active and suspended): their credential IDs and transports, for allow / exclude lists. */
  async keyRefs(subject: CredentialSubject): Promise<Array<{ id: string; externalId: string; transports: string[]; status: string }>> {
    const rows = await this.db
      .selectFrom('credentials')
      .select(['id', 'external_id', 'meta', 'status'])
      .where('subject_type', '=', subject.type)
      .where('subject_id', '=', subject.id)
      .where('kind', '=', 'webauthn')
      .where('status', 'in', ['active', 'suspended'])
      .orderBy('created_at')
      .execute();
    return rows.map((r) => ({ id: r.id, externalId: String(r.external_id), transports: Array.isArray(r.meta?.transports) ? (r.meta.transports as string[]) : [], status: r.status }));
  }

  /** Renames one of the subject's credentials; false when it is not theirs. */
  async rename(subject: CredentialSubject, id: string, label: string): Promise<boolean> {
    const r = await this.db.updateTable('credentials').set({ label }).where('subject_type', '=', subject.type).where('subject_id', '=', subject.id).where('id', '=', id).where('status', '<>', 'pending').executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Suspends an active credential or resumes a suspended one (an admin's action); the row after, or undefined. */
  setSuspended(subject: CredentialSubject, id: string, suspended: boolean): Promise<CredentialRow | undefined> {
    return this.db
      .updateTable('credentials')
      .set({ status: suspended ? 'suspended' : 'active' })
      .where('subject_type', '=', subject.type)
      .where('subject_id', '=', subject.id)
      .where('id', '=', id)
      .where('status', '=', suspended ? 'active' : 'suspended')
      .returningAll()
      .executeTakeFirst();
  }

  /** Removes one credential (any status) with its recovery codes; the removed row, or undefined. */
  remove(subject: CredentialSubject, id: string): Promise<CredentialRow | undefined> {
    return this.db.deleteFrom('credentials').where('subject_type', '=', subject.type).where('subject_id', '=', subject.id).where('id', '=', id).returningAll().executeTakeFirst();
  }

  /** Removes every credential of this kind (active and pending); returns the removed rows. */
  removeKind(subject: CredentialSubject, kind: string): Promise<CredentialRow[]> {
    return this.db.deleteFrom('credentials').where('subject_type', '=', subject.type).where('subject_id', '=', subject.id).where('kind', '=', kind).returningAll().execute();
  }

  /** Removes every credential of the subject; returns how many. */
  async removeAll(subject: CredentialSubject): Promise<number> {
    const r = await this.db.deleteFrom('credentials').where('subject_type', '=', subject.type).where('subject_id', '=', subject.id).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /**
   * Records a TOTP time step as used by the subject; false when it was used before (atomic: one
   * winner). The ledger is keyed by the subject's id (a user's or a customer's). With a credential
   * id, the same statement stamps that credential's last use (only if it is the subject's).
   */
  async useTotpStep(subject: CredentialSubject, step: number, now: Date, credentialId?: string): Promise<boolean> {
    if (!credentialId) {
      const r = await this.db
        .insertInto('totp_used_steps')
        .values({ subject_id: subject.id, step, used_at: now })
        .onConflict((oc) => oc.doNothing())
        .returning('step')
        .executeTakeFirst();
      return r !== undefined;
    }
    const r = await sql<{ used: number }>`
      WITH used AS (
        INSERT INTO totp_used_steps (subject_id, step, used_at) VALUES (${subject.id}, ${step}, ${now})
        ON CONFLICT DO NOTHING RETURNING step),
      touched AS (
        UPDATE credentials SET last_used_at = ${now}
        WHERE id = ${credentialId} AND subject_type = ${subject.type} AND subject_id = ${subject.id} AND EXISTS (SELECT 1 FROM used) RETURNING id)
      SELECT (SELECT count(*) FROM used)::int AS used, (SELECT count(*) FROM touched)::int AS touched`.execute(this.db);
    return (r.rows[0]?.used ?? 0) === 1;
  }

  /** Replaces the subject's recovery codes (a new active 'recovery_code' credential with its hashed codes), in one transaction. */
  async replaceRecoveryCodes(c: { id: string; tenantId: string; subject: CredentialSubject; hashes: Buffer[]; now: Date }): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('credentials').where('subject_type', '=', c.subject.type).where('subject_id', '=', c.subject.id).where('kind', '=', 'recovery_code').execute();
      await trx
        .insertInto('credentials')
        .values({
          id: c.id,
          tenant_id: c.tenantId,
          subject_type: c.subject.type,
          subject_id: c.subject.id,
          kind: 'recovery_code',
          label: 'Recovery codes',
          status: 'active',
          material: null,
          created_at: c.now,
          confirmed_at: c.now,
        })
        .execute();
      if (c.hashes.length) {
        await trx
          .insertInto('recovery_codes')
          .values(c.hashes.map((h) => ({ credential_id: c.id, subject_id: c.subject.id, code_hash: h, used_at: null })))
          .execute();
      }
    });
  }

  /**
   * Spends one recovery code of the subject's active recovery-code credential and stamps that
   * credential's last use, in one statement (atomic: of parallel spends of one code, one wins).
   * Returns how many codes remain, or null if no unused code matched.
   */
  async consumeRecoveryCode(subject: CredentialSubject, hash: Buffer, now: Date): Promise<number | null> {
    // The outer SELECT reads the statement's snapshot, from before `used` spent the code: hence "- 1".
    const r = await sql<{ left: number }>`
      WITH used AS (
        UPDATE recovery_codes SET used_at = ${now}
        WHERE subject_id = ${subject.id} AND code_hash = ${hash} AND used_at IS NULL
          AND credential_id IN (
            SELECT id FROM credentials
            WHERE subject_type = ${subject.type} AND subject_id = ${subject.id} AND kind = 'recovery_code' AND status = 'active')
        RETURNING credential_id),
      touched AS (
        UPDATE credentials SET last_used_at = ${now} WHERE id IN (SELECT credential_id FROM used) RETURNING id)
      SELECT (SELECT count(*) FROM recovery_codes rc WHERE rc.credential_id = u.credential_id AND rc.used_at IS NULL)::int - 1 AS left
      FROM used u`.execute(this.db);
    const row = r.rows[0];
    return row ? Number(row.left) : null;
  }

  /** Unused recovery codes of the subject's active recovery-code credential. */
  async recoveryCodesLeft(subject: CredentialSubject): Promise<number> {
    const r = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM recovery_codes rc
      JOIN credentials c ON c.id = rc.credential_id
      WHERE rc.subject_id = ${subject.id} AND rc.used_at IS NULL
        AND c.subject_type = ${subject.type} AND c.subject_id = ${subject.id} AND c.kind = 'recovery_code' AND c.status = 'active'`.execute(this.db);
    return Number(r.rows[0]?.n ?? 0);
  }
}
