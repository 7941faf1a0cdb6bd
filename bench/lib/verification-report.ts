/** The verification benchmark's result: written as JSON and printed as tables with notes. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { round } from './common.js';
import type { Machine, SourceDigest } from './machine.js';
import type { StoreKind } from './verification-args.js';
import type { VerificationRunRow } from './verification-load.js';
import type { Step } from './verification-sql.js';

/** One Callwarden request's statements as the driver received them (one recorded flow). */
export interface StepSql {
  /** Statements the driver received (BEGIN/COMMIT included). */
  statements: number;
  /** The server's own count (x-sql-statements, dev mode). */
  header: number | null;
  writes: number;
  commits: number;
  labels: string[];
}

/** The floor's self-check before the load (bench/verification.ts checkFloor) and its x-sql-statements per step. */
export interface FloorCheck {
  passed: boolean;
  statements: Record<Step, number>;
}

type SqlStat = { mean: number; max: number; samples: number } | null;

export interface VerificationResult {
  benchmark: 'verification';
  date: string;
  command: string;
  machine: Machine & { busyBeforeStart: number };
  source: SourceDigest;
  store: { kind: StoreKind; postgresVersion: string | null; pglite: string | null; poolSize: number };
  floor: { what: string; postgresVersion: string; poolSize: number; check: FloorCheck };
  config: { auditSealing: string; verificationPolicy: Record<string, unknown>; ipAttemptsPerMinute: number; customerRead: 'db' | 'api' };
  workload: { clients: number[]; seconds: number; warmupSeconds: number; prewarmSeconds: number; agents: number; customersPerPool: number; seedSeconds: number };
  sql: { perStep: Record<Step, StepSql> | null; perFlow: number | null; deterministic: boolean | null; warnings: string[] };
  customerRead: { sql: string; cpuMsInServer: number | null; note: string };
  runs: VerificationRunRow[];
  comparison: Array<{
    clients: number;
    callwarden: number;
    floor: number;
    /** Callwarden flows/s / floor flows/s, same run. */
    ratio: number;
    /** Flows completed inside each window (a ratio from a few flows is noise). */
    callwardenFlows: number;
    floorFlows: number;
    callwardenP50Ms: number;
    callwardenP99Ms: number;
    floorP50Ms: number;
    floorP99Ms: number;
    callwardenSqlPerRequest: SqlStat;
    floorSqlPerRequest: SqlStat;
  }>;
  goals: { shareOfFloor: { goal: number; best: number; met: boolean | null }; sqlPerRequestMax: { goal: number; worst: number | null; met: boolean | null } };
  audit: { events: number; unsealedAtEnd: number } | null;
}

export function writeResult(file: string, result: VerificationResult): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
}

const pctStr = (x: number) => `${round(x * 100)}%`;
const sqlStr = (x: SqlStat) => (x ? `mean ${round(x.mean, 2)}, max ${x.max}` : 'no header');

