/**
 * The server process of the memory benchmark (bench/memory.ts). It is compiled with src/ (lib/build.ts)
 * and run as `node --expose-gc server-process.js`, forked with an IPC channel; it does what
 * `callwarden serve` does (startServer with the configuration from the environment), plus three
 * commands from its parent:
 *
 *   {type: 'sessions', tenant, count}  creates `count` active agents (UserRepo, 500 per transaction)
 *                                      and one session each through the sessions service
 *                                      (issueSession: the same row a sign-in writes); answers with
 *                                      the tokens, which the parent then uses over HTTP
 *   {type: 'measure'}                  forces full garbage collections, then answers with VmRSS,
 *                                      VmHWM (/proc/self/status) and process.memoryUsage()
 *   {type: 'stop'}                     stops the server (as on SIGTERM) and exits
 *
 * It imports nothing from bench/ so that it compiles alone with src/.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../src/config/load.js';
import { normalizePassword } from '../../src/methods/password/rules.js';
import { startServer } from '../../src/server.js';
import { currentPolicy } from '../../src/services/policies.js';
import { issueSession } from '../../src/services/sessions.js';
import { UserRepo } from '../../src/storage/repositories/users.js';

export type ToServer = { type: 'sessions'; tenant: string; count: number; password: string } | { type: 'measure' } | { type: 'stop' };
export interface MemorySample {
  type: 'memory';
  /** /proc/self/status, KiB */
  vmRssKib: number;
  vmHwmKib: number;
  /** process.memoryUsage(), bytes */
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  gcForced: boolean;
}
export type FromServer = { type: 'ready'; url: string; store: string } | { type: 'sessions'; tokens: string[]; users: number; ms: number } | MemorySample | { type: 'fatal'; message: string };

const send = (m: FromServer) => process.send!(m);
const statusKib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN);

const running = await startServer(loadConfig(process.env));
const s = running.services;

async function sessions(m: Extract<ToServer, { type: 'sessions' }>) {
  const t0 = Date.now();
  const tenant = await s.store.tenants.bySlug(m.tenant);
  if (!tenant) throw new Error(`no tenant ${m.tenant}`);
  const hash = await s.hasher.hash(normalizePassword(m.password));
  const ids: string[] = [];
  const BATCH = 500;
  for (let from = 0; from < m.count; from += BATCH) {
    await s.store.db.transaction().execute(async (trx) => {
      const users = new UserRepo(trx);
      for (let i = from; i < Math.min(m.count, from + BATCH); i++) {
        const id = randomUUID();
        await users.create({ id, tenantId: tenant.id, email: `agent${String(i).padStart(5, '0')}@memory.bench.test`, displayName: `Agent ${i}`, roles: ['agent'], status: 'active', passwordHash: hash, now: s.clock() });
        ids.push(id);
      }
    });
  }
  const { policy } = await currentPolicy(s, tenant.id);
  const tokens: string[] = [];
  for (const [i, userId] of ids.entries()) {
    const origin = { ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36', requestId: null, channel: 'api' as const };
    const session = await issueSession(s, { tenantId: tenant.id, userId, methods: ['pwd', 'totp'], policy, origin });
    tokens.push(session.token);
  }
  send({ type: 'sessions', tokens, users: ids.length, ms: Date.now() - t0 });
}

async function measure() {
  const gcForced = typeof globalThis.gc === 'function';
  for (let i = 0; i < 3 && gcForced; i++) {
    globalThis.gc!();
    await sleep(100);
  }
  const u = process.memoryUsage();
  send({ type: 'memory', vmRssKib: statusKib('VmRSS'), vmHwmKib: statusKib('VmHWM'), rss: u.rss, heapTotal: u.heapTotal, heapUsed: u.heapUsed, external: u.external, arrayBuffers: u.arrayBuffers, gcForced });
}

process.on('message', (raw) => {
  const m = raw as ToServer;
  const fail = (e: Error) => send({ type: 'fatal', message: e.stack ?? e.message });
  if (m.type === 'sessions') sessions(m).catch(fail);
  else if (m.type === 'measure') measure().catch(fail);
  else if (m.type === 'stop') {
    running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  }
});
send({ type: 'ready', url: running.url, store: s.store.kind });
