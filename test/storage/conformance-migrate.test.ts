/** Storage conformance, migrations: the same contract on PGlite and PostgreSQL. */
import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openDatabase, type Database } from '../../src/storage/db.js';
import { listMigrations, migrate } from '../../src/storage/migrate.js';
import { backends, createPgDatabase } from '../helpers/db.js';

const BACKENDS = await backends();
const ALL = listMigrations();

async function migrationRows(database: Database): Promise<Array<{ version: number; name: string; n: number }>> {
  const r = await sql<{ version: number; name: string; n: number }>`
    SELECT version, min(name) AS name, count(*)::int AS n FROM schema_migrations GROUP BY version ORDER BY version`.execute(database.db);
  return r.rows;
}

describe.each(BACKENDS)('migrations on %s', (backend) => {
  /** A fresh, empty database on this backend; `done` closes (and drops) it. */
  async function fresh(): Promise<{ database: Database; url?: string; done: () => Promise<void> }> {
    if (backend === 'pglite') {
      const database = await openDatabase({});
      return { database, done: () => database.close() };
    }
    const { url, drop } = await createPgDatabase();
    const database = await openDatabase({ url, poolSize: 2 });
    return {
      database,
      url,
      done: async () => {
        await database.close();
        await drop();
      },
    };
  }

  it('applies every migration once, and nothing the second time', async () => {
    expect(ALL.length).toBeGreaterThan(0);
    const { database, done } = await fresh();
    try {
      expect(await migrate(database.db)).toEqual(ALL.map((m) => m.name));
      expect(await migrate(database.db)).toEqual([]);
      expect(await migrationRows(database)).toEqual(ALL.map((m) => ({ version: m.version, name: m.name, n: 1 })));
      // the schema is really there
      const t = await sql<{ n: number }>`SELECT count(*)::int AS n FROM tenants`.execute(database.db);
      expect(t.rows[0]?.n).toBe(0);
    } finally {
      await done();
    }
  });

  it('refuses a migration that was changed after it was applied', async () => {
    const { database, done } = await fresh();
    try {
      await migrate(database.db);
      const first = ALL[0]!;
      const edited = [{ ...first, checksum: 'f'.repeat(64) }, ...ALL.slice(1)];
      await expect(migrate(database.db, edited)).rejects.toThrow(/changed after it was applied/);
      // the advisory lock was released: a normal run still goes through
      expect(await migrate(database.db)).toEqual([]);
    } finally {
      await done();
    }
  });

  it.runIf(backend === 'postgres')('4 instances migrating a fresh database together apply each migration exactly once', async () => {
    const { url, drop } = await createPgDatabase();
    const handles = await Promise.all([0, 1, 2, 3].map(() => openDatabase({ url, poolSize: 2 })));
    try {
      const ran = await Promise.all(handles.map((h) => migrate(h.db)));
      // every migration was applied by exactly one of the instances
      expect(ran.flat().sort()).toEqual(ALL.map((m) => m.name).sort());
      for (const h of handles) expect(await migrate(h.db)).toEqual([]);
      expect(await migrationRows(handles[0]!)).toEqual(ALL.map((m) => ({ version: m.version, name: m.name, n: 1 })));
    } finally {
      await Promise.all(handles.map((h) => h.close()));
      await drop();
    }
  });
});
