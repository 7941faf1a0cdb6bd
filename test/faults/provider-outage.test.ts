/**
 * Fault: the SMS provider (a signed webhook) is down for a while, then recovers.
 *
 * Two `callwarden serve` processes on one throw-away PostgreSQL database, both running their delivery
 * worker against one provider on loopback. Agents send caller codes (each to a phone number of its
 * own) while the provider first answers 503, then refuses connections (its port closed), then
 * recovers; more codes are sent after it is back.
 *
 * Every message is retried (with the worker's backoff) and delivered once the provider is back:
 * each one accepted by the provider exactly once (no duplicates, although both instances' workers
 * ran), none given up, each with exactly one `sent` delivery event, all signatures valid.
 * Which instance's worker claims a round's messages is a race: the split is printed, not asserted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MESSAGE_ID_HEADER, SIGNATURE_HEADER, verifyWebhookSignature } from '../../src/delivery/webhook.js';
import { openDatabase, type Database } from '../../src/storage/db.js';
import { createPgDatabase, postgresAvailable } from '../helpers/db.js';
import { serveCommand, startInstance, type Instance, type Target } from '../multi-instance/cluster.js';
import { baseEnv, expectStatus, flakyPeer, post, redisServerBinary, requirements, setupTenant, startOwnRedis, stopwatch, type FlakyPeer, type OwnRedis, type Tenant } from './support.js';

const { ready } = requirements({ 'PostgreSQL on 127.0.0.1:5432': await postgresAvailable(), 'redis-server': !!redisServerBinary() }, 'provider outage');

const PER_PHASE = 12;
const SECRET = `faults-${randomBytes(16).toString('hex')}`;
/** How long each failure mode lasts. With the worker's backoff (5 s, then 10 s) a message sent at the start is delivered ~15 s later. */
const UNAVAILABLE_MS = 3000;
const REFUSING_MS = 4000;
const DELIVERY_DEADLINE_MS = 40_000;

