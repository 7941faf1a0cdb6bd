/**
 * Multi-instance mode, end to end: two real `callwarden serve` processes started together on one empty
 * PostgreSQL database and one Redis, with Debian's nginx in front of them as a round-robin load
 * balancer, configured from docs/examples/nginx.conf (the documented example is the tested one).
 *
 * Through nginx and directly against each instance it shows that the migrations ran once, that one
 * TOTP code and one caller code raced over both instances give exactly one success, that revoking a
 * session on one instance ends it on the other at once, that per-IP rate limits and lockout counters
 * are global, that the outbox workers of both instances send each message once, and that both audit
 * sealers keep one valid chain.
 *
 * Needs nginx, PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379): skipped without them, except in
 * CI (CI set), where a missing one fails the suite.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { sql } from 'kysely';
import { Secret } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../../src/audit/verify.js';
import { MESSAGE_ID_HEADER, SIGNATURE_HEADER, verifyWebhookSignature } from '../../src/delivery/webhook.js';
import { totpAt } from '../../src/methods/totp/core.js';
import { openDatabase, type Database } from '../../src/storage/db.js';
import { listMigrations } from '../../src/storage/migrate.js';
import { httpPeer, type HttpPeer } from '../delivery/peers.js';
import { createPgDatabase, postgresAvailable } from '../helpers/db.js';
import { REDIS_URL, redisAvailable } from '../helpers/redis.js';
import { call, freePort, nginxBinary, serveCommand, startInstance, startNginx, tally, type CallOptions, type Instance, type Nginx, type Reply, type Target } from './cluster.js';

const inCi = !!process.env.CI && process.env.CI !== 'false';
const nginx = nginxBinary();
const have = { nginx: !!nginx, PostgreSQL: await postgresAvailable(), Redis: await redisAvailable() };
const missing = Object.entries(have).filter(([, ok]) => !ok).map(([name]) => name);
if (missing.length && inCi) throw new Error(`CI needs ${missing.join(', ')} for the multi-instance test`);
const ready = missing.length === 0;

/** Per-IP limit on both instances: small, so that "global" (10) and "per instance" (20) differ. */
const IP_LIMIT = 10;
/** Redis database of this test (the limiter keys are cw:ip:<address>; the addresses are random per run). */
const REDIS_DB = 13;
const WEBHOOK_SECRET = `multi-instance-${randomBytes(16).toString('hex')}`;
const OPERATOR = { email: 'ops@multi.test', password: 'two instances one truth 2026' };
const PASSWORD = 'correct horse battery staple 42';
const PHONE = '+14155550134';

const secretBytes = (base32: string) => Buffer.from(Secret.fromBase32(base32).buffer);

