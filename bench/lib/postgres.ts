/** A throw-away PostgreSQL database for one run (created on the admin connection, dropped at the end). */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export async function throwAwayPostgres(adminUrl: string) {
  const name = `cw_bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3000 });
  await admin.connect();
  const version = (await admin.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0]?.v ?? '?';
  await admin.query(`CREATE DATABASE ${name}`);
  return {
    url: adminUrl.replace(/\/[^/]*$/, `/${name}`),
    version,
    /** Backends of this database, and the background processes every database shares. */
    pids: async (): Promise<number[]> =>
      (
        await admin.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity WHERE datname = $1 OR backend_type IN ('walwriter', 'background writer', 'checkpointer', 'autovacuum worker')`,
          [name],
        )
      ).rows.map((r) => r.pid),
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}
export type ThrowAwayPostgres = Awaited<ReturnType<typeof throwAwayPostgres>>;
