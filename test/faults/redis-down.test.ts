/**
 * Fault: Redis, where the attempt limits are counted, goes away, then comes back.
 *
 * One `callwarden serve` with REDIS_URL pointing at a redis-server of the test's own and a per-IP
 * limit of IP_LIMIT attempts a minute. With Redis up the limit holds. Then Redis is stopped (the port
 * refuses connections), and later frozen (SIGSTOP: connections are accepted, nothing answers): in
 * both cases every sign-in attempt (starting a flow, the password step) is refused with 503 (fail
 * closed, never let through uncounted) and answers within a bounded time, while what does not count
 * attempts (sessions, caller verification, /readyz) keeps working. Once Redis is back, sign-in works
 * again and the limit holds again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgDatabase, postgresAvailable } from '../helpers/db.js';
import { serveCommand, startInstance, type Instance, type Target } from '../multi-instance/cluster.js';
import { baseEnv, get, PASSWORD, percentiles, post, redisServerBinary, requirements, setupTenant, startOwnRedis, stopwatch, type OwnRedis, type Tenant, type Timed } from './support.js';

const { ready } = requirements({ 'PostgreSQL on 127.0.0.1:5432': await postgresAvailable(), 'redis-server': !!redisServerBinary() }, 'Redis down');

const IP_LIMIT = 5;
/** Every refused attempt must answer within this (generous; refusals are expected in milliseconds, a frozen Redis in about a second). */
const ANSWER_BOUND_MS = 5000;
/** After Redis answers again, sign-in must work within this. */
const RECOVERY_BOUND_MS = 5000;

