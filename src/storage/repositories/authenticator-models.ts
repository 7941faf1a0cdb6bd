/** Key models by AAGUID, from an uploaded FIDO MDS BLOB (shared by every tenant). */
import { sql } from 'kysely';
import type { Db } from '../db.js';

export interface ModelRow {
  aaguid: string;
  description: string;
  status: string | null;
  statement: Record<string, unknown>;
  blobNo: number;
  updatedAt: Date;
}

export class AuthenticatorModelRepo {
  constructor(private readonly db: Db) {}

  /** Replaces every model with the BLOB's, in one statement; refused (false) when the BLOB is not newer than the stored one. */
  async replace(blobNo: number, models: Array<Omit<ModelRow, 'blobNo' | 'updatedAt'>>, now: Date): Promise<boolean> {
    const rows = JSON.stringify(models.map((m) => ({ aaguid: m.aaguid, description: m.description, status: m.status, statement: m.statement })));
    const r = await sql<{ ok: boolean }>`
      WITH newer AS (SELECT coalesce((SELECT max(blob_no) FROM authenticator_models), -1) < ${blobNo} AS ok),
           gone AS (DELETE FROM authenticator_models WHERE (SELECT ok FROM newer) RETURNING 1),
           added AS (
             INSERT INTO authenticator_models (aaguid, description, status, statement, blob_no, updated_at)
             SELECT x.aaguid, x.description, x.status, x.statement, ${blobNo}, ${now}
             FROM jsonb_to_recordset(${rows}::jsonb) AS x(aaguid uuid, description text, status text, statement jsonb)
             WHERE (SELECT ok FROM newer) AND (SELECT count(*) FROM gone) >= 0
             ON CONFLICT (aaguid) DO UPDATE SET description = EXCLUDED.description, status = EXCLUDED.status, statement = EXCLUDED.statement, blob_no = EXCLUDED.blob_no, updated_at = EXCLUDED.updated_at
             RETURNING 1)
      SELECT (SELECT ok FROM newer) AS ok, (SELECT count(*) FROM added) AS n`.execute(this.db);
    return r.rows[0]?.ok === true;
  }

  async list(): Promise<ModelRow[]> {
    const rows = await this.db.selectFrom('authenticator_models').selectAll().orderBy('description').execute();
    return rows.map((r) => ({ aaguid: r.aaguid, description: r.description, status: r.status, statement: r.statement, blobNo: r.blob_no, updatedAt: r.updated_at }));
  }

  /** Names of these AAGUIDs (those known). */
  async names(aaguids: string[]): Promise<Map<string, string>> {
    const known = aaguids.filter((a) => /^[0-9a-f-]{36}$/i.test(a));
    if (!known.length) return new Map();
    const rows = await this.db.selectFrom('authenticator_models').select(['aaguid', 'description']).where('aaguid', 'in', known).execute();
    return new Map(rows.map((r) => [r.aaguid, r.description]));
  }
}
