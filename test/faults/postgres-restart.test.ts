/**
 * Fault: PostgreSQL restarts in the middle of a load.
 *
 * A PostgreSQL server of the test's own (initdb in a temp dir, a free port; never the shared one),
 * one `callwarden serve` on it, and clients running password sign-ins and complete caller
 * verifications in a loop. After a few seconds PostgreSQL is stopped (`pg_ctl stop -m fast`: open
 * sessions are terminated), left down for 2 s, and started again.
 *
 * While it is down, requests fail fast with 503 `unavailable` (each answers within OUTAGE_BOUND_MS;
 * none hangs, none is a 500) and /readyz says 503; once it is back, requests succeed again within
 * 5 s. Clients retry a failed step; afterwards no sign-in flow or verification is half-written,
 * every audit event behind a 2xx is stored and the chain verifies.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/storage/db.js';
import { serveCommand, startInstance, type Instance, type Target } from '../multi-instance/cluster.js';
import {
  baseEnv, get, missingEvents, PASSWORD, percentiles, post, postgresBinDir, readCode, requirements, sealedAndVerified, setupTenant, signinConsistency, startOwnPostgres, stopwatch,
  verificationConsistency, type OwnPostgres, type Seen, type Tenant, type Timed,
} from './support.js';

const { ready } = requirements({ 'PostgreSQL server binaries (/usr/lib/postgresql/*/bin)': !!postgresBinDir() }, 'restart PostgreSQL');

const WORKERS = 6;
const CUSTOMERS = 48;
/** Every request made while PostgreSQL is down must answer within this (generous; failures are expected in milliseconds). */
const OUTAGE_BOUND_MS = 5000;
/** After PostgreSQL accepts connections again, requests must succeed within this. */
const RECOVERY_BOUND_MS = 5000;
const DOWN_FOR_MS = 2000;

interface Rec extends Timed {
  kind: string;
  startedAt: number;
  endedAt: number;
}