const someIp = () => `10.${randomInt(0, 256)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;
const tally = (rs: Timed[]) => rs.reduce<Record<string, number>>((m, r) => ((m[`${r.status} ${r.status < 300 ? 'ok' : r.body.code ?? r.text.slice(0, 30)}`] = (m[`${r.status} ${r.status < 300 ? 'ok' : r.body.code ?? r.text.slice(0, 30)}`] ?? 0) + 1), m), {});

describe.skipIf(!ready)('fault: Redis down (attempt limits fail closed)', () => {
  const clock = stopwatch('fault redis-down');
  let dropDb: (() => Promise<void>) | undefined;
  let redis: OwnRedis | undefined;
  let instance: Instance | undefined;
  let dataDir: string | undefined;
  let T: Target;
  let tenant: Tenant;
  const figures: Record<string, unknown> = {};

  beforeAll(async () => {
    const pgDb = await createPgDatabase();
    dropDb = pgDb.drop;
    redis = await startOwnRedis();
    dataDir = mkdtempSync(join(tmpdir(), 'cw-faults-redis-'));
    instance = await startInstance('A', baseEnv({ DATABASE_URL: pgDb.url, REDIS_URL: redis.url, CALLWARDEN_DATA_DIR: dataDir, CALLWARDEN_IP_ATTEMPTS_PER_MINUTE: String(IP_LIMIT) }));
    T = { name: 'A', base: instance.url, viaProxy: false };
    clock.lap(`redis + instance (${serveCommand().kind})`);
    tenant = await setupTenant(T, { agents: 1, customers: 1 });
    clock.lap('tenant setup');
  }, 120_000);

  afterAll(async () => {
    await instance?.stop();
    await redis?.destroy();
    await dropDb?.().catch(() => undefined);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    console.info('redis-down:', JSON.stringify(figures));
    clock.summary();
  }, 60_000);

  const email = () => tenant.agentEmails[0]!;
  const start = (ip = someIp()) => post(T, '/v1/auth/flows', { tenant: tenant.slug, identifier: email() }, { ip, timeoutMs: ANSWER_BOUND_MS + 2000 });
  const password = (flow: { flow: { id: string }; flowToken: string }, ip = someIp()) => post(T, `/v1/auth/flows/${flow.flow.id}/password`, { password: PASSWORD }, { flow: flow.flowToken, ip, timeoutMs: ANSWER_BOUND_MS + 2000 });

  /** Attempts while Redis cannot count them: starts from one address and from many, and password steps of a flow started before. */
  async function refusedAttempts(pending: { flow: { id: string }; flowToken: string }) {
    const first = await start();
    if (first.status === 0) throw new Error(`a sign-in attempt hung with Redis unavailable: ${first.text}`);
    // all at once (a frozen Redis costs each one its command timeout): three times the limit from
    // one address, 20 from as many addresses, and password steps of a flow started before
    const ip = someIp();
    const [sameAddress, many, steps] = await Promise.all([
      Promise.all(Array.from({ length: 3 * IP_LIMIT }, () => start(ip))),
      Promise.all(Array.from({ length: 20 }, () => start())),
      Promise.all(Array.from({ length: 3 }, () => password(pending))),
    ]);
    const all = [first, ...sameAddress, ...many, ...steps];
    // fail closed: not one attempt through, each refused with 503 unavailable (or 429), and promptly
    expect(all.filter((r) => r.status < 300), JSON.stringify(tally(all))).toEqual([]);
    for (const r of all) expect([503, 429], `${r.status} ${r.text}`).toContain(r.status);
    expect(Math.max(...all.map((r) => r.ms))).toBeLessThan(ANSWER_BOUND_MS);
    // what does not count attempts keeps working
    expect((await get(T, '/readyz')).status).toBe(200);
    expect((await get(T, '/v1/me', { token: tenant.agents[0] })).status).toBe(200);
    const v = await post(T, `/v1/tenants/${tenant.slug}/verifications`, { customerId: tenant.customers[0]!.id, interactionId: `call-${randomInt(1e9)}` }, { token: tenant.agents[0] });
    expect(v.status, v.text).toBe(201);
    return { byStatus: tally(all), latency: percentiles(all.map((r) => r.ms)) };
  }

  /** Polls sign-in starts until one is allowed; the time from `since`. */
  async function recovery(since: number) {
    const deadline = since + RECOVERY_BOUND_MS + 5000;
    let refusedMeanwhile = 0;
    while (Date.now() < deadline) {
      const r = await start();
      if (r.status === 201) return { afterMs: Date.now() - since, refusedMeanwhile };
      expect([503, 429], `${r.status} ${r.text}`).toContain(r.status);
      refusedMeanwhile++;
      await sleep(50);
    }
    throw new Error('sign-in did not work again after Redis came back');
  }

  /** The per-IP limit is counted (and enforced) again: IP_LIMIT allowed from one new address, then 429. */
  async function limitHolds() {
    const ip = someIp();
    const rs: Timed[] = [];
    for (let i = 0; i < IP_LIMIT + 3; i++) rs.push(await start(ip));
    expect(rs.map((r) => r.status)).toEqual([...Array(IP_LIMIT).fill(201), 429, 429, 429]);
    return tally(rs);
  }

  it('with Redis up, the per-IP limit holds', async () => {
    figures.up = await limitHolds();
  });

  it('Redis stopped: every sign-in attempt is refused (503), promptly; the rest works; then it recovers', async () => {
    const pending = (await start()).body as { flow: { id: string }; flowToken: string };
    await redis!.stop();
    const stoppedAt = Date.now();
    figures.stopped = await refusedAttempts(pending);
    clock.lap('Redis stopped');
    await sleep(1000);
    await redis!.start();
    const back = Date.now();
    figures.stoppedRecovery = await recovery(back);
    expect((figures.stoppedRecovery as { afterMs: number }).afterMs).toBeLessThan(RECOVERY_BOUND_MS);
    figures.stoppedFor = back - stoppedAt;
    // the flow started before the outage goes on: its password step was refused, never counted as a failure
    const pw = await password(pending);
    expect(pw.status, pw.text).toBe(200);
    expect(pw.body.session?.token).toEqual(expect.any(String));
    figures.stoppedThenLimit = await limitHolds();
    clock.lap('Redis back');
  });

  it('Redis frozen (accepts connections, never answers): attempts are refused within a bounded time; then it recovers', async () => {
    const pending = (await start()).body as { flow: { id: string }; flowToken: string };
    redis!.freeze();
    const frozenAt = Date.now();
    try {
      figures.frozen = await refusedAttempts(pending);
    } finally {
      redis!.thaw();
    }
    const back = Date.now();
    figures.frozenFor = back - frozenAt;
    figures.frozenRecovery = await recovery(back);
    expect((figures.frozenRecovery as { afterMs: number }).afterMs).toBeLessThan(RECOVERY_BOUND_MS);
    const pw = await password(pending);
    expect(pw.status, pw.text).toBe(200);
    figures.frozenThenLimit = await limitHolds();
    expect(instance!.logs.filter((l) => l.msg === 'unhandled error')).toEqual([]);
    clock.lap('Redis frozen and thawed');
  });
});
