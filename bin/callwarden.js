#!/usr/bin/env node
// Entry point of the `callwarden` command: runs the compiled CLI (built by `npm install` / `npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const compiled = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
if (!existsSync(compiled)) {
  console.error('callwarden: not built yet; run `npm install` (or `npm run build`) first');
  process.exit(1);
}
const { main } = await import(compiled);
process.exitCode = await main(process.argv);
