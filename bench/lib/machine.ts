/** What a result was measured on: the machine, and a digest of the source under test. */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { benchDir, cores, round } from './common.js';

/** A digest of src/ (the lead commits; this ties a result to the source it measured). */
export function srcDigest(): { sha256: string; files: number; newest: string } {
  const root = join(benchDir, '..', 'src');
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith('.ts') || e.name.endsWith('.sql')) files.push(join(d, e.name));
    }
  };
  walk(root);
  files.sort();
  const h = createHash('sha256');
  let newest = 0;
  for (const f of files) {
    h.update(f.slice(root.length)).update('\0').update(readFileSync(f)).update('\0');
    newest = Math.max(newest, statSync(f).mtimeMs);
  }
  return { sha256: h.digest('hex').slice(0, 16), files: files.length, newest: new Date(newest).toISOString() };
}

export function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  return {
    nproc: cores,
    cpuModel: /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    kernel: os.release(),
    uvThreadpoolSize: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
  };
}
export type Machine = ReturnType<typeof machine>;
export type SourceDigest = ReturnType<typeof srcDigest>;
