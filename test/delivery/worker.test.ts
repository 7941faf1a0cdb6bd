/**
 * The delivery worker on every backend, with scripted providers and a hand-moved clock: backoff
 * (5 s doubling, 10 attempts), permanent failure, leases of crashed workers, channels without a
 * provider left alone, and no message body in stored errors or logs.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DeliveryError, type Channel, type OutgoingMessage, type Provider } from '../../src/delivery/provider.js';
import { DeliveryWorker, retryDelayMs } from '../../src/delivery/worker.js';
import type { Store } from '../../src/storage/store.js';
import { backends, testStore } from '../helpers/db.js';
import { manualClock, queueMessage } from './peers.js';

/** A provider whose n-th call (0-based) does what `script(n, msg)` says. */
function scripted(script: (n: number, msg: OutgoingMessage) => 'ok' | DeliveryError, channels: Channel[] = ['sms', 'voice']) {
  const calls: OutgoingMessage[] = [];
  const p: Provider = {
    name: 'scripted',
    channels,
    async send(msg) {
      const r = script(calls.push(msg) - 1, msg);
      if (r !== 'ok') throw r;
      return { providerMessageId: `p-${calls.length}` };
    },
  };
  return { p, calls };
}
const retryable = () => new DeliveryError('retryable', 'scripted: HTTP 503', 503);

