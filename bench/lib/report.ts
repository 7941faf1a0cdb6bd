/** The result of a run: written as JSON and printed as a table with notes. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Argon2Params } from '../../src/crypto/password-hash.js';
import type { StoreKind } from './argv.js';
import { round } from './common.js';
import type { Floor } from './floor.js';
import type { RunRow } from './load.js';
import type { Machine, SourceDigest } from './machine.js';
import type { SqlPerLogin } from './sql-count.js';

export interface BenchResult {
  benchmark: 'signin';
  date: string;
  command: string;
  machine: Machine & { busyBeforeStart: number };
  source: SourceDigest;
  store: { kind: StoreKind; postgresVersion: string | null; pglite: string | null };
  config: { argon2: Argon2Params; auditSealIntervalMs: number; ipAttemptsPerMinute: number; identifierAttemptsPerMinute: number; flowAttemptBudget: number };
  workload: { users: number; usersAuto: boolean; clients: number[]; seconds: number; warmupSeconds: number; totpMarginSeconds: number; seedSeconds: number };
  argon2Floor: Floor;
  sqlPerLogin: SqlPerLogin;
  runs: RunRow[];
  audit: { events: number; unsealedAtEnd: number };
}

export function writeResult(file: string, result: BenchResult): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
}

export function printReport(r: BenchResult): void {
  const f = r.argon2Floor;
  const out: string[] = [];
  out.push(`\nCallwarden sign-in benchmark: ${r.store.kind}${r.store.postgresVersion ? ` ${r.store.postgresVersion}` : ''}; ${r.machine.nproc} cores (${r.machine.cpuModel}), node ${r.machine.node}`);
  out.push(`argon2id m=${f.params.memoryKib} KiB t=${f.params.iterations} p=${f.params.parallelism}: one verify ${f.singleVerifyMs.median} ms (median of ${f.singleVerifyMs.samples}); ` +
    `floor ${r.machine.nproc} cores / t1 = ${f.theoreticalPerSec}/s; measured ${f.concurrent.map((c) => `${c.verifiesPerSec}/s with ${c.inFlight} in flight (p99 ${c.p99Ms} ms)`).join(', ')}`);
  out.push(`SQL per login: ${r.sqlPerLogin.total} statements (start ${r.sqlPerLogin.perStep.flows}, password ${r.sqlPerLogin.perStep.password}, factor ${r.sqlPerLogin.perStep.factor}); ${r.sqlPerLogin.writes} writes, no explicit transactions`);
  out.push(`source: src/ digest ${r.source.sha256} (${r.source.files} files, newest ${r.source.newest})`);
  out.push(`users in the load pool: ${r.workload.users}; machine ${round(r.machine.busyBeforeStart * 100)}% busy before the start\n`);
  const head = ['clients', 'logins/s', 'p50 ms', 'p99 ms', 'vs measured floor', 'vs cores/t1', 'errors', 'server CPU ms/login', 'server cores', 'event loop', 'client CPU ms/login', 'pg CPU ms/login', 'machine busy', 'other procs (cores)'];
  const rows = r.runs.map((x) => [
    x.clients, x.loginsPerSec, x.p50Ms, x.p99Ms, `${round(x.shareOfMeasuredFloor * 100)}%`, `${round(x.shareOfTheoreticalFloor * 100)}%`, x.errors,
    x.cpu?.serverCpuMsPerLogin ?? '-', x.cpu?.serverCores ?? '-', x.cpu ? `${round(x.cpu.serverEventLoopUtilization * 100)}%` : '-', x.cpu?.clientCpuMsPerLogin ?? '-',
    x.cpu?.postgresCpuMsPerLogin ?? '-', x.cpu ? `${round(x.cpu.machineBusy * 100)}%` : '-', x.cpu?.otherProcessesCores ?? '-',
  ].map(String));
  out.push(`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((c) => `| ${c.join(' | ')} |`));
  out.push('');
  for (const x of r.runs) {
    out.push(`${x.clients} clients: step p50 flows/password/factor ${x.stepP50Ms.flows.toFixed(1)}/${x.stepP50Ms.password.toFixed(1)}/${x.stepP50Ms.factor.toFixed(1)} ms; ` +
      `ledger-starved ${round(x.ledgerStarvedShare * 100)}% of client time; TOTP steps used prev/current/next ${x.totpStepsUsed.previous}/${x.totpStepsUsed.current}/${x.totpStepsUsed.next}` +
      (x.sqlPerLoginUnderLoad !== null ? `; ${x.sqlPerLoginUnderLoad} SQL statements per login (x-sql-statements)` : '') +
      (x.cpu ? `; server CPU besides argon2 ${x.cpu.serverNonArgonCpuMsPerLogin} ms/login (in the kernel ${x.cpu.serverSystemCpuMsPerLogin}), main thread busy ${x.cpu.mainThreadMsPerLogin} ms/login` : '') +
      (x.errors ? `; errors ${JSON.stringify(x.errorKinds)}` : '') +
      (x.attempts.length > 1 ? `; ${x.attempts.length} attempts (other processes: ${x.attempts.map((t) => t.otherProcessesCores).join(', ')} cores), cleanest kept` : ''));
  }
  out.push(`audit: ${r.audit.events} events, ${r.audit.unsealedAtEnd} unsealed when the load stopped`);
  out.push(`statements: start [${r.sqlPerLogin.statements.flows.join(', ')}]`);
  out.push(`            password [${r.sqlPerLogin.statements.password.join(', ')}]`);
  out.push(`            factor [${r.sqlPerLogin.statements.factor.join(', ')}]`);
  console.log(out.join('\n'));
}
