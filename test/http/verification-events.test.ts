/**
 * GET /v1/tenants/{tenant}/verifications/{id}/events: live updates as server-sent events, over a
 * real listening server read with fetch(). The first event (the same JSON as GET) comes at once;
 * when the IVR, driven by its API key, completes a step, the next event shows it; the stream sends
 * `: ping` comments while idle and ends after the verified event. The same 404/403/401 rules as GET;
 * a session cookie works (EventSource); signing out, or the client leaving, stops the polling.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/http/app.js';
import { api, invitationToken, json, signIn, STRONG, testApp, type TestApp } from '../helpers/app.js';
import { callerFixture, lastCodeTo } from '../helpers/callers.js';

interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
}

const readers: Array<ReadableStreamDefaultReader<Uint8Array>> = [];

/** Reads a text/event-stream response: events in order, comments, and whether the server ended it. */
function sseReader(res: Response) {
  const reader = res.body!.getReader();
  readers.push(reader);
  const decoder = new TextDecoder();
  let buffer = '';
  const events: SseEvent[] = [];
  const comments: string[] = [];
  let ended = false;
  const waiting: Array<() => void> = [];
  const wake = () => waiting.splice(0).forEach((w) => w());
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const ev: SseEvent = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line.slice(1).trim());
            else {
              const i = line.indexOf(':');
              const [k, v] = [line.slice(0, i), line.slice(i + 1).replace(/^ /, '')];
              if (k === 'id' || k === 'event' || k === 'data') ev[k] = v;
            }
          }
          if (ev.event || ev.data) events.push(ev);
          wake();
        }
      }
    } catch {
      /* aborted by the test */
    } finally {
      ended = true;
      wake();
    }
  })();
  /** Waits (up to 15 s) until `ok` holds. */
  const until = async (ok: () => boolean, what: string) => {
    const deadline = Date.now() + 15_000;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; events: ${events.map((e) => e.data?.slice(0, 80)).join(' | ')}`);
      await Promise.race([new Promise<void>((r) => waiting.push(r)), sleep(100)]);
    }
  };
  const view = (e: SseEvent) => JSON.parse(e.data ?? 'null') as Record<string, any>;
  return {
    events,
    comments,
    ended: () => ended,
    view,
    /** The next event after the first `seen` ones. */
    next: async (seen: number) => {
      await until(() => events.length > seen || ended, `event ${seen + 1}`);
      if (events.length <= seen) throw new Error(`stream ended after ${seen} events`);
      return view(events[seen]!);
    },
    end: () => until(() => ended, 'the end of the stream'),
    until,
    cancel: () => reader.cancel(),
  };
}

describe('live verification updates (server-sent events)', () => {
  let t: TestApp;
  let live: FastifyInstance;
  let base: string;
  let f: Awaited<ReturnType<typeof callerFixture>>;
  let ivrKey: string;

  beforeAll(async () => {
    t = await testApp();
    f = await callerFixture(t);
    const key = await api(t.app).post('/v1/tenants/acme/api-keys', { token: f.admin, body: { name: 'IVR', scopes: ['ivr'] } });
    ivrKey = json(key).key;
    // a second instance on the same database, listening for real; short intervals keep the test quick
    live = await buildApp(t.s, { logger: false, console: false, streams: { pollMs: 150, pingMs: 400 } });
    base = await live.listen({ host: '127.0.0.1', port: 0 });
  }, 60_000);
  // a failed test leaves no stream open behind it
  afterEach(async () => {
    await Promise.all(readers.splice(0).map((r) => r.cancel().catch(() => undefined)));
  });
  afterAll(async () => {
    await live?.close();
    await t?.close();
  });

  const ivr = (method: 'GET' | 'POST', url: string, body?: object) => t.app.inject({ method, url, headers: { authorization: `Bearer ${ivrKey}` }, ...(body ? { payload: body } : {}) });
  const startIvr = async (interactionId: string) => {
    const r = await ivr('POST', '/v1/ivr/verifications', { callerAni: '+14155550134', interactionId, attestation: 'A' });
    expect(r.statusCode, r.body).toBe(201);
    return json(r).verification.id as string;
  };
  const open = async (id: string, headers: Record<string, string>) => {
    const res = await fetch(`${base}/v1/tenants/acme/verifications/${id}/events`, { headers });
    return res;
  };

  it('sends the verification at once, again when the IVR completes a step, pings while idle, and ends when verified', async () => {
    const id = await startIvr('call-sse-1');
    const res = await open(id, { authorization: `Bearer ${f.agent}` });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const stream = sseReader(res);

    const first = await stream.next(0);
    expect(stream.events[0]!.event).toBe('verification');
    const got = json(await api(t.app).get(`/v1/tenants/acme/verifications/${id}`, { token: f.agent }));
    expect(first).toEqual(got);
    expect(first).toMatchObject({ id, state: 'pending', completedMethods: [] });

    // idle: comments keep the connection open, and nothing else is sent
    await stream.until(() => stream.comments.includes('ping'), 'a ping');
    expect(stream.events).toHaveLength(1);

    // the IVR (another client, with an API key) checks the PIN
    const pin = await ivr('POST', `/v1/ivr/verifications/${id}/digits`, { digits: '480613#' });
    expect(json(pin)).toMatchObject({ accepted: true, completedMethods: ['pin'] });
    // (a poll may also catch the attempt being claimed just before the PIN is recorded)
    await stream.until(() => stream.events.some((e) => stream.view(e).completedMethods?.includes('pin')), 'the PIN step');
    const second = stream.view(stream.events.find((e) => stream.view(e).completedMethods.includes('pin'))!);
    expect(second).toMatchObject({ id, state: 'pending', completedMethods: ['pin'] });
    expect(second).toEqual(json(await api(t.app).get(`/v1/tenants/acme/verifications/${id}`, { token: f.agent })));
    expect(stream.events.length).toBeGreaterThanOrEqual(2);

    // a code by SMS, then the code: verified, and the stream ends after saying so
    expect(json(await ivr('POST', `/v1/ivr/verifications/${id}/digits`, { digits: '1' }))).toMatchObject({ step: 'code' });
    const code = await lastCodeTo(t, '+14155550134');
    expect(json(await ivr('POST', `/v1/ivr/verifications/${id}/digits`, { digits: `${code}#` }))).toMatchObject({ result: 'verified' });
    await stream.end();
    const last = stream.view(stream.events.at(-1)!);
    expect(last).toMatchObject({ id, state: 'verified', completedMethods: ['pin', 'otp_sms'] });
    expect(stream.events.slice(0, -1).every((e) => stream.view(e).state === 'pending')).toBe(true);
    // no secret in the stream: neither the code nor an assertion
    expect(stream.events.map((e) => e.data).join('\n')).not.toContain(code);
    expect(last.assertion).toBeUndefined();

    // opened again, a finished verification is sent once and the stream ends; an EventSource
    // reconnecting with the final event's id is told to stop (204)
    const again = sseReader(await open(id, { authorization: `Bearer ${f.agent}` }));
    await again.end();
    expect(again.events.map((e) => again.view(e).state)).toEqual(['verified']);
    const reconnect = await open(id, { authorization: `Bearer ${f.agent}`, 'last-event-id': stream.events.at(-1)!.id! });
    expect(reconnect.status).toBe(204);
  });

  it('works with the session cookie (EventSource) and ends after a cancel', async () => {
    const id = await startIvr('call-sse-2');
    const stream = sseReader(await open(id, { cookie: `cw_session=${f.agent}` }));
    expect((await stream.next(0)).state).toBe('pending');
    const canceled = await api(t.app).post(`/v1/tenants/acme/verifications/${id}/cancel`, { token: f.agent });
    expect(canceled.statusCode).toBe(200);
    await stream.end();
    expect(stream.view(stream.events.at(-1)!).state).toBe('canceled');
  });

  it('answers like GET for another tenant (404), an unknown id (404), no permission (403) and no session (401)', async () => {
    const id = await startIvr('call-sse-3');
    const other = await callerFixture(t, { tenant: 'globex' });
    // an auditor of acme holds no verifications.read
    const inv = await api(t.app).post('/v1/tenants/acme/users', { token: f.admin, body: { email: 'audra@acme.test', roles: ['auditor'] } });
    await api(t.app).post('/v1/invitations/accept', { body: { token: await invitationToken(t.s, 'audra@acme.test'), password: STRONG } });
    expect(inv.statusCode).toBe(201);
    const auditor = (await signIn(t.app, 'acme', 'audra@acme.test', STRONG)).token!;
    const cases: Array<[string, string, Record<string, string>, number, string]> = [
      ['other tenant via acme', `/v1/tenants/acme/verifications/${id}/events`, { authorization: `Bearer ${other.admin}` }, 404, 'not_found'],
      ['other tenant via globex', `/v1/tenants/globex/verifications/${id}/events`, { authorization: `Bearer ${other.agent}` }, 404, 'not_found'],
      ['unknown id', `/v1/tenants/acme/verifications/${crypto.randomUUID()}/events`, { authorization: `Bearer ${f.agent}` }, 404, 'not_found'],
      ['auditor', `/v1/tenants/acme/verifications/${id}/events`, { authorization: `Bearer ${auditor}` }, 403, 'forbidden'],
      ['no session', `/v1/tenants/acme/verifications/${id}/events`, {}, 401, 'unauthenticated'],
      ['IVR key', `/v1/tenants/acme/verifications/${id}/events`, { authorization: `Bearer ${ivrKey}` }, 401, 'unauthenticated'],
    ];
    const wrong: string[] = [];
    for (const [name, url, headers, status, code] of cases) {
      const r = await fetch(base + url, { headers });
      const body = await r.text();
      if (r.status !== status || JSON.parse(body).code !== code) wrong.push(`${name}: ${r.status} ${body.slice(0, 100)}`);
    }
    expect(wrong).toEqual([]);
  });

  it('signing out ends an open stream; a client leaving stops its polling', async () => {
    const id = await startIvr('call-sse-4');
    const session = (await signIn(t.app, 'acme', 'agent@acme.test', STRONG)).token!;
    const stream = sseReader(await open(id, { authorization: `Bearer ${session}` }));
    await stream.next(0);
    expect((await api(t.app).post('/v1/auth/logout', { token: session })).statusCode).toBe(200);
    await stream.end();
    expect(stream.events).toHaveLength(1);

    const reads = vi.spyOn(t.s.store.flows, 'readWith');
    try {
      const leaving = sseReader(await open(id, { authorization: `Bearer ${f.agent}` }));
      await leaving.next(0);
      await leaving.until(() => reads.mock.calls.length >= 3, 'the stream to poll');
      await leaving.cancel();
      await sleep(500);
      const after = reads.mock.calls.length;
      await sleep(1_000); // several poll intervals: a leftover timer would read again
      expect(reads.mock.calls.length).toBe(after);
    } finally {
      reads.mockRestore();
    }
  });

  it('shutting the server down ends open streams instead of waiting for the clients', async () => {
    const id = await startIvr('call-sse-5');
    const other = await buildApp(t.s, { logger: false, console: false });
    const url = await other.listen({ host: '127.0.0.1', port: 0 });
    const stream = sseReader(await fetch(`${url}/v1/tenants/acme/verifications/${id}/events`, { headers: { authorization: `Bearer ${f.agent}` } }));
    expect((await stream.next(0)).state).toBe('pending');
    await other.close();
    await stream.end();
    expect(stream.events).toHaveLength(1);
  });
});
