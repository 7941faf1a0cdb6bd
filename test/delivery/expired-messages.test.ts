/**
 * Codes are never delivered after they expire: a message whose expires_at has passed is failed with
 * reason 'expired' without a provider call; a retry that would come after the expiry is not
 * scheduled; messages without an expiry are unaffected; and a verification code's message carries
 * the code's expiry (end to end, with the test clock driving the worker).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryError, type OutgoingMessage, type Provider } from '../../src/delivery/provider.js';
import { DeliveryWorker } from '../../src/delivery/worker.js';
import type { Store } from '../../src/storage/store.js';
import { api, json, testApp } from '../helpers/app.js';
import { callerFixture } from '../helpers/callers.js';
import { backends, testStore } from '../helpers/db.js';
import { seedTenant } from '../helpers/fixtures.js';
import { manualClock } from './peers.js';

function recording(answer: () => 'ok' | DeliveryError = () => 'ok', channels: Provider['channels'] = ['sms', 'voice', 'email']) {
  const calls: OutgoingMessage[] = [];
  const p: Provider = {
    name: 'recording',
    channels,
    async send(msg) {
      calls.push(msg);
      const r = answer();
      if (r !== 'ok') throw r;
      return { providerMessageId: `p-${calls.length}` };
    },
  };
  return { p, calls };
}

describe.each(await backends())('expiring messages on %s', (backend) => {
  let store: Store;
  let tenantId: string;
  beforeAll(async () => {
    store = await testStore(backend);
    tenantId = (await seedTenant(store)).id;
  });
  afterAll(() => store.close());

  const queue = async (now: Date, expiresAt: Date | null) => {
    const id = randomUUID();
    await store.outbox.add({ id, tenantId, channel: 'sms', recipient: '+15550100', template: 'verification_code_sms', subject: 'Code', body: 'Your code is 493817', now, expiresAt });
    return id;
  };

  it('fails an expired message with reason "expired" and never calls the provider', async () => {
    const clock = manualClock();
    const id = await queue(clock.now(), new Date(clock.now().getTime() + 10 * 60_000));
    clock.advance(10 * 60_000); // exactly at expiry: too late
    const { p, calls } = recording();
    const worker = new DeliveryWorker({ outbox: store.outbox, providers: [p], clock: clock.now });
    expect(await worker.runOnce()).toEqual({ claimed: 1, sent: 0, retried: 0, failed: 1 });
    expect(calls).toEqual([]);
    expect(await store.outbox.get(id)).toMatchObject({ status: 'failed', last_error: 'expired', attempts: 1, sent_at: null });
    expect(await store.outbox.events(id)).toMatchObject([{ outcome: 'failed', error: 'expired', provider: 'recording' }]);
  });

  it('sends a message before its expiry, and one without expiry whenever it is due', async () => {
    const clock = manualClock();
    const soon = await queue(clock.now(), new Date(clock.now().getTime() + 60_000));
    const never = await queue(new Date(clock.now().getTime() - 86_400_000), null);
    const { p, calls } = recording();
    clock.advance(59_999);
    expect(await new DeliveryWorker({ outbox: store.outbox, providers: [p], clock: clock.now }).drain()).toMatchObject({ sent: 2, failed: 0 });
    expect(calls).toHaveLength(2);
    expect((await store.outbox.get(soon))!.status).toBe('sent');
    expect((await store.outbox.get(never))!.status).toBe('sent');
  });

  it('does not schedule a retry that would come after the expiry', async () => {
    const clock = manualClock();
    const { p, calls } = recording(() => new DeliveryError('retryable', 'recording: HTTP 503', 503));
    const worker = new DeliveryWorker({ outbox: store.outbox, providers: [p], clock: clock.now, baseDelayMs: 5_000 });
    const id = await queue(clock.now(), new Date(clock.now().getTime() + 12_000));
    expect(await worker.runOnce()).toMatchObject({ retried: 1 }); // next try at +5 s: still in time
    clock.advance(5_000);
    expect(await worker.runOnce()).toMatchObject({ failed: 1 }); // next would be at +15 s: past the expiry
    expect(calls).toHaveLength(2);
    expect(await store.outbox.get(id)).toMatchObject({ status: 'failed', last_error: 'expired: recording: HTTP 503' });
  });
});

describe('a verification code message', () => {
  it('expires with its code, and the worker on the same clock fails it instead of sending it late', async () => {
    const t = await testApp();
    try {
      const f = await callerFixture(t);
      const v = json(await api(t.app).post('/v1/tenants/acme/verifications', { token: f.agent, body: { customerId: f.customerId, interactionId: 'call-late' } }));
      const sent = await api(t.app).post(`/v1/tenants/acme/verifications/${v.id}/codes`, { token: f.agent, body: { contactId: f.phoneId, channel: 'sms' } });
      expect(sent.statusCode, sent.body).toBe(200);
      const [m] = await t.s.store.outbox.list({ recipient: '+14155550134', limit: 1 });
      expect(m!.expires_at?.toISOString()).toBe(json(sent).expiresAt);
      expect(m!.expires_at!.getTime() - m!.created_at.getTime()).toBe(10 * 60_000);
      t.clock.advance(10 * 60_000 + 1); // the provider was down all along; the code is now useless
      const { p, calls } = recording(() => 'ok', ['sms']); // (the staff invitations wait on email)
      expect(await new DeliveryWorker({ outbox: t.s.store.outbox, providers: [p], clock: t.clock.now }).drain()).toMatchObject({ sent: 0, failed: 1 });
      expect(calls).toEqual([]);
      expect(await t.s.store.outbox.get(m!.id)).toMatchObject({ status: 'failed', last_error: 'expired' });
    } finally {
      await t.close();
    }
  });
});