describe.skipIf(!ready)('fault: PostgreSQL restarts during a sign-in and verification load', () => {
  const clock = stopwatch('fault postgres-restart');
  let pg: OwnPostgres | undefined;
  let instance: Instance | undefined;
  let dataDir: string | undefined;
  let database: Database | undefined;
  let T: Target;
  let tenant: Tenant;

  beforeAll(async () => {
    pg = await startOwnPostgres();
    clock.lap('initdb + start PostgreSQL');
    dataDir = mkdtempSync(join(tmpdir(), 'cw-faults-pgrestart-'));
    instance = await startInstance('A', baseEnv({ DATABASE_URL: pg.url, CALLWARDEN_DATA_DIR: dataDir }));
    T = { name: 'A', base: instance.url, viaProxy: false };
    clock.lap(`instance (${serveCommand().kind})`);
    tenant = await setupTenant(T, { agents: 3, customers: CUSTOMERS });
    clock.lap('tenant setup');
  }, 120_000);

  afterAll(async () => {
    await instance?.stop();
    await database?.close();
    await pg?.destroy();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    clock.summary();
  }, 60_000);

  it('requests fail fast with 503 while it is down, succeed again within 5 s after, and nothing is half-written', async () => {
    const recs: Rec[] = [];
    const seen: Seen[] = [];
    const t0 = performance.now();
    const at = () => performance.now() - t0;
    const timeline: { stopIssued?: number; down?: number; startIssued?: number; up?: number } = {};
    let stopping = false;
    const counts = { signins: 0, verifications: 0, stepRetries: 0, signinRestarts: 0, verificationRestarts: 0 };

    /** One request, recorded. */
    const req = async (kind: string, r: Promise<Timed>): Promise<Rec> => {
      const startedAt = at();
      const x = await r;
      const rec = { ...x, kind, startedAt, endedAt: at() };
      recs.push(rec);
      return rec;
    };
    const failed = (r: Timed) => r.status === 0 || r.status >= 500;
    /** A step retried (a client's retry) while it fails with no answer or a 5xx; gives up only when the test stops. */
    const step = async (kind: string, make: () => Promise<Timed>): Promise<Rec | undefined> => {
      for (;;) {
        const r = await req(kind, make());
        if (!failed(r)) return r;
        counts.stepRetries++;
        if (stopping) return undefined;
        await sleep(100);
      }
    };

    const signin = async (email: string) => {
      const start = await step('signin.start', () => post(T, '/v1/auth/flows', { tenant: tenant.slug, identifier: email }));
      if (!start) return;
      if (start.status !== 201) throw new Error(`sign-in start: ${start.status} ${start.text}`);
      const pw = await step('signin.password', () => post(T, `/v1/auth/flows/${start.body.flow.id}/password`, { password: PASSWORD }, { flow: start.body.flowToken }));
      if (!pw) return;
      if (pw.status === 200) {
        expect(pw.body.flow.state).toBe('completed');
        seen.push({ requestId: pw.requestId, types: ['auth.attempt', 'session.created'] });
        counts.signins++;
        return;
      }
      // the step committed but its answer was lost (the token has moved on): start over, as a client would
      if (['flow_invalid', 'flow_state'].includes(pw.body.code)) {
        counts.signinRestarts++;
        return;
      }
      throw new Error(`sign-in password: ${pw.status} ${pw.text}`);
    };

    const verification = async (customer: Tenant['customers'][number], token: string, n: number) => {
      const base = `/v1/tenants/${tenant.slug}/verifications`;
      const started = await step('verification.start', () => post(T, base, { customerId: customer.id, interactionId: `call-${n}` }, { token }));
      if (!started) return;
      if (started.status !== 201) throw new Error(`verification start: ${started.status} ${started.text}`);
      seen.push({ requestId: started.requestId, types: ['verification.started'] });
      const id = started.body.id as string;
      for (let round = 0; round < 3; round++) {
        const sent = await step('verification.send', () => post(T, `${base}/${id}/codes`, { contactId: customer.phoneId, channel: 'sms' }, { token }));
        if (!sent) return;
        if (sent.status !== 200) throw new Error(`send: ${sent.status} ${sent.text}`);
        seen.push({ requestId: sent.requestId, types: ['verification.code_sent'] });
        let code: string | undefined;
        const read = await step('verification.read', async () => {
          const r = await readCode(T, tenant, customer.phone);
          code = r.code;
          return r.reply;
        });
        if (!read) return;
        if (!code) throw new Error(`no code for ${customer.phone}`);
        const c = code;
        const checked = await step('verification.check', () => post(T, `${base}/${id}/codes/check`, { code: c }, { token }));
        if (!checked) return;
        if (checked.status === 200) {
          seen.push({ requestId: checked.requestId, types: ['verification.step', 'verification.verified'] });
          counts.verifications++;
          return;
        }
        if (checked.status === 409 && checked.body.details?.state === 'verified') {
          counts.verifications++; // a retry of a check that committed before its answer was lost
          return;
        }
        if (checked.body.code === 'invalid_factor' && checked.body.details?.reason === 'code_used') {
          counts.verificationRestarts++; // a spent code without its result would be a half-written flow (the checks below)
          continue;
        }
        throw new Error(`check: ${checked.status} ${checked.text}`);
      }
    };

    let n = 0;
    const worker = async (w: number) => {
      const mine = tenant.customers.filter((_, i) => i % WORKERS === w);
      const email = tenant.agentEmails[w % tenant.agentEmails.length]!;
      const token = tenant.agents[w % tenant.agents.length]!;
      for (let i = 0; !stopping; i++) {
        await signin(email);
        if (stopping) break;
        await verification(mine[i % mine.length]!, token, n++);
      }
    };
    const readiness: Array<{ at: number; status: number; ms: number }> = [];
    const prober = (async () => {
      while (!stopping) {
        const startedAt = at();
        const r = await get(T, '/readyz');
        readiness.push({ at: startedAt, status: r.status, ms: r.ms });
        await sleep(100);
      }
    })();
    const fault = (async () => {
      await sleep(3000);
      timeline.stopIssued = at();
      await pg!.stop('fast');
      timeline.down = at();
      await sleep(DOWN_FOR_MS);
      timeline.startIssued = at();
      await pg!.start();
      timeline.up = at();
      await sleep(RECOVERY_BOUND_MS + 2500);
      stopping = true;
    })();
    await Promise.all([...Array.from({ length: WORKERS }, (_, w) => worker(w)), prober, fault]);
    clock.lap('load with the restart');

    const { stopIssued, down, up } = timeline as Required<typeof timeline>;
    const during = recs.filter((r) => r.startedAt >= stopIssued && r.startedAt < up);
    const after = recs.filter((r) => r.startedAt >= up);
    const outageFailures = during.filter(failed);
    const statusCount = (rs: Rec[]) => rs.reduce<Record<string, number>>((m, r) => ((m[`${r.status} ${r.status < 300 ? 'ok' : r.body.code ?? ''}`.trim()] = (m[`${r.status} ${r.status < 300 ? 'ok' : r.body.code ?? ''}`.trim()] ?? 0) + 1), m), {});
    const firstOk = after.filter((r) => r.status > 0 && r.status < 300).sort((a, b) => a.endedAt - b.endedAt)[0];
    const lateFailures = after.filter((r) => r.startedAt >= up + RECOVERY_BOUND_MS && failed(r));
    const readyBackAt = readiness.find((p) => p.at >= up && p.status === 200)?.at;

    const figures = {
      requests: recs.length,
      timelineMs: { stopIssued: Math.round(stopIssued), down: Math.round(down), up: Math.round(up), pgStopTook: Math.round(down - stopIssued), pgStartTook: Math.round(up - timeline.startIssued!) },
      outage: { requests: during.length, byStatus: statusCount(during), latency: percentiles(outageFailures.map((r) => r.ms)) },
      readyzDuringOutage: statusCount(readiness.filter((p) => p.at >= down && p.at < timeline.startIssued!).map((p) => ({ status: p.status, body: {} }) as Rec)),
      firstSuccessAfterUpMs: firstOk ? Math.round(firstOk.endedAt - up) : null,
      readyzBackAfterUpMs: readyBackAt !== undefined ? Math.round(readyBackAt - up) : null,
      afterRecovery: { requests: after.length, byStatus: statusCount(after) },
      before: { latency: percentiles(recs.filter((r) => r.endedAt < stopIssued).map((r) => r.ms)) },
      completed: counts,
    };
    console.info('postgres-restart:', JSON.stringify(figures));

    // the instance survived the outage
    expect(instance!.proc.exitCode, `the instance exited: ${instance!.stderr.join('').slice(-3000)}`).toBeNull();
    expect(instance!.proc.signalCode).toBeNull();
    // nothing hangs, nothing is a 500: every answer is a success, a 4xx or 503 unavailable
    expect(recs.filter((r) => r.status === 0).map((r) => `${r.kind}: ${r.text}`)).toEqual([]);
    expect(recs.filter((r) => r.status >= 500 && !(r.status === 503 && r.body.code === 'unavailable')).map((r) => `${r.kind}: ${r.status} ${r.text}`)).toEqual([]);
    // the outage was seen, and failed fast
    expect(outageFailures.length).toBeGreaterThan(0);
    expect(Math.max(...during.map((r) => r.ms))).toBeLessThan(OUTAGE_BOUND_MS);
    const outageProbes = readiness.filter((p) => p.at >= down && p.at < timeline.startIssued!);
    expect(outageProbes.length, 'readiness probes while PostgreSQL was down').toBeGreaterThan(0); // an empty list would pass .every
    expect(outageProbes.every((p) => p.status === 503), JSON.stringify(statusCount(outageProbes.map((p) => ({ status: p.status, body: {} }) as Rec)))).toBe(true);
    // back within 5 s: a success soon after PostgreSQL is up, and no failure of a request started later
    expect(firstOk).toBeDefined();
    expect(firstOk!.endedAt - up).toBeLessThan(RECOVERY_BOUND_MS);
    expect(lateFailures.map((r) => `${r.kind}: ${r.status} ${r.text}`)).toEqual([]);
    expect(counts.signins).toBeGreaterThan(0);
    expect(counts.verifications).toBeGreaterThan(0);

    // nothing half-written; every event a client saw committed is stored; the chain verifies
    database = await openDatabase({ url: pg!.url, poolSize: 2 });
    const db = database.db;
    const lost = await missingEvents(db, seen);
    expect(lost).toEqual([]);
    const verifications = await verificationConsistency(db, tenant.slug);
    expect(verifications.problems).toEqual([]);
    const signins = await signinConsistency(db, tenant.slug);
    expect(signins.problems).toEqual([]);
    const chain = await sealedAndVerified(db);
    expect(chain.unsealed).toBe(0);
    expect(chain.report.ok, JSON.stringify(chain.report.tenants.filter((t) => t.problems.length))).toBe(true);
    expect(instance!.logs.filter((l) => l.msg === 'unhandled error')).toEqual([]);
    clock.lap('checks');
    console.info('postgres-restart consistency:', JSON.stringify({ verifications: verifications.byState, abandonedVerifications: verifications.abandoned, signinFlows: signins.byState, signinDeadEnds: signins.deadEnds, eventsSeenCommitted: seen.reduce((k, s) => k + s.types.length, 0), sealedEvents: chain.sealed }));
  }, 120_000);
});