export function printReport(r: VerificationResult): void {
  const out: string[] = [];
  out.push(`\nCallwarden verification benchmark: ${r.store.kind}${r.store.postgresVersion ? ` ${r.store.postgresVersion}` : ''}; floor on PostgreSQL ${r.floor.postgresVersion}; ${r.machine.nproc} cores (${r.machine.cpuModel}), node ${r.machine.node}; ${r.date}`);
  out.push(`source: src/ digest ${r.source.sha256} (${r.source.files} files, newest ${r.source.newest}); machine ${round(r.machine.busyBeforeStart * 100)}% busy before the start`);
  out.push(`workload: ${r.workload.agents} agent sessions, ${r.workload.customersPerPool} customers per pool; ${r.workload.seconds} s measured after ${r.workload.warmupSeconds} s warm-up per run; customer reads Callwarden's code via ${r.config.customerRead === 'db' ? 'its outbox row' : 'the dev outbox API'}`);
  out.push(`floor: ${r.floor.what}; self-check ${r.floor.check.passed ? 'passed' : 'FAILED'}; x-sql-statements ${r.floor.check.statements.start}/${r.floor.check.statements.send}/${r.floor.check.statements.check}`);
  const s = r.sql.perStep;
  if (s) {
    out.push(`Callwarden SQL per flow (one recorded flow, at the driver): ${r.sql.perFlow} statements (start ${s.start.statements}, send ${s.send.statements}, check ${s.check.statements}; BEGIN/COMMIT included), ` +
      `${s.start.commits + s.send.commits + s.check.commits} explicit commits; x-sql-statements ${s.start.header}/${s.send.header}/${s.check.header}; same sequence twice: ${r.sql.deterministic}`);
  }
  out.push('');
  const head = ['target', 'clients', 'flows/s', 'p50 ms', 'p99 ms', 'start p50/p99', 'send p50/p99', 'read p50/p99', 'check p50/p99', 'SQL/request mean (max)', 'errors', 'server CPU ms/flow', 'server cores', 'event loop', 'pg CPU ms/flow', 'client CPU ms/flow', 'machine busy', 'other cores'];
  const f = (p50: number, p99: number) => `${p50.toFixed(1)}/${p99.toFixed(1)}`;
  const rows = r.runs.map((x) => [
    x.target, x.clients, x.flowsPerSec, x.p50Ms, x.p99Ms,
    f(x.stageP50Ms.start, x.stageP99Ms.start), f(x.stageP50Ms.send, x.stageP99Ms.send), f(x.stageP50Ms.read, x.stageP99Ms.read), f(x.stageP50Ms.check, x.stageP99Ms.check),
    x.sqlPerRequest ? `${round(x.sqlPerRequest.mean, 2)} (${x.sqlPerRequest.max})` : '-',
    x.errors, x.cpu?.serverCpuMsPerFlow ?? '-', x.cpu?.serverCores ?? '-', x.cpu ? pctStr(x.cpu.serverEventLoopUtilization) : '-',
    x.cpu?.postgresCpuMsPerFlow ?? '-', x.cpu?.clientCpuMsPerFlow ?? '-', x.cpu ? pctStr(x.cpu.machineBusy) : '-', x.cpu?.otherProcessesCores ?? '-',
  ].map(String));
  out.push(`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((c) => `| ${c.join(' | ')} |`));
  out.push('');
  for (const c of r.comparison) {
    out.push(`${c.clients} clients: Callwarden ${c.callwarden} flows/s (${c.callwardenFlows} flows; p50 ${c.callwardenP50Ms}, p99 ${c.callwardenP99Ms} ms), floor ${c.floor} flows/s (${c.floorFlows} flows; p50 ${c.floorP50Ms}, p99 ${c.floorP99Ms} ms) -> Callwarden / floor ${pctStr(c.ratio)}; ` +
      `Callwarden x-sql-statements per verification request ${sqlStr(c.callwardenSqlPerRequest)}`);
  }
  const g = r.goals;
  out.push(`goal ${pctStr(g.shareOfFloor.goal)} of the floor (PostgreSQL): best ${pctStr(g.shareOfFloor.best)} -> ${g.shareOfFloor.met === null ? 'n/a' : g.shareOfFloor.met ? 'met' : 'NOT met'}; ` +
    `goal <= ${g.sqlPerRequestMax.goal} statements per request under load: worst ${g.sqlPerRequestMax.worst ?? '-'} -> ${g.sqlPerRequestMax.met === null ? 'n/a' : g.sqlPerRequestMax.met ? 'met' : 'NOT met'}`);
  for (const x of r.runs) {
    const per = x.sqlPerRequestUnderLoad;
    const extra = [
      x.limitStarvedShare ? `limit-starved ${pctStr(x.limitStarvedShare)}` : '',
      `x-sql-statements start/send/check ${(['start', 'send', 'check'] as const).map((k) => (per[k] ? `${round(per[k]!.mean, 2)} (max ${per[k]!.max})` : '-')).join(' / ')}`,
      x.cpu ? `server CPU without the customer's reads ${x.cpu.serverCpuMsPerFlowWithoutReads} ms/flow (kernel ${x.cpu.serverSystemCpuMsPerFlow}), main thread ${x.cpu.mainThreadMsPerFlow} ms/flow` : '',
      x.cpu?.postgresCustomerReadCpuMsPerFlow != null ? `pg for the customer's reads ${x.cpu.postgresCustomerReadCpuMsPerFlow} ms/flow` : '',
      Object.keys(x.notes).length ? JSON.stringify(x.notes) : '',
      x.errors ? `errors ${JSON.stringify(x.errorKinds)}` : '',
      x.attempts.length > 1 ? `${x.attempts.length} attempts (other processes: ${x.attempts.map((t) => t.otherProcessesCores).join(', ')} cores), cleanest kept` : '',
    ].filter(Boolean);
    out.push(`${x.target} ${x.clients}: ${extra.join('; ')}`);
  }
  if (r.audit) out.push(`Callwarden audit: ${r.audit.events} events, ${r.audit.unsealedAtEnd} unsealed at the end`);
  if (s) for (const step of ['start', 'send', 'check'] as const) out.push(`Callwarden statements ${step}: [${s[step].labels.join(', ')}]`);
  if (r.sql.warnings.length) out.push(`warnings: ${r.sql.warnings.join('; ')}`);
  console.log(out.join('\n'));
}
