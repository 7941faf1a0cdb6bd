/** Configuration: defaults, every mistake refused naming its variable, the dev key, and the docs. */
import { mkdtempSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { options } from '../../src/config/defaults.js';
import { ConfigError, loadConfig } from '../../src/config/load.js';

const MEM = { CALLWARDEN_DATA_DIR: 'memory:' };
const KEY = randomBytes(32).toString('base64');

function refusal(env: Record<string, string>): ConfigError {
  try {
    loadConfig({ ...MEM, ...env });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

describe('loadConfig defaults', () => {
  it('starts in dev mode with the documented defaults', () => {
    const c = loadConfig(MEM);
    expect(c).toMatchObject({
      mode: 'dev',
      host: '127.0.0.1',
      port: 3000,
      databaseUrl: '',
      redisUrl: '',
      argon2MemoryKib: 19456,
      argon2Iterations: 2,
      argon2Parallelism: 1,
      logLevel: 'info',
      trustProxy: false,
      devOutboxApi: true,
      publicUrl: 'http://127.0.0.1:3000',
      generatedKey: true,
    });
    expect(c.encryptionKey).toHaveLength(32);
  });

  it('does not read process.env when given an env object', () => {
    const before = process.env.PORT;
    process.env.PORT = 'abc';
    try {
      expect(loadConfig(MEM).port).toBe(3000);
    } finally {
      if (before === undefined) delete process.env.PORT;
      else process.env.PORT = before;
    }
  });

  it('parses given values', () => {
    const c = loadConfig({ ...MEM, PORT: '8080', CALLWARDEN_TRUST_PROXY: 'yes', CALLWARDEN_PUBLIC_URL: 'https://mfa.example.com/', DATABASE_URL: 'postgresql://u@db/cw', REDIS_URL: 'rediss://cache:6380' });
    expect(loadConfig({ ...MEM, PORT: ' 0 ' }).port).toBe(0);
    expect(c).toMatchObject({ port: 8080, trustProxy: true, publicUrl: 'https://mfa.example.com', databaseUrl: 'postgresql://u@db/cw', redisUrl: 'rediss://cache:6380' });
  });

  it('production with a key: the key is used, the outbox API is off', () => {
    const c = loadConfig({ ...MEM, CALLWARDEN_MODE: 'production', CALLWARDEN_ENCRYPTION_KEY: KEY });
    expect(c.encryptionKey.equals(Buffer.from(KEY, 'base64'))).toBe(true);
    expect(c.generatedKey).toBe(false);
    expect(c.devOutboxApi).toBe(false);
  });
});

describe('loadConfig refuses invalid values, naming the variable', () => {
  const cases: Array<[string, string]> = [
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', ''], // an empty value is not port 0 (a random port)
    ['PORT', '0x50'],
    ['CALLWARDEN_AUDIT_SEAL_INTERVAL_MS', ''], // would silently turn background sealing off
    ['CALLWARDEN_FLOW_ATTEMPTS', '2.5'],
    ['DATABASE_URL', 'mysql://x'],
    ['CALLWARDEN_MODE', 'prod'],
    ['CALLWARDEN_ENCRYPTION_KEY', randomBytes(16).toString('base64')],
    ['REDIS_URL', 'http://x'],
    ['CALLWARDEN_ARGON2_MEMORY_KIB', '10'],
    ['CALLWARDEN_ARGON2_ITERATIONS', '0'],
    ['CALLWARDEN_LOG_LEVEL', 'verbose'],
    ['CALLWARDEN_TRUST_PROXY', 'maybe'],
    ['CALLWARDEN_PUBLIC_URL', 'not a url'],
    ['CALLWARDEN_BOOTSTRAP_ADMIN_EMAIL', 'root'],
  ];
  it.each(cases)('%s=%s', (variable, value) => {
    const e = refusal({ [variable]: value });
    expect(e.variable).toBe(variable);
    expect(e.message).toContain(variable);
  });

  it('production without a key names CALLWARDEN_ENCRYPTION_KEY', () => {
    const e = refusal({ CALLWARDEN_MODE: 'production' });
    expect(e.variable).toBe('CALLWARDEN_ENCRYPTION_KEY');
    expect(e.message).toContain('CALLWARDEN_ENCRYPTION_KEY');
  });

  it('a bootstrap email without a password is refused', () => {
    const e = refusal({ CALLWARDEN_BOOTSTRAP_ADMIN_EMAIL: 'ops@example.com' });
    expect(e.variable).toBe('CALLWARDEN_BOOTSTRAP_ADMIN_PASSWORD');
    expect(loadConfig({ ...MEM, CALLWARDEN_BOOTSTRAP_ADMIN_EMAIL: 'ops@example.com', CALLWARDEN_BOOTSTRAP_ADMIN_PASSWORD: 'a long enough passphrase' }).bootstrapAdminEmail).toBe('ops@example.com');
  });
});

describe('the dev encryption key', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'cw-config-'));
    dirs.push(d);
    return d;
  };

  it('is generated once in the data directory (mode 0600) and reused', () => {
    const dir = join(tempDir(), 'data');
    const first = loadConfig({ CALLWARDEN_DATA_DIR: dir });
    const file = join(dir, 'dev-encryption.key');
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64').equals(first.encryptionKey)).toBe(true);
    const second = loadConfig({ CALLWARDEN_DATA_DIR: dir });
    expect(second.encryptionKey.equals(first.encryptionKey)).toBe(true);
    expect(second.generatedKey).toBe(true);
  });

  it('differs between data directories and is not written for memory:', () => {
    expect(loadConfig({ CALLWARDEN_DATA_DIR: tempDir() }).encryptionKey.equals(loadConfig({ CALLWARDEN_DATA_DIR: tempDir() }).encryptionKey)).toBe(false);
    expect(loadConfig(MEM).encryptionKey.equals(loadConfig(MEM).encryptionKey)).toBe(false);
  });

  it('is not generated when a key is configured', () => {
    const dir = tempDir();
    loadConfig({ CALLWARDEN_DATA_DIR: dir, CALLWARDEN_ENCRYPTION_KEY: KEY });
    expect(existsSync(join(dir, 'dev-encryption.key'))).toBe(false);
  });
});

describe('docs/configuration.md', () => {
  const doc = () => readFileSync(fileURLToPath(new URL('../../docs/configuration.md', import.meta.url)), 'utf8');
  const rowOf = (env: string) => doc().split('\n').find((l) => l.startsWith(`| \`${env}\` |`));

  it.each(Object.entries(options).map(([key, o]) => ({ key, env: o.env, def: o.default })))('documents $env ($key) with its default', ({ env, def }) => {
    const row = rowOf(env);
    expect(row, `no table row for ${env}`).toBeDefined();
    expect(row).toContain(def === '' ? '(empty)' : `\`${def}\``);
  });

  it('documents no variable that does not exist', () => {
    const known = new Set<string>(Object.values(options).map((o) => o.env));
    const documented = [...doc().matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.filter((v) => !known.has(v!))).toEqual([]);
  });
});
