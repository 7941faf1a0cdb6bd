/**
 * The contract between the runner (bench/run.ts) and the peer benchmark bench/peers/better-auth/run.ts
 * (another engineer's module; see its README): the runner imports it and awaits its exported
 * `run(opts)`, which resolves with `{ rows, json }`. The runner writes `json` (with the rows) to
 * bench/results/peer-better-auth.json, keeps it in latest.json (stages[b].results.peer) and turns the
 * rows into lines of the summary table. Declared here structurally (a subset of the peer's own
 * RunOptions and Row), so that the runner type-checks whether or not the peer's folder exists.
 */
export interface PeerRunOptions {
  /** Short windows and fewer users. */
  quick?: boolean;
  /** Admin connection of the PostgreSQL server (the peer creates and drops throw-away databases on it). */
  pgUrl?: string;
  /** Client counts (the peer's default: 8 and 16, as bench/signin.ts). */
  clients?: number[];
  /** Seconds of each measured window. */
  durationS?: number;
  warmupS?: number;
  /** Better Auth users to sign up. */
  users?: number;
  waitIdleS?: number;
  retries?: number;
}

export interface PeerRow {
  name: string;
  value: number;
  unit: string;
  /** The argon2id floor (verifies/s) the row is measured against. */
  floor?: number;
  /** Throughput rows: value / floor. Comparison rows (unit "x"): Callwarden / Better Auth. */
  ratio?: number;
  note?: string;
}

export interface PeerResult {
  rows: PeerRow[];
  json: unknown;
}
