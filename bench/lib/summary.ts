/** JSON output and the runner's summary table (bench/run.ts). */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname } from 'node:path';
import { round } from './common.js';

export function writeJson(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
}

/** One line of the summary: a measured figure beside its floor or peer (measured in the same run) and their ratio. */
export interface SummaryRow {
  /** (a)-(f) */
  id: string;
  benchmark: string;
  figure: string;
  /** The floor or peer, or the other side of the comparison ("-" when there is none). */
  reference: string;
  /** What the ratio is (e.g. "of floor", "1M/1k"); null when there is no ratio. */
  ratio: number | null;
  ratioLabel: string;
  /** percent: 81% of the floor; times: 1.05x */
  ratioStyle: 'percent' | 'times';
  note?: string;
}

/** The load average (1, 5, 15 min) and the share of the machine busy, for the record. */
export const loadAverage = () => os.loadavg().map((x) => round(x, 2));

export function formatTable(rows: SummaryRow[]): string {
  const head = ['', 'benchmark', 'figure', 'floor / peer', 'ratio'];
  const cells = rows.map((r) => [r.id, r.benchmark, r.figure, r.reference, r.ratio === null ? '-' : `${formatRatio(r.ratio, r.ratioStyle)} ${r.ratioLabel}`.trim()]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}

export const formatRatio = (r: number, style: SummaryRow['ratioStyle']) => (style === 'percent' ? `${round(r * 100)}%` : `${round(r, 2)}x`);
