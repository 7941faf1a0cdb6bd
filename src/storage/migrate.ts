/**
 * Applies the numbered SQL files in migrations/ once each, in order, under a PostgreSQL advisory lock
 * so that several instances starting together run them exactly once.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import type { Db } from './db.js';

const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));
const LOCK_KEY = 0x63616c6c; // "call"

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export function listMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f))
    .sort()
    .map((file) => {
      const text = readFileSync(dir + file, 'utf8');
      return {
        version: Number(file.slice(0, 4)),
        name: file.replace(/\.sql$/, ''),
        sql: text,
        checksum: createHash('sha256').update(text).digest('hex'),
      };
    });
}

/** Returns the names of the migrations it applied (empty when the store was up to date). */
export async function migrate(db: Db, migrations = listMigrations()): Promise<string[]> {
  return db.connection().execute(async (conn) => {
    await sql`SELECT pg_advisory_lock(${LOCK_KEY})`.execute(conn);
    try {
      await sql`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`.execute(conn);
      const done = await sql<{ version: number; checksum: string; name: string }>`SELECT version, checksum, name FROM schema_migrations`.execute(conn);
      const applied = new Map(done.rows.map((r) => [r.version, r]));
      const ran: string[] = [];
      for (const m of migrations) {
        const prior = applied.get(m.version);
        if (prior) {
          if (prior.checksum !== m.checksum) throw new Error(`migration ${m.name} was changed after it was applied`);
          continue;
        }
        await conn.transaction().execute(async (trx) => {
          await sql.raw(m.sql).execute(trx);
          await sql`INSERT INTO schema_migrations (version, name, checksum) VALUES (${m.version}, ${m.name}, ${m.checksum})`.execute(trx);
        });
        ran.push(m.name);
      }
      return ran;
    } finally {
      await sql`SELECT pg_advisory_unlock(${LOCK_KEY})`.execute(conn);
    }
  });
}
