/**
 * CPU sampling: this process (user + system, event-loop utilisation), the whole machine
 * (/proc/stat) and every process named postgres (/proc/<pid>/stat), plus waiting for a quiet machine.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { log, round } from './common.js';

/** Busy and total jiffies of the whole machine (/proc/stat). */
export function machineTicks(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - (f[3] ?? 0) - (f[4] ?? 0), total };
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU jiffies of every process named postgres (server, backends, background workers). */
function postgresTicks(): Map<number, number> {
  const out = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() !== 'postgres') continue;
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(d), Number(f[11]) + Number(f[12]));
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

export interface Sample {
  at: number;
  cpu: NodeJS.CpuUsage;
  elu: EventLoopUtilization;
  machine: { busy: number; total: number };
  pg: Map<number, number>;
}
/** A snapshot of this process, the machine and (when `withPostgres`) the postgres processes. */
export const sample = (withPostgres: boolean): Sample => ({
  at: performance.now(),
  cpu: process.cpuUsage(),
  elu: performance.eventLoopUtilization(),
  machine: machineTicks(),
  pg: withPostgres ? postgresTicks() : new Map(),
});

/** CPU of PostgreSQL processes between two samples: those in `pids` (this database's backends and the shared background writers). */
export function delta(a: Sample, b: Sample, pids?: Set<number>) {
  let pgTicks = 0;
  for (const [pid, t] of b.pg) if (!pids || pids.has(pid)) pgTicks += t - (a.pg.get(pid) ?? 0);
  return {
    wallMs: b.at - a.at,
    serverCpuMs: (b.cpu.user - a.cpu.user + b.cpu.system - a.cpu.system) / 1000,
    /** The kernel's part of it (system calls: socket reads and writes, epoll, ...). */
    serverSystemCpuMs: (b.cpu.system - a.cpu.system) / 1000,
    eventLoopUtilization: performance.eventLoopUtilization(b.elu, a.elu).utilization,
    machineBusy: (b.machine.busy - a.machine.busy) / Math.max(1, b.machine.total - a.machine.total),
    postgresCpuMs: (pgTicks * 1000) / CLK_TCK,
  };
}
export type Delta = ReturnType<typeof delta>;

/** Share of the machine busy over `ms` (other processes included). */
async function busyShare(ms = 1000): Promise<number> {
  const a = machineTicks();
  await new Promise((r) => setTimeout(r, ms));
  const b = machineTicks();
  return (b.busy - a.busy) / Math.max(1, b.total - a.total);
}

/** Waits (up to `seconds`) for the machine to be quiet; returns the last busy share seen. */
export async function waitForIdle(seconds: number): Promise<number> {
  const until = performance.now() + seconds * 1000;
  let busy = await busyShare();
  while (busy >= 0.1 && performance.now() < until) {
    log(`machine ${round(busy * 100)}% busy before the start; waiting for it to be idle`);
    busy = await busyShare(2000);
  }
  if (busy >= 0.1) log(`warning: machine ${round(busy * 100)}% busy before the start (other processes); figures will be low`);
  return busy;
}