describe.each(await backends())('delivery worker on %s', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await testStore(backend);
  });
  afterAll(() => store.close());
  // Each test starts with an empty outbox (one store per backend keeps the suite fast).
  beforeEach(async () => {
    await store.db.deleteFrom('outbox').execute();
  });

  it('backs off 5 s, 10 s, 20 s … and gives up after 10 attempts', async () => {
    const clock = manualClock();
    const { p, calls } = scripted(() => retryable());
    const worker = new DeliveryWorker({ outbox: store.outbox, providers: [p], clock: clock.now });
    const { id } = await queueMessage(store, { now: clock.now() });
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 10; attempt++) {
      expect(await worker.runOnce(), `attempt ${attempt}`).toMatchObject({ claimed: 1 });
      const row = (await store.outbox.get(id))!;
      expect(row.attempts).toBe(attempt);
      if (attempt === 10) {
        expect(row).toMatchObject({ status: 'failed', last_error: 'scripted: HTTP 503' });
        break;
      }
      expect(row.status).toBe('pending');
      const wait = row.next_attempt_at.getTime() - clock.now().getTime();
      delays.push(wait);
      clock.advance(wait - 1);
      expect(await worker.runOnce(), 'not due 1 ms early').toMatchObject({ claimed: 0 });
      clock.advance(1);
    }
    expect(delays).toEqual([5, 10, 20, 40, 80, 160, 320, 640, 1280].map((s) => s * 1000));
    expect(calls).toHaveLength(10);
    clock.advance(86_400_000);
    expect(await worker.runOnce()).toMatchObject({ claimed: 0 });
    const events = await store.outbox.events(id);
    expect(events.map((e) => [e.attempt, e.outcome])).toEqual([...Array.from({ length: 9 }, (_, i) => [i + 1, 'retry']), [10, 'failed']]);
    expect(retryDelayMs(30)).toBe(3_600_000);
  });

  it('sends after transient failures and records provider, id and time', async () => {
    const clock = manualClock();
    const { p } = scripted((n) => (n < 2 ? retryable() : 'ok'));
    const worker = new DeliveryWorker({ outbox: store.outbox, providers: [p], clock: clock.now });
    const { id } = await queueMessage(store, { now: clock.now(), locale: 'de' });
    expect(await worker.runOnce()).toMatchObject({ retried: 1 });
    clock.advance(5_000);
    expect(await worker.runOnce()).toMatchObject({ retried: 1 });
    clock.advance(10_000);
    expect(await worker.runOnce()).toEqual({ claimed: 1, sent: 1, retried: 0, failed: 0 });
    expect(await store.outbox.get(id)).toMatchObject({ status: 'sent', attempts: 3, provider: 'scripted', provider_message_id: 'p-3', sent_at: clock.now(), last_error: null, locale: 'de' });
    expect((await store.outbox.events(id)).map((e) => e.outcome)).toEqual(['retry', 'retry', 'sent']);
  });

  it('a permanent refusal fails the message at once', async () => {
    const clock = manualClock();
    const { p, calls } = scripted(() => new DeliveryError('permanent', 'scripted: HTTP 400', 400));
    const worker = new DeliveryWorker({ outbox: store.outbox, providers: [p], clock: clock.now });
    const { id } = await queueMessage(store, { now: clock.now() });
    expect(await worker.drain()).toEqual({ claimed: 1, sent: 0, retried: 0, failed: 1 });
    expect(await store.outbox.get(id)).toMatchObject({ status: 'failed', attempts: 1, last_error: 'scripted: HTTP 400', sent_at: null });
    clock.advance(3_600_000);
    expect(await worker.runOnce()).toMatchObject({ claimed: 0 });
    expect(calls).toHaveLength(1);
  });

  it('a crashed worker\'s claim is taken again when its lease runs out; its late outcome is not applied', async () => {
    const clock = manualClock();
    const { p, calls } = scripted(() => 'ok');
    const worker = new DeliveryWorker({ outbox: store.outbox, providers: [p], clock: clock.now, leaseMs: 60_000 });
    const { id } = await queueMessage(store, { now: clock.now() });
    // another worker claims it and dies before recording anything
    const [claimed] = await store.outbox.claimDue({ channels: ['sms'], now: clock.now(), leaseMs: 60_000, limit: 100 }).then((r) => r.filter((m) => m.id === id));
    expect(claimed).toMatchObject({ id, attempt: 1 });
    expect(await worker.runOnce()).toMatchObject({ claimed: 0 });
    clock.advance(60_000);
    expect(await worker.runOnce()).toMatchObject({ claimed: 1, sent: 1 });
    expect(calls.map((m) => m.id)).toEqual([id]);
    // the first worker comes back and reports a retry: the message stays sent
    expect(await store.outbox.finish({ id, attempt: 1, provider: 'scripted', outcome: 'retry', error: 'late', nextAttemptAt: clock.now(), now: clock.now() })).toBe(false);
    expect(await store.outbox.get(id)).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('leaves channels without a provider alone: pending, unclaimed, readable', async () => {
    const clock = manualClock();
    const { p, calls } = scripted(() => 'ok', ['email']);
    const emailOnly = new DeliveryWorker({ outbox: store.outbox, providers: [p], clock: clock.now });
    const sms = await queueMessage(store, { channel: 'sms', now: clock.now() });
    const voice = await queueMessage(store, { tenantId: sms.tenantId, channel: 'voice', now: clock.now() });
    const mail = await queueMessage(store, { tenantId: sms.tenantId, channel: 'email', recipient: 'a@example.com', now: clock.now() });
    expect(await emailOnly.drain()).toMatchObject({ claimed: 1, sent: 1 });
    expect(calls.map((m) => m.id)).toEqual([mail.id]);
    for (const id of [sms.id, voice.id]) expect(await store.outbox.get(id)).toMatchObject({ status: 'pending', attempts: 0, provider: null });
    const none = new DeliveryWorker({ outbox: store.outbox, providers: [], clock: clock.now });
    expect(none.channels).toEqual([]);
    expect(await none.runOnce()).toMatchObject({ claimed: 0 });
    const listed = await store.outbox.list({ tenantId: sms.tenantId });
    expect(listed.map((m) => m.id).sort()).toEqual([sms.id, voice.id, mail.id].sort());
  });

  it('never stores or logs the body, even when a provider echoes it', async () => {
    const clock = manualClock();
    const lines: string[] = [];
    const log = pino({ level: 'trace' }, new Writable({ write: (c: Buffer, _e, cb) => void (lines.push(c.toString()), cb()) }));
    const body = 'Your Callwarden code is 731946';
    const { p } = scripted((n, m) => (n === 0 ? new DeliveryError('retryable', `provider said: bad text "${m.body}"`) : 'ok'));
    const worker = new DeliveryWorker({ outbox: store.outbox, providers: [p], clock: clock.now, log });
    const { id } = await queueMessage(store, { body, now: clock.now() });
    await worker.runOnce();
    clock.advance(5_000);
    await worker.runOnce();
    const row = (await store.outbox.get(id))!;
    expect(row.status).toBe('sent');
    const events = await store.outbox.events(id);
    expect(events[0]!.error).toBe('provider said: bad text "[redacted]"');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    const all = lines.join('') + JSON.stringify(events);
    expect(all).not.toContain('731946');
    expect(all).not.toContain('+15550100');
  });
});
