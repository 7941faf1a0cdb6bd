/**
 * A compiled copy of the server for the benchmarks that measure a real process (memory, start-up):
 * `npm start` runs compiled JavaScript (dist/), not TypeScript through tsx, so these benchmarks do too.
 *
 * The current src/ (and bench/lib/server-process.ts) is compiled with the project's tsconfig
 * (transpile only: --noCheck) into a directory under the system temp dir named by the source digest,
 * and reused while src/ does not change. dist/ itself is never touched (others may be building it).
 * The layout mirrors the checkout so that paths resolved from import.meta.url work:
 *
 *   <dir>/out/src/...                compiled src/ (src/cli/main.ts and everything it imports)
 *   <dir>/out/bench/lib/server-process.js
 *   <dir>/out/migrations   -> <repo>/migrations   (src/storage/migrate.ts reads ../../migrations/)
 *   <dir>/out/dist/web     -> <repo>/dist/web     (the console, when built)
 *   <dir>/node_modules     -> <repo>/node_modules
 *   <dir>/package.json        {"type": "module"}
 *   <dir>/callwarden.mjs      what bin/callwarden.js does: main(process.argv) of the compiled CLI
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { benchDir, log, round } from './common.js';
import { srcDigest } from './machine.js';

export const repoDir = join(benchDir, '..');

export interface Build {
  dir: string;
  /** `node <cli> serve` is `callwarden serve`. */
  cli: string;
  /** The benchmarks' server process (bench/lib/server-process.ts, compiled). */
  serverProcess: string;
  /** Seconds spent compiling (0 when reused). */
  compileSeconds: number;
  source: ReturnType<typeof srcDigest>;
}

export function buildServer(): Build {
  const source = srcDigest();
  const entry = join(benchDir, 'lib', 'server-process.ts');
  const key = createHash('sha256').update(source.sha256).update(readFileSync(entry)).digest('hex').slice(0, 16);
  const dir = join(os.tmpdir(), `callwarden-bench-build-${key}`);
  const cli = join(dir, 'callwarden.mjs');
  const serverProcess = join(dir, 'out', 'bench', 'lib', 'server-process.js');
  if (existsSync(cli) && existsSync(serverProcess)) return { dir, cli, serverProcess, compileSeconds: 0, source };

  const t0 = performance.now();
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const out = join(tmp, 'out');
  writeFileSync(
    join(tmp, 'tsconfig.json'),
    JSON.stringify({
      extends: join(repoDir, 'tsconfig.json'),
      compilerOptions: { rootDir: repoDir, outDir: out, noCheck: true, sourceMap: false, incremental: false },
      files: [join(repoDir, 'src', 'cli', 'main.ts'), entry],
      include: [],
    }),
  );
  execFileSync(process.execPath, [join(repoDir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(tmp, 'tsconfig.json')], { stdio: 'inherit' });
  symlinkSync(join(repoDir, 'migrations'), join(out, 'migrations'));
  if (existsSync(join(repoDir, 'dist', 'web'))) {
    mkdirSync(join(out, 'dist'), { recursive: true });
    symlinkSync(join(repoDir, 'dist', 'web'), join(out, 'dist', 'web'));
  }
  symlinkSync(join(repoDir, 'node_modules'), join(tmp, 'node_modules'));
  writeFileSync(join(tmp, 'package.json'), '{ "type": "module", "private": true }\n');
  writeFileSync(
    join(tmp, 'callwarden.mjs'),
    `// bin/callwarden.js for this compiled copy\nimport { main } from './out/src/cli/main.js';\nprocess.exitCode = await main(process.argv);\n`,
  );
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  const compileSeconds = round((performance.now() - t0) / 1000);
  log(`compiled src/ (digest ${source.sha256}) into ${dir} in ${compileSeconds} s`);
  return { dir, cli, serverProcess, compileSeconds, source };
}
