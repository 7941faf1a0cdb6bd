/**
 * Fault: an instance dies (SIGKILL) in the middle of a caller-verification load.
 *
 * Two `callwarden serve` processes on one throw-away PostgreSQL database and one Redis (our own
 * redis-server). Agents run complete caller verifications (start, send an SMS code, read it from the
 * dev outbox API, check it) spread over both instances, several at a time. Once a third of the flows
 * are done, and while requests are in flight on A, A is killed with SIGKILL. Clients retry a request
 * that failed on A on B (as a balancer would) and carry on with B.
 *
 * Then: every flow completed (through B), every audit event behind a 2xx a client received is in
 * the database, B's sealer seals what A left unsealed and the chain verifies, and no verification is
 * half-written (verified <=> method recorded <=> code consumed <=> its events; every code has its
 * outbox message).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/storage/db.js';
import { createPgDatabase, postgresAvailable } from '../helpers/db.js';
import { serveCommand, startInstance, type Instance, type Target } from '../multi-instance/cluster.js';
import {
  baseEnv, expectStatus, get, missingEvents, percentiles, readCode, redisServerBinary, requirements, sealedAndVerified, setupTenant, startOwnRedis, stopwatch, timed,
  verificationConsistency, type OwnRedis, type Seen, type Tenant, type Timed,
} from './support.js';

const { ready } = requirements({ 'PostgreSQL on 127.0.0.1:5432': await postgresAvailable(), 'redis-server': !!redisServerBinary() }, 'kill -9 an instance');

const FLOWS = 60;
const CONCURRENCY = 12;
const KILL_AFTER = 20; // completed flows

describe.skipIf(!ready)('fault: kill -9 an instance during a caller-verification load', () => {
  const clock = stopwatch('fault kill-instance');
  let dropDb: (() => Promise<void>) | undefined;
  let database: Database | undefined;
  let redis: OwnRedis | undefined;
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
    dataDir = mkdtempSync(join(tmpdir(), 'cw-faults-kill-'));
    const env = baseEnv({ DATABASE_URL: pgDb.url, REDIS_URL: redis.url, CALLWARDEN_DATA_DIR: dataDir, CALLWARDEN_PUBLIC_URL: 'http://127.0.0.1:9' });
    clock.lap('databases');
    const [a, b] = await Promise.all([startInstance('A', env), startInstance('B', env)]);
    instances.push(a, b);
    A = { name: 'A', base: a.url, viaProxy: false };
    B = { name: 'B', base: b.url, viaProxy: false };
    clock.lap(`2 instances (${serveCommand().kind})`);
    tenant = await setupTenant(A, { agents: 3, customers: FLOWS, other: B });
    clock.lap('tenant setup');
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled(instances.map((i) => i.stop()));
    await database?.close();
    await dropDb?.().catch(() => undefined);
    await redis?.destroy();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    clock.summary();
  }, 60_000);

  it('clients finish every flow on B; no committed event is lost; the chain verifies; no flow is half-written', async () => {
    const db = database!.db;
    const [a] = instances as [Instance, Instance];
    const inflight = { A: 0, B: 0 };
    let aDown = false;
    let killedAt: number | undefined;
    let inflightOnAAtKill = 0;
    const log: Array<Timed & { target: string; what: string; at: number }> = [];
    const failedOnA: Array<{ what: string; status: number; text: string; afterKill: boolean }> = [];
    const seen: Seen[] = [];
    const notes = { committedByA: 0, codeLostWithA: 0, failovers: 0 };

    /** One request, on `prefer` unless A is known down; a failure on A (no answer, or 5xx) is retried on B. */
    const send = async (what: string, prefer: Target, method: string, path: string, o: { token: string; body?: unknown }): Promise<Timed & { target: string }> => {
      let t = prefer === A && aDown ? B : prefer;
      for (;;) {
        const name = t.name as 'A' | 'B';
        inflight[name]++;
        const r = await timed(t, method, path, o);
        inflight[name]--;
        const entry = { ...r, target: name, what, at: clock.now() };
        log.push(entry);
        if (r.status !== 0 && r.status < 500) return entry;
        if (t === A) {
          failedOnA.push({ what, status: r.status, text: r.text.slice(0, 200), afterKill: killedAt !== undefined });
          aDown = true;
          notes.failovers++;
          t = B;
          continue;
        }
        throw new Error(`${what} failed on B: ${r.status} ${r.text.slice(0, 300)}`);
      }
    };

    const verified = new Set<string>();
    let completed = 0;
    const runFlow = async (i: number) => {
      const c = tenant.customers[i]!;
      const home = i % 2 ? B : A;
      const token = tenant.agents[i % tenant.agents.length]!;
      const base = `/v1/tenants/${tenant.slug}/verifications`;
      const started = await send('start', home, 'POST', base, { token, body: { customerId: c.id, interactionId: `call-${i}` } });
      const v = expectStatus(started, 201, `start flow ${i}`);
      seen.push({ requestId: started.requestId, types: ['verification.started'], targetId: v.id });
      for (let round = 0; round < 4; round++) {
        const sent = await send('send', home, 'POST', `${base}/${v.id}/codes`, { token, body: { contactId: c.phoneId, channel: 'sms' } });
        expectStatus(sent, 200, `send code, flow ${i}`);
        seen.push({ requestId: sent.requestId, types: ['verification.code_sent'], targetId: v.id });
        let code: string | undefined;
        for (let tries = 0; !code && tries < 3; tries++) {
          const t = home === A && aDown ? B : home;
          const read = await readCode(t, tenant, c.phone);
          log.push({ ...read.reply, target: t.name, what: 'read', at: clock.now() });
          if (read.reply.status === 0 || read.reply.status >= 500) {
            if (t === A) {
              aDown = true;
              notes.failovers++;
              continue;
            }
            throw new Error(`outbox read failed on B: ${read.reply.status}`);
          }
          code = read.code;
        }
        if (!code) throw new Error(`no code for flow ${i}`);
        const checked = await send('check', home, 'POST', `${base}/${v.id}/codes/check`, { token, body: { code } });
        if (checked.status === 200) {
          expect(checked.body.state).toBe('verified');
          seen.push({ requestId: checked.requestId, types: ['verification.step', 'verification.verified'], targetId: v.id });
          verified.add(v.id);
          break;
        }
        if (checked.status === 409 && checked.body.details?.state === 'verified') {
          // A verified it and died before answering: the flow is whole, the client just lost the answer
          const now = expectStatus(await send('read flow', B, 'GET', `${base}/${v.id}`, { token }), 200, 'read flow');
          expect(now.state).toBe('verified');
          notes.committedByA++;
          verified.add(v.id);
          break;
        }
        if (checked.body.code === 'invalid_factor' && checked.body.details?.reason === 'code_used') {
          // the code was spent by a check that died with A without recording the method: resend
          notes.codeLostWithA++;
          continue;
        }
        throw new Error(`check of flow ${i}: ${checked.status} ${checked.text}`);
      }
      completed++;
    };

    let next = 0;
    const worker = async () => {
      for (let i = next++; i < FLOWS; i = next++) await runFlow(i);
    };
    const killer = (async () => {
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        if ((completed >= KILL_AFTER && inflight.A >= 4) || (completed >= KILL_AFTER + 15 && inflight.A >= 1) || completed >= FLOWS - CONCURRENCY) {
          inflightOnAAtKill = inflight.A;
          killedAt = clock.now();
          a.proc.kill('SIGKILL');
          return;
        }
        await sleep(2);
      }
    })();
    const loadStart = clock.now();
    await Promise.all([...Array.from({ length: CONCURRENCY }, worker), killer]);
    const loadMs = clock.now() - loadStart;
    clock.lap('load');
    await new Promise<void>((resolve) => (a.proc.exitCode !== null || a.proc.signalCode !== null ? resolve() : a.proc.once('exit', () => resolve())));
    expect(a.proc.signalCode).toBe('SIGKILL');

    // every flow completed, and B says so
    expect(verified.size).toBe(FLOWS);
    const finals = await Promise.all([...verified].map((id) => get(B, `/v1/tenants/${tenant.slug}/verifications/${id}`, { token: tenant.admin })));
    expect(finals.map((r) => r.body.state)).toEqual(Array(FLOWS).fill('verified'));
    // A failed only after it was killed, and only by not answering; B never failed
    expect(failedOnA.filter((f) => !f.afterKill)).toEqual([]);
    expect(failedOnA.length).toBeGreaterThan(0);
    expect(inflightOnAAtKill).toBeGreaterThan(0);
    expect(log.filter((l) => l.target === 'B' && (l.status === 0 || l.status >= 500))).toEqual([]);

    // every audit event behind a 2xx answer is stored (those of A's answers too)
    const lost = await missingEvents(db, seen);
    expect(lost).toEqual([]);
    // B's sealer sealed what A left; the chain verifies
    const chain = await sealedAndVerified(db);
    expect(chain.unsealed).toBe(0);
    expect(chain.report.ok, JSON.stringify(chain.report.tenants.filter((t) => t.problems.length))).toBe(true);
    // no half-written verification
    const consistency = await verificationConsistency(db, tenant.slug);
    expect(consistency.problems).toEqual([]);
    clock.lap('checks');

    const byTarget = (t: string) => log.filter((l) => l.target === t);
    const answeredByA = byTarget('A').filter((l) => l.status > 0);
    const figures = {
      flows: FLOWS,
      concurrency: CONCURRENCY,
      loadMs,
      killedAtMs: killedAt! - loadStart,
      inflightOnAAtKill,
      requests: { A: byTarget('A').length, B: byTarget('B').length, answeredByA: answeredByA.length },
      failedOnA: failedOnA.length,
      failedOnAByStatus: failedOnA.reduce<Record<string, number>>((m, f) => ((m[String(f.status)] = (m[String(f.status)] ?? 0) + 1), m), {}),
      failovers: notes.failovers,
      verifiedByADespiteLostAnswer: notes.committedByA,
      codesSpentByADyingCheck: notes.codeLostWithA,
      eventsSeenCommitted: seen.reduce((n, s) => n + s.types.length, 0),
      eventsLost: lost.length,
      sealedEvents: chain.sealed,
      verifications: consistency.byState,
      abandonedByA: consistency.abandoned,
      latencyB: percentiles(byTarget('B').map((l) => l.ms)),
    };
    console.info('kill-instance:', JSON.stringify(figures));
  }, 120_000);
});