describe.skipIf(!ready)('fault: the SMS provider is down (503, then refusing connections), then recovers', () => {
  const clock = stopwatch('fault provider-outage');
  let dropDb: (() => Promise<void>) | undefined;
  let database: Database | undefined;
  let redis: OwnRedis | undefined;
  let peer: FlakyPeer | undefined;
  let dataDir: string | undefined;
  const instances: Instance[] = [];
  let A: Target;
  let B: Target;
  let tenant: Tenant;

  beforeAll(async () => {
    const pgDb = await createPgDatabase();
    dropDb = pgDb.drop;
    database = await openDatabase({ url: pgDb.url, poolSize: 2 });
    redis = await startOwnRedis();
    peer = await flakyPeer(MESSAGE_ID_HEADER);
    dataDir = mkdtempSync(join(tmpdir(), 'cw-faults-provider-'));
    const env = baseEnv({
      DATABASE_URL: pgDb.url,
      REDIS_URL: redis.url,
      CALLWARDEN_DATA_DIR: dataDir,
      CALLWARDEN_PUBLIC_URL: 'http://127.0.0.1:9',
      CALLWARDEN_SMS_PROVIDER: 'webhook',
      CALLWARDEN_WEBHOOK_URL: `${peer.url}/sms`,
      CALLWARDEN_WEBHOOK_SECRET: SECRET,
      CALLWARDEN_DELIVERY_INTERVAL_MS: '200',
    });
    const [a, b] = await Promise.all([startInstance('A', env), startInstance('B', env)]);
    instances.push(a, b);
    A = { name: 'A', base: a.url, viaProxy: false };
    B = { name: 'B', base: b.url, viaProxy: false };
    clock.lap(`2 instances (${serveCommand().kind})`);
    tenant = await setupTenant(A, { agents: 2, customers: 3 * PER_PHASE, other: B });
    clock.lap('tenant setup');
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled(instances.map((i) => i.stop()));
    await peer?.close();
    await database?.close();
    await dropDb?.().catch(() => undefined);
    await redis?.destroy();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    clock.summary();
  }, 60_000);

  it('the outbox retries through the outage and delivers every message exactly once', async () => {
    const db = database!.db;
    const t0 = Date.now();
    let sent = 0;
    /** Starts a verification and sends its code, alternating the instances. */
    const sendCodes = async (from: number) => {
      await Promise.all(
        Array.from({ length: PER_PHASE }, async (_, k) => {
          const i = from + k;
          const c = tenant.customers[i]!;
          const t = i % 2 ? B : A;
          const token = tenant.agents[i % tenant.agents.length]!;
          const v = expectStatus(await post(t, `/v1/tenants/${tenant.slug}/verifications`, { customerId: c.id, interactionId: `call-${i}` }, { token }), 201, 'start');
          expectStatus(await post(t, `/v1/tenants/${tenant.slug}/verifications/${v.id}/codes`, { contactId: c.phoneId, channel: 'sms' }, { token }), 200, 'send');
          sent++;
        }),
      );
    };

    await peer!.set('unavailable');
    const phases = { unavailableAt: Date.now() - t0, refusingAt: 0, recoveredAt: 0, allDeliveredAt: 0 };
    await sendCodes(0);
    await sleep(UNAVAILABLE_MS);
    await peer!.set('refusing');
    phases.refusingAt = Date.now() - t0;
    await sendCodes(PER_PHASE);
    await sleep(REFUSING_MS);
    await peer!.set('ok');
    phases.recoveredAt = Date.now() - t0;
    await sendCodes(2 * PER_PHASE);
    clock.lap('codes sent through the outage');

    // wait until nothing is pending
    let pending = -1;
    while (Date.now() - t0 < phases.recoveredAt + DELIVERY_DEADLINE_MS) {
      pending = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM outbox WHERE channel = 'sms' AND status = 'pending'`.execute(db)).rows[0]!.n;
      if (pending === 0) break;
      await sleep(200);
    }
    phases.allDeliveredAt = Date.now() - t0;
    clock.lap('delivered');
    await sleep(1000); // a duplicate would show up now: any worker still holding a message has had a round

    const rows = (await sql<{ id: string; status: string; attempts: number }>`SELECT id, status, attempts FROM outbox WHERE channel = 'sms' ORDER BY created_at`.execute(db)).rows;
    const events = (await sql<{ message_id: string; outcome: string; error: string | null }>`
      SELECT d.message_id, d.outcome, d.error FROM delivery_events d JOIN outbox o ON o.id = d.message_id WHERE o.channel = 'sms'`.execute(db)).rows;
    const accepted = new Map<string, number>();
    for (const r of peer!.requests.filter((x) => x.status === 200)) accepted.set(r.messageId, (accepted.get(r.messageId) ?? 0) + 1);
    const badSignatures = peer!.requests.filter((r) => !verifyWebhookSignature({ secret: SECRET, header: r.headers[SIGNATURE_HEADER] as string, body: r.body })).length;
    const sentEvents = new Map<string, number>();
    for (const e of events.filter((x) => x.outcome === 'sent')) sentEvents.set(e.message_id, (sentEvents.get(e.message_id) ?? 0) + 1);
    const retryReasons = events.filter((e) => e.outcome === 'retry').reduce<Record<string, number>>((m, e) => ((m[e.error ?? ''] = (m[e.error ?? ''] ?? 0) + 1), m), {});
    const sentBy = instances.map((i) => ({ name: i.name, sent: i.logs.filter((l) => l.msg === 'message sent').length, retried: i.logs.filter((l) => l.msg === 'message delivery failed; will retry').length }));

    const figures = {
      messages: rows.length,
      phasesMs: phases,
      recoveryToAllDeliveredMs: phases.allDeliveredAt - phases.recoveredAt,
      providerRequests: { total: peer!.requests.length, answered503: peer!.requests.filter((r) => r.status === 503).length, accepted: [...accepted.values()].reduce((a, b) => a + b, 0) },
      retriesByReason: retryReasons,
      attemptsPerMessage: rows.reduce<Record<string, number>>((m, r) => ((m[String(r.attempts)] = (m[String(r.attempts)] ?? 0) + 1), m), {}),
      byInstance: sentBy,
    };
    console.info('provider-outage:', JSON.stringify(figures));

    expect(sent).toBe(3 * PER_PHASE);
    expect(rows).toHaveLength(3 * PER_PHASE);
    expect(pending).toBe(0);
    expect(rows.filter((r) => r.status !== 'sent')).toEqual([]);
    // exactly once: every message accepted by the provider once, and recorded sent once
    expect([...accepted.keys()].sort()).toEqual(rows.map((r) => r.id).sort());
    expect([...accepted.values()].every((n) => n === 1), JSON.stringify([...accepted.entries()].filter(([, n]) => n !== 1))).toBe(true);
    expect([...sentEvents.values()].every((n) => n === 1) && sentEvents.size === rows.length).toBe(true);
    expect(badSignatures).toBe(0);
    // the outage was real: both failure modes were met and retried
    expect(peer!.requests.some((r) => r.status === 503)).toBe(true);
    expect(Object.keys(retryReasons).some((r) => /HTTP 503/.test(r))).toBe(true);
    expect(Object.keys(retryReasons).some((r) => /ECONNREFUSED|network error/.test(r))).toBe(true);
    // the first messages went through both failure modes and still arrived once
    expect(rows.slice(0, PER_PHASE).every((r) => r.attempts >= 2)).toBe(true);
    // both instances' workers ran (which one claims a round's messages is a race, so the split is only reported)
    for (const i of instances) expect(i.logs.some((l) => l.msg === 'delivery worker started'), `${i.name}'s delivery worker`).toBe(true);
    expect(phases.allDeliveredAt - phases.recoveredAt).toBeLessThan(DELIVERY_DEADLINE_MS);
  }, 120_000);
});
