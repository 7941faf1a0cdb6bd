/** The verification benchmark's result: written as JSON and printed as tables with notes. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { round } from './common.js';
import type { Machine, SourceDigest } from './machine.js';
import type { StoreKind } from './verification-args.js';
import type { VerificationRunRow } from './verification-load.js';
import type { Step } from './verification-sql.js';

export interface StepSql {
  /** Statements the driver received (BEGIN/COMMIT included). */
  statements: number;
  /** The server's own count (x-sql-statements, dev mode). */
  header: number | null;
  writes: number;
  transactions: number;
  labels: string[];
  /** The statement texts, in order (what the floor replays). */
  texts: string[];
  params: string[][];
}

export interface VerificationResult {
  benchmark: 'verification';
  date: string;
  command: string;
  machine: Machine & { busyBeforeStart: number };
  source: SourceDigest;
  store: { kind: StoreKind; postgresVersion: string | null; pglite: string | null; poolSize: number };
  config: { auditSealing: string; verificationPolicy: Record<string, unknown>; ipAttemptsPerMinute: number };
  workload: { clients: number[]; seconds: number; warmupSeconds: number; prewarmSeconds: number; agents: number; customersPerPool: number; seedSeconds: number };
  sql: { perStep: Record<Step, StepSql>; perFlow: number; writesPerFlow: number; deterministic: boolean; floorMatches: boolean; warnings: string[] };
  customerRead: { sql: string; cpuMsInServer: number | null; note: string };
  runs: VerificationRunRow[];
  comparison: Array<{ clients: number; callwarden: number; floor: number; ratio: number }>;
  goals: { flowsPerSec: { goal: number; best: number; met: boolean | null }; shareOfFloor: { goal: number; best: number; met: boolean | null } };
  audit: { events: number; unsealedAtEnd: number };
}

export function writeResult(file: string, result: VerificationResult): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
}

const pctStr = (x: number) => `${round(x * 100)}%`;

export function printReport(r: VerificationResult): void {
  const out: string[] = [];
  out.push(`\nCallwarden verification benchmark: ${r.store.kind}${r.store.postgresVersion ? ` ${r.store.postgresVersion}` : ''}; ${r.machine.nproc} cores (${r.machine.cpuModel}), node ${r.machine.node}; ${r.date}`);
  out.push(`source: src/ digest ${r.source.sha256} (${r.source.files} files, newest ${r.source.newest}); machine ${round(r.machine.busyBeforeStart * 100)}% busy before the start`);
  out.push(`workload: ${r.workload.agents} agent sessions, ${r.workload.customersPerPool} customers per pool; ${r.workload.seconds} s measured after ${r.workload.warmupSeconds} s warm-up per run`);
  const s = r.sql.perStep;
  out.push(`SQL per flow: ${r.sql.perFlow} statements (start ${s.start.statements}, send ${s.send.statements}, check ${s.check.statements}; BEGIN/COMMIT included), ${r.sql.writesPerFlow} writes; ` +
    `x-sql-statements ${s.start.header}/${s.send.header}/${s.check.header}; same sequence twice: ${r.sql.deterministic}; floor runs the same count: ${r.sql.floorMatches}\n`);
  const head = ['target', 'clients', 'flows/s', 'p50 ms', 'p99 ms', 'start p50/p99', 'send p50/p99', 'read p50/p99', 'check p50/p99', 'errors', 'server CPU ms/flow', 'server cores', 'event loop', 'pg CPU ms/flow', 'client CPU ms/flow', 'machine busy', 'other cores'];
  const f = (p50: number, p99: number) => `${p50.toFixed(1)}/${p99.toFixed(1)}`;
  const rows = r.runs.map((x) => [
    x.target, x.clients, x.flowsPerSec, x.p50Ms, x.p99Ms,
    f(x.stageP50Ms.start, x.stageP99Ms.start), f(x.stageP50Ms.send, x.stageP99Ms.send), f(x.stageP50Ms.read, x.stageP99Ms.read), f(x.stageP50Ms.check, x.stageP99Ms.check),
    x.errors, x.cpu?.serverCpuMsPerFlow ?? '-', x.cpu?.serverCores ?? '-', x.cpu ? pctStr(x.cpu.serverEventLoopUtilization) : '-',
    x.cpu?.postgresCpuMsPerFlow ?? '-', x.cpu?.clientCpuMsPerFlow ?? '-', x.cpu ? pctStr(x.cpu.machineBusy) : '-', x.cpu?.otherProcessesCores ?? '-',
  ].map(String));
  out.push(`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((c) => `| ${c.join(' | ')} |`));
  out.push('');
  for (const c of r.comparison) out.push(`${c.clients} clients: Callwarden ${c.callwarden} flows/s, floor ${c.floor} flows/s -> ${pctStr(c.ratio)} of the floor`);
  const g = r.goals;
  out.push(`goal ${g.flowsPerSec.goal} flows/s${r.store.kind === 'postgres' ? '' : ' (PostgreSQL; informative here)'}: best ${g.flowsPerSec.best} -> ${g.flowsPerSec.met === null ? 'n/a' : g.flowsPerSec.met ? 'met' : 'NOT met'}; ` +
    `goal ${pctStr(g.shareOfFloor.goal)} of the floor: best ${pctStr(g.shareOfFloor.best)} -> ${g.shareOfFloor.met === null ? 'n/a' : g.shareOfFloor.met ? 'met' : 'NOT met'}`);
  for (const x of r.runs) {
    const extra = [
      x.limitStarvedShare ? `limit-starved ${pctStr(x.limitStarvedShare)}` : '',
      `SQL/request under load ${['start', 'send', 'check'].map((k) => x.sqlPerRequestUnderLoad[k as 'start'] ?? '-').map((v) => (typeof v === 'number' ? round(v, 2) : v)).join('/')}`,
      x.cpu ? `server CPU without the customer's reads ${x.cpu.serverCpuMsPerFlowWithoutReads} ms/flow (kernel ${x.cpu.serverSystemCpuMsPerFlow}), main thread ${x.cpu.mainThreadMsPerFlow} ms/flow` : '',
      x.cpu?.postgresCustomerReadCpuMsPerFlow != null ? `pg for the customer's reads ${x.cpu.postgresCustomerReadCpuMsPerFlow} ms/flow` : '',
      Object.keys(x.notes).length ? JSON.stringify(x.notes) : '',
      x.errors ? `errors ${JSON.stringify(x.errorKinds)}` : '',
      x.attempts.length > 1 ? `${x.attempts.length} attempts (other processes: ${x.attempts.map((t) => t.otherProcessesCores).join(', ')} cores), cleanest kept` : '',
    ].filter(Boolean);
    out.push(`${x.target} ${x.clients}: ${extra.join('; ')}`);
  }
  out.push(`audit: ${r.audit.events} events, ${r.audit.unsealedAtEnd} unsealed at the end`);
  for (const step of ['start', 'send', 'check'] as const) out.push(`statements ${step}: [${s[step].labels.join(', ')}]`);
  if (r.sql.warnings.length) out.push(`warnings: ${r.sql.warnings.join('; ')}`);
  console.log(out.join('\n'));
}