describe.skipIf(!ready)('two instances behind nginx on one PostgreSQL and Redis', () => {
  const started = Date.now();
  let dropDb: (() => Promise<void>) | undefined;
  let db: Database | undefined;
  let dataDir: string | undefined;
  let peer: HttpPeer | undefined;
  const webhookIds = new Map<string, number>();
  let badSignatures = 0;
  const instances: Instance[] = [];
  let lb: Nginx | undefined;
  let A: Target;
  let B: Target;
  let N: Target;
  let startLogs: { a: Instance; b: Instance };

  // -- small API helpers over the cluster --------------------------------------------------------
  const post = (t: Target, path: string, body: unknown = {}, o: CallOptions = {}) => call(t, 'POST', path, { ...o, body });
  const get = (t: Target, path: string, o: CallOptions = {}) => call(t, 'GET', path, o);
  const expectStatus = (r: Reply, status: number, what: string) => {
    if (r.status !== status) throw new Error(`${what}: ${r.status} ${r.text}`);
    return r.body;
  };
  /** Which instances served these request ids (from their request logs). */
  const servedBy = async (ids: string[]) => {
    await sleep(50); // the "request completed" line may follow the response by a moment
    const [a, b] = instances;
    return { A: ids.filter((id) => a!.served(id)).length, B: ids.filter((id) => b!.served(id)).length };
  };

  /** Password-only sign-in (users without a second factor); returns the session token. */
  async function signIn(t: Target, tenant: string, email: string, password = PASSWORD) {
    const start = expectStatus(await post(t, '/v1/auth/flows', { tenant, identifier: email }), 201, `start ${email}`);
    const pw = expectStatus(await post(t, `/v1/auth/flows/${start.flow.id}/password`, { password }, { flow: start.flowToken }), 200, `password ${email}`);
    if (pw.flow.state !== 'completed') throw new Error(`sign-in of ${email} stopped at ${pw.flow.state}`);
    return pw.session.token as string;
  }

  /** Invites on one instance, reads the setup link from the dev outbox API on another, accepts on a third target. */
  async function invite(op: string, tenant: string, email: string, roles: string[]) {
    const user = expectStatus(await post(A, `/v1/tenants/${tenant}/users`, { email, roles }, { token: op }), 201, `invite ${email}`);
    const box = expectStatus(await get(B, `/v1/tenants/${tenant}/outbox?recipient=${encodeURIComponent(email)}`, { token: op }), 200, 'outbox');
    const token = /token=([\w-]+)/.exec(box.messages.find((m: { template: string }) => m.template === 'invitation')?.body ?? '')?.[1];
    if (!token) throw new Error(`no setup link for ${email}`);
    expectStatus(await post(N, '/v1/invitations/accept', { token, password: PASSWORD }), 200, `accept ${email}`);
    return user.id as string;
  }

  /** Enrolls TOTP through the self-service API (begin on one instance, confirm on the other). */
  async function enrollTotp(token: string) {
    const begin = expectStatus(await post(A, '/v1/me/factors/totp', {}, { token }), 201, 'enroll');
    const code = totpAt(secretBytes(begin.secret), new Date());
    expectStatus(await post(B, `/v1/me/factors/totp/${begin.factorId}/confirm`, { code }, { token }), 200, 'confirm');
    return begin.secret as string;
  }

  let env: Record<string, string> = {};
  const extra: Instance[] = [];
  let op: string;
  let admin: string;
  let agent: string;
  const users: Record<string, string> = {};
  let customerId: string;
  let phoneId: string;

  beforeAll(async () => {
    const pgDb = await createPgDatabase();
    dropDb = pgDb.drop;
    db = await openDatabase({ url: pgDb.url, poolSize: 2 });
    dataDir = mkdtempSync(join(tmpdir(), 'cw-multi-'));
    peer = await httpPeer((r) => {
      const id = String(r.headers[MESSAGE_ID_HEADER]);
      webhookIds.set(id, (webhookIds.get(id) ?? 0) + 1);
      if (!verifyWebhookSignature({ secret: WEBHOOK_SECRET, header: r.headers[SIGNATURE_HEADER] as string, body: r.body })) badSignatures++;
      return { json: { id: `rcv-${id}` } };
    });
    // nginx's port is chosen first: it is the public URL of both instances (setup links, and the
    // issuer of verification assertions, which must be the same on every instance)
    const lbPort = await freePort();
    env = {
      CALLWARDEN_PUBLIC_URL: `http://127.0.0.1:${lbPort}`,
      CALLWARDEN_MODE: 'dev', // for the outbox reader API; the key is shared, as every instance must share it
      CALLWARDEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      DATABASE_URL: pgDb.url,
      REDIS_URL: `${REDIS_URL.replace(/\/\d*$/, '')}/${REDIS_DB}`,
      CALLWARDEN_DATA_DIR: dataDir,
      CALLWARDEN_HOST: '127.0.0.1',
      CALLWARDEN_TRUST_PROXY: 'true',
      CALLWARDEN_IP_ATTEMPTS_PER_MINUTE: String(IP_LIMIT),
      CALLWARDEN_BOOTSTRAP_ADMIN_EMAIL: OPERATOR.email,
      CALLWARDEN_BOOTSTRAP_ADMIN_PASSWORD: OPERATOR.password,
      CALLWARDEN_ARGON2_MEMORY_KIB: '8192',
      CALLWARDEN_ARGON2_ITERATIONS: '1',
      CALLWARDEN_LOG_LEVEL: 'info',
      CALLWARDEN_SMS_PROVIDER: 'webhook',
      CALLWARDEN_WEBHOOK_URL: `${peer.url}/sms`,
      CALLWARDEN_WEBHOOK_SECRET: WEBHOOK_SECRET,
      CALLWARDEN_DELIVERY_INTERVAL_MS: '200',
      CALLWARDEN_AUDIT_SEAL_INTERVAL_MS: '200',
    };
    // both at once on the empty database: migrations and the operator bootstrap race for real
    const results = await Promise.allSettled([startInstance('A', env), startInstance('B', env)]);
    for (const r of results) if (r.status === 'fulfilled') instances.push(r.value);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const [a, b] = instances as [Instance, Instance];
    startLogs = { a, b };
    A = { name: 'A', base: a.url, viaProxy: false };
    B = { name: 'B', base: b.url, viaProxy: false };
    lb = await startNginx(nginx!, [new URL(a.url).host, new URL(b.url).host], lbPort);
    N = { name: 'nginx', base: lb.url, viaProxy: true };

    // The platform operator (bootstrapped), a tenant, and its users, set up across both instances.
    op = await signIn(N, 'platform', OPERATOR.email, OPERATOR.password);
    expectStatus(await post(A, '/v1/tenants', { slug: 'acme', name: 'Acme Contact Center', mfaMode: 'optional' }, { token: op }), 201, 'tenant');
    for (const [email, roles] of [
      ['eve@acme.test', ['tenant_admin']],
      ['dee@acme.test', ['agent']],
      ['ana@acme.test', ['agent']],
      ['ben@acme.test', ['agent']],
      ['cy@acme.test', ['agent']],
    ] as const) {
      users[email] = await invite(op, 'acme', email, [...roles]);
    }
    admin = await signIn(B, 'acme', 'eve@acme.test');
    agent = await signIn(A, 'acme', 'dee@acme.test');
    const customer = expectStatus(
      await post(N, '/v1/tenants/acme/customers', { externalId: 'CRM-7', name: 'Dana Whitfield', contacts: [{ kind: 'phone', value: PHONE }] }, { token: admin }),
      201,
      'customer',
    );
    customerId = customer.id;
    phoneId = (customer.contacts as Array<{ id: string; kind: string }>).find((c) => c.kind === 'phone')!.id;
  }, 120_000);

  afterAll(async () => {
    const stops = await Promise.allSettled([lb?.stop(), ...[...instances, ...extra].map((i) => i.stop())]);
    await Promise.allSettled([peer?.close(), db?.close()]);
    await dropDb?.().catch(() => undefined);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    for (const i of [...instances, ...extra]) expect(i.proc.exitCode !== null || i.proc.signalCode !== null, `${i.name} stopped`).toBe(true);
    const failed = stops.filter((s) => s.status === 'rejected');
    expect(failed).toEqual([]);
    console.info(`multi-instance: ${serveCommand().kind} build, ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
  }, 60_000);

  it('a. both instances started together on the empty database; the migrations and the bootstrap ran once', async () => {
    const { a, b } = startLogs;
    const applied = [a, b].map((i) => i.logs.filter((l) => l.msg === 'migrations applied').map((l) => l.applied as string[]));
    const names = listMigrations().map((m) => m.name);
    // one instance applied them all, the other waited on the advisory lock and found nothing to do
    expect(applied.flat(), JSON.stringify(applied)).toEqual([names]);
    const rows = await sql<{ version: number; n: number }>`SELECT version, count(*)::int AS n FROM schema_migrations GROUP BY version ORDER BY version`.execute(db!.db);
    expect(rows.rows).toEqual(names.map((_, i) => ({ version: listMigrations()[i]!.version, n: 1 })));
    // the operator was created by exactly one of them
    const created = [a, b].flatMap((i) => i.logs.filter((l) => l.msg === 'platform operator created'));
    expect(created).toHaveLength(1);
    const ops = await sql<{ n: number }>`SELECT count(*)::int AS n FROM users WHERE email = ${OPERATOR.email}`.execute(db!.db);
    expect(ops.rows[0]!.n).toBe(1);
    // both answer, directly and through nginx, which spreads requests over both
    for (const t of [A, B]) expect((await get(t, '/readyz')).body).toEqual({ status: 'ready', store: 'postgres' });
    const ids = Array.from({ length: 6 }, () => randomUUID());
    for (const id of ids) expect((await get(N, '/readyz', { requestId: id })).status).toBe(200);
    const spread = await servedBy(ids);
    expect(spread.A + spread.B).toBe(6);
    expect(spread.A).toBeGreaterThan(0);
    expect(spread.B).toBeGreaterThan(0);
    const said = (i: Instance, msg: string) => i.logs.some((l) => l.msg === msg);
    console.info('a:', JSON.stringify({
      migrationsAppliedBy: [a, b].filter((i) => said(i, 'migrations applied')).map((i) => i.name),
      operatorCreatedBy: [a, b].filter((i) => said(i, 'platform operator created')).map((i) => i.name),
      loserMetTheWinner: [a, b].filter((i) => said(i, 'platform operator bootstrapped by another instance')).map((i) => i.name),
      readyzThroughNginx: spread,
    }));
  });

  /** A flow of `email` past the password step (started on one instance, password on the other). */
  async function atSecondFactor(email: string) {
    const start = expectStatus(await post(A, '/v1/auth/flows', { tenant: 'acme', identifier: email }), 201, 'start');
    const pw = expectStatus(await post(B, `/v1/auth/flows/${start.flow.id}/password`, { password: PASSWORD }, { flow: start.flowToken }), 200, 'password');
    expect(pw.flow.state).toBe('second_factor');
    return { id: start.flow.id as string, token: pw.flowToken as string };
  }

  const allowedLosers = ['401 invalid_factor', '401 flow_invalid', '409 flow_state', '429 flow_failed', '429 too_many_attempts'];

  async function raceTotp(email: string, targets: (i: number) => Target) {
    const token = await signIn(A, 'acme', email);
    const secret = await enrollTotp(token);
    const before = (expectStatus(await get(B, '/v1/me/sessions', { token }), 200, 'sessions').sessions as unknown[]).length;
    const flow = await atSecondFactor(email);
    // the next step's code (accepted within the one-step window): the enrollment used this step's
    const code = totpAt(secretBytes(secret), new Date(Date.now() + 30_000));
    const ids = Array.from({ length: 50 }, () => randomUUID());
    const results = await Promise.all(ids.map((id, i) => post(targets(i), `/v1/auth/flows/${flow.id}/factor`, { method: 'totp', code }, { flow: flow.token, requestId: id })));
    const byStatus = tally(results);
    const winners = results.filter((r) => r.status === 200 && typeof r.body.session?.token === 'string');
    expect(winners, JSON.stringify(byStatus)).toHaveLength(1);
    for (const k of Object.keys(byStatus).filter((k) => k !== '200 ok')) expect(allowedLosers, JSON.stringify(byStatus)).toContain(k);
    // one new session, seen from both instances
    for (const t of [A, B]) expect((expectStatus(await get(t, '/v1/me/sessions', { token }), 200, 'sessions').sessions as unknown[]).length).toBe(before + 1);
    return { byStatus, spread: await servedBy(ids) };
  }

  it('b. 50 parallel submissions of one TOTP code, alternating the two instances, give one session', async () => {
    const { byStatus, spread } = await raceTotp('ana@acme.test', (i) => (i % 2 ? B : A));
    expect(spread).toEqual({ A: 25, B: 25 });
    console.info('b (direct):', JSON.stringify(byStatus), JSON.stringify(spread));
  });

  it('b. 50 parallel submissions of one TOTP code through nginx give one session', async () => {
    const { byStatus, spread } = await raceTotp('ben@acme.test', () => N);
    expect(spread.A + spread.B).toBe(50);
    expect(spread.A).toBeGreaterThan(0);
    expect(spread.B).toBeGreaterThan(0);
    console.info('b (nginx):', JSON.stringify(byStatus), JSON.stringify(spread));
  });

  /** Starts a verification on one instance, sends an SMS code from the other, reads it through the dev outbox API. */
  async function verificationWithCode(interactionId: string) {
    const v = expectStatus(await post(A, '/v1/tenants/acme/verifications', { customerId, interactionId }, { token: agent }), 201, 'verification');
    expectStatus(await post(B, `/v1/tenants/acme/verifications/${v.id}/codes`, { contactId: phoneId, channel: 'sms' }, { token: agent }), 200, 'send code');
    const box = expectStatus(await get(N, `/v1/tenants/acme/outbox?recipient=${encodeURIComponent(PHONE)}&limit=1`, { token: admin }), 200, 'outbox');
    const code = /code is (\d{6})/.exec(box.messages[0]?.body ?? '')?.[1];
    if (!code) throw new Error(`no code in the outbox: ${JSON.stringify(box)}`);
    return { id: v.id as string, code };
  }

  async function raceCallerCode(interactionId: string, targets: (i: number) => Target) {
    const v = await verificationWithCode(interactionId);
    const ids = Array.from({ length: 50 }, () => randomUUID());
    const results = await Promise.all(ids.map((id, i) => post(targets(i), `/v1/tenants/acme/verifications/${v.id}/codes/check`, { code: v.code }, { token: agent, requestId: id })));
    const byStatus = tally(results);
    const winners = results.filter((r) => r.status === 200);
    expect(winners, JSON.stringify(byStatus)).toHaveLength(1);
    expect(winners[0]!.body).toMatchObject({ state: 'verified', completedMethods: ['otp_sms'] });
    for (const r of results.filter((x) => x.status !== 200)) {
      expect(r.status, r.text).toBeGreaterThanOrEqual(400);
      expect(r.status, r.text).toBeLessThan(500);
    }
    const final = expectStatus(await get(B, `/v1/tenants/acme/verifications/${v.id}`, { token: agent }), 200, 'read');
    expect(final.state).toBe('verified');
    // the signed assertion checks out on every instance and against the JWKS read through nginx
    const assertion = winners[0]!.body.assertion as string;
    for (const t of [A, B, N]) expect((await post(t, '/v1/assertions/check', { assertion })).body).toMatchObject({ valid: true });
    const keys = expectStatus(await get(N, '/v1/tenants/acme/jwks.json'), 200, 'jwks');
    await jwtVerify(assertion, createLocalJWKSet(keys as { keys: [] }), { audience: 'callwarden:caller-verification', issuer: `${N.base}/v1/tenants/acme` });
    return { byStatus, spread: await servedBy(ids) };
  }

  it('c. 50 parallel checks of the right caller code, over both instances directly and through nginx, verify once', async () => {
    const direct = await raceCallerCode(`call-${randomUUID()}`, (i) => (i % 2 ? B : A));
    expect(direct.spread).toEqual({ A: 25, B: 25 });
    const proxied = await raceCallerCode(`call-${randomUUID()}`, () => N);
    expect(proxied.spread.A + proxied.spread.B).toBe(50);
    expect(proxied.spread.A).toBeGreaterThan(0);
    expect(proxied.spread.B).toBeGreaterThan(0);
    console.info('c (direct):', JSON.stringify(direct.byStatus), JSON.stringify(direct.spread), '(nginx):', JSON.stringify(proxied.byStatus), JSON.stringify(proxied.spread));

    // both instances' delivery workers ran; each SMS reached the provider exactly once
    const deadline = Date.now() + 10_000;
    let pending = 1;
    while (Date.now() < deadline) {
      pending = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM outbox WHERE channel = 'sms' AND status <> 'sent'`.execute(db!.db)).rows[0]!.n;
      if (pending === 0) break;
      await sleep(100);
    }
    expect(pending).toBe(0);
    const sms = await sql<{ id: string }>`SELECT id FROM outbox WHERE channel = 'sms'`.execute(db!.db);
    expect(sms.rows).toHaveLength(2);
    expect([...webhookIds.keys()].sort()).toEqual(sms.rows.map((r) => r.id).sort());
    expect([...webhookIds.values()]).toEqual([1, 1]);
    expect(badSignatures).toBe(0);
  });

  it('d. a session revoked, logged out or ended by disabling the user on one instance fails on the other at once', async () => {
    const email = 'cy@acme.test';
    const first = await signIn(A, 'acme', email);
    const second = await signIn(B, 'acme', email);
    const third = await signIn(N, 'acme', email);
    const me = expectStatus(await get(B, '/v1/me', { token: first }), 200, 'me');
    const meOnAll = async (token: string) => Promise.all([get(A, '/v1/me', { token }), get(B, '/v1/me', { token }), ...Array.from({ length: 4 }, () => get(N, '/v1/me', { token }))]);
    expect((await meOnAll(first)).map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);

    // DELETE /v1/me/sessions/:id on A (with another session); the next request on B is refused
    expectStatus(await call(A, 'DELETE', `/v1/me/sessions/${me.session.id}`, { token: second }), 200, 'revoke');
    expect((await get(B, '/v1/me', { token: first })).status).toBe(401);
    expect((await meOnAll(first)).map((r) => r.status)).toEqual([401, 401, 401, 401, 401, 401]);

    // logout on B; the token fails on A
    expectStatus(await post(B, '/v1/auth/logout', {}, { token: third }), 200, 'logout');
    expect((await get(A, '/v1/me', { token: third })).status).toBe(401);
    expect((await meOnAll(third)).every((r) => r.status === 401)).toBe(true);

    // an administrator disables the user on A; the remaining session fails on B and through nginx
    expect((await get(B, '/v1/me', { token: second })).status).toBe(200);
    expectStatus(await post(A, `/v1/tenants/acme/users/${users[email]}/disable`, {}, { token: admin }), 200, 'disable');
    expect((await get(B, '/v1/me', { token: second })).status).toBe(401);
    expect((await meOnAll(second)).every((r) => r.status === 401)).toBe(true);
  });

  it('e. per-IP rate limits are global: 25 attempts from one address over both instances, 10 allowed (the limit), not 20', async () => {
    const redis = new Redis(`${REDIS_URL.replace(/\/\d*$/, '')}/${REDIS_DB}`, { maxRetriesPerRequest: 1 });
    try {
      const someIp = () => `10.${1 + (randomBytes(1)[0]! % 250)}.${randomBytes(1)[0]!}.${1 + (randomBytes(1)[0]! % 250)}`;
      const flowFrom = (t: Target, ip: string, i: number) => post(t, '/v1/auth/flows', { tenant: 'acme', identifier: `probe-${randomUUID()}-${i}@acme.test` }, { ip });

      // directly, one after the other from one client address (X-Forwarded-For), alternating A and B:
      // B's budget is what A left of the shared one
      const ip = someIp();
      const sequential: Reply[] = [];
      for (let i = 0; i < 25; i++) sequential.push(await flowFrom(i % 2 ? B : A, ip, i));
      expect(sequential.map((r) => r.status)).toEqual([...Array(IP_LIMIT).fill(201), ...Array(25 - IP_LIMIT).fill(429)]);
      const allowedOn = { A: sequential.filter((r, i) => r.status === 201 && i % 2 === 0).length, B: sequential.filter((r, i) => r.status === 201 && i % 2 === 1).length };
      expect(allowedOn).toEqual({ A: IP_LIMIT / 2, B: IP_LIMIT / 2 });
      expect(Number(await redis.get(`cw:ip:${ip}`))).toBe(25); // every attempt counted in one shared counter

      // directly, all at once from another address over both instances
      const ip2 = someIp();
      const parallel = await Promise.all(Array.from({ length: 25 }, (_, i) => flowFrom(i % 2 ? B : A, ip2, i)));
      expect(tally(parallel)).toEqual({ '201 ok': IP_LIMIT, '429 rate_limited': 25 - IP_LIMIT });
      const direct = tally(parallel);

      // through nginx from one loopback address, each request claiming another X-Forwarded-For
      const source = `127.${1 + (randomBytes(1)[0]! % 250)}.${randomBytes(1)[0]!}.${1 + (randomBytes(1)[0]! % 250)}`;
      const ids = Array.from({ length: 25 }, () => randomUUID());
      const proxied = await Promise.all(
        ids.map((id, i) => post(N, '/v1/auth/flows', { tenant: 'acme', identifier: `probe-${id}@acme.test` }, { ip: source, spoofForwardedFor: `203.0.113.${i + 1}`, requestId: id })),
      );
      expect(tally(proxied)).toEqual({ '201 ok': IP_LIMIT, '429 rate_limited': 25 - IP_LIMIT });
      expect(Number(await redis.get(`cw:ip:${source}`))).toBe(25);
      expect(await redis.exists('cw:ip:203.0.113.1')).toBe(0); // nginx overwrote the client's header
      const spread = await servedBy(ids);
      expect(spread.A + spread.B).toBe(25);
      expect(spread.A).toBeGreaterThan(0);
      expect(spread.B).toBeGreaterThan(0);
      console.info('e:', JSON.stringify({ sequential: tally(sequential), allowedOn, parallel: direct, proxied: tally(proxied), proxiedServedBy: spread }));
    } finally {
      redis.disconnect();
    }
  });

  it('f. lockout counters are global: failures on A and on B add up', async () => {
    // a tenant whose policy disables the password after 6 consecutive failures, without backoff delays
    const t = expectStatus(await post(B, '/v1/tenants', { slug: 'lockco', name: 'Lock Co', mfaMode: 'optional' }, { token: op }), 201, 'tenant');
    const email = 'flo@lockco.test';
    await invite(op, 'lockco', email, ['agent']);
    const cur = expectStatus(await get(A, '/v1/tenants/lockco/policy', { token: op }), 200, 'policy');
    const policy = structuredClone(cur.policy);
    policy.lockout = { ...policy.lockout, maxConsecutiveFailures: 6, backoffAfter: 100 };
    expectStatus(await call(B, 'PUT', '/v1/tenants/lockco/policy', { token: op, body: { version: cur.version, policy } }), 200, 'policy');

    const attempt = async (target: Target, password: string) => {
      const start = expectStatus(await post(target, '/v1/auth/flows', { tenant: 'lockco', identifier: email }), 201, 'start');
      return post(target, `/v1/auth/flows/${start.flow.id}/password`, { password }, { flow: start.flowToken });
    };
    const wrong: Reply[] = [];
    for (let i = 0; i < 3; i++) wrong.push(await attempt(A, `wrong password number ${i}`));
    for (let i = 3; i < 6; i++) wrong.push(await attempt(B, `wrong password number ${i}`));
    expect(tally(wrong)).toEqual({ '401 invalid_credentials': 6 });
    const subject = `pw:${t.tenant.id}:${email}`;
    const counter = async () => (await sql<{ failures: number }>`SELECT failures FROM attempt_counters WHERE subject = ${subject}`.execute(db!.db)).rows[0]?.failures;
    expect(await counter()).toBe(6);
    // each instance saw only 3 failures, yet the right password is now refused on both and through nginx
    const right = [await attempt(A, PASSWORD), await attempt(B, PASSWORD), await attempt(N, PASSWORD)];
    for (const r of right) {
      expect(r.status, r.text).not.toBe(200);
      expect(r.body.session).toBeUndefined();
    }
    // the refusals of a disabled password are not failures (only checked wrong answers count)
    expect(await counter()).toBe(6);
    console.info('f:', JSON.stringify({ wrong: tally(wrong), rightPasswordAfterwards: tally(right) }));
  });

  it('g. an instance whose Redis does not answer refuses sign-in attempts (503, fails closed) and serves the rest', async () => {
    const c = await startInstance('C', { ...env, REDIS_URL: 'redis://127.0.0.1:1/0' });
    extra.push(c);
    const C: Target = { name: 'C', base: c.url, viaProxy: false };
    const start = await post(C, '/v1/auth/flows', { tenant: 'acme', identifier: 'eve@acme.test' });
    expect(start.status, start.text).toBe(503);
    expect(start.body.code).toBe('unavailable');
    // sessions, caller verification and health do not depend on Redis
    expect((await get(C, '/readyz')).status).toBe(200);
    expect((await get(C, '/v1/me', { token: agent })).status).toBe(200);
    const v = await post(C, '/v1/tenants/acme/verifications', { customerId, interactionId: `call-${randomUUID()}` }, { token: agent });
    expect(v.status, v.text).toBe(201);
    // the healthy instances are not affected
    expect((await post(A, '/v1/auth/flows', { tenant: 'acme', identifier: 'eve@acme.test' })).status).toBe(201);
    await c.stop();
  });

  it('the audit sealers of both instances keep one valid hash chain per tenant', async () => {
    const deadline = Date.now() + 10_000;
    let unsealed = -1;
    while (Date.now() < deadline) {
      unsealed = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_events WHERE chain_seq IS NULL`.execute(db!.db)).rows[0]!.n;
      if (unsealed === 0) break;
      await sleep(100);
    }
    expect(unsealed).toBe(0);
    const report = await verifyChain(db!.db);
    expect(report.ok, JSON.stringify(report.tenants.filter((t) => t.problems.length))).toBe(true);
    expect(report.tenants.reduce((n, t) => n + t.sealed, 0)).toBeGreaterThan(100);
  });
});
