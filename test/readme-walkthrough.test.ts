/**
 * Runs the README's walkthrough block with bash against a real server on a free port, so the README
 * stays true. Needs curl, jq and oathtool (CI installs them; elsewhere the test is skipped without them).
 */
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { startServer, type Running } from '../src/server.js';

const tools = ['curl', 'jq', 'oathtool'];
const missing = tools.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
if (missing.length && process.env.CI === 'true') throw new Error(`CI needs ${missing.join(', ')} for the README walkthrough`);

function walkthroughScript(): string {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const block = /<!-- walkthrough:start -->\s*```bash\n([\s\S]*?)```\s*<!-- walkthrough:end -->/.exec(readme);
  if (!block?.[1]) throw new Error('README has no walkthrough block');
  return block[1];
}

function startCommandEnv(): Record<string, string> {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const env: Record<string, string> = {};
  for (const m of readme.matchAll(/^(CALLWARDEN_BOOTSTRAP_ADMIN_\w+)=('([^']*)'|(\S+))/gm)) env[m[1]!] = m[3] ?? m[4]!;
  return env;
}

describe.skipIf(missing.length > 0)('README walkthrough', () => {
  let running: Running | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'cw-readme-'));
  afterAll(async () => {
    await running?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs from bootstrap to a TOTP sign-in exactly as written', async () => {
    const env = startCommandEnv();
    expect(env.CALLWARDEN_BOOTSTRAP_ADMIN_EMAIL).toBe('ops@example.com');
    running = await startServer(loadConfig({ ...env, CALLWARDEN_DATA_DIR: dir, PORT: '0', CALLWARDEN_LOG_LEVEL: 'silent' }));
    // async: the server runs in this process, so the event loop must stay free while bash runs
    const { stdout: out } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', walkthroughScript()], { env: { ...process.env, BASE: running.url }, encoding: 'utf8', timeout: 60_000 });
    const lines = out.trim().split('\n');
    expect(lines[0]).toBe('{"tenant":"acme","admin":"lee@acme.example","status":"invited"}');
    expect(lines).toContain('{"state":"enroll"}');
    expect(lines).toContain('{"state":"completed","aal":2,"recoveryCodes":10}');
    expect(lines).toContain('{"state":"second_factor","options":["totp","recovery_code"]}');
    expect(lines.at(-1)).toBe('{"email":"lee@acme.example","tenant":"acme","roles":["tenant_admin"],"aal":2,"methods":["pwd","totp"]}');
  });
});
