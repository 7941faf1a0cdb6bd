/**
 * A pg-Pool-shaped adapter over one PGlite instance, so Kysely's PostgresDialect drives the embedded
 * store exactly as it drives PostgreSQL. PGlite is a single connection: `connect()` hands it to one
 * holder at a time (a FIFO mutex), which keeps transactions from interleaving.
 */
import type { PGlite } from '@electric-sql/pglite';

interface PoolClient {
  query(sql: string, params: unknown[]): Promise<{ rows: any[]; rowCount: number; command: 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE' | 'MERGE' }>;
  release(): void;
}

export class PGlitePool {
  #queue: Array<() => void> = [];
  #busy = false;
  constructor(readonly pg: PGlite) {}

  async connect(): Promise<PoolClient> {
    if (this.#busy) await new Promise<void>((resolve) => this.#queue.push(resolve));
    this.#busy = true;
    let released = false;
    return {
      query: async (sql, params) => {
        // Without parameters use the simple protocol, which also runs multi-statement scripts (migrations).
        const result = params.length === 0 ? ((await this.pg.exec(sql)).at(-1) ?? { rows: [], affectedRows: 0 }) : await this.pg.query(sql, params);
        const command = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? '';
        return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length, command: (command === 'WITH' ? 'UPDATE' : command) as 'SELECT' };
      },
      release: () => {
        if (released) return;
        released = true;
        const next = this.#queue.shift();
        if (next) next();
        else this.#busy = false;
      },
    };
  }

  async end(): Promise<void> {
    await this.pg.close();
  }
}
