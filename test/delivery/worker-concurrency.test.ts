/**
 * Two workers draining one outbox at the same time send every message exactly once, counted at the
 * receiving peer. On PostgreSQL the workers use two separate store handles (as two instances would);
 * on PGlite they share the single embedded connection.
 */
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/storage/db.js';
import { createStore, type Store } from '../../src/storage/store.js';
import { webhookProvider, MESSAGE_ID_HEADER, verifyWebhookSignature, SIGNATURE_HEADER } from '../../src/delivery/webhook.js';
import { DeliveryWorker } from '../../src/delivery/worker.js';
import { bindOutboxSealing } from '../../src/storage/repositories/outbox.js';
import { backends, TEST_OUTBOX_KEY, testStore } from '../helpers/db.js';
import { seedTenant } from '../helpers/fixtures.js';
import { httpPeer, queueMessage } from './peers.js';

const SECRET = 'concurrency-test-secret-0123456789abcdef';
const N = 200;

describe.each(await backends())('two workers on %s', (backend) => {
  it(`drain ${N} messages concurrently and send each exactly once`, async () => {
    const first = await testStore(backend);
    const second: Store = backend === 'postgres' ? createStore(await openDatabase({ url: first.url!, poolSize: 5 })) : first;
    bindOutboxSealing(second.db, TEST_OUTBOX_KEY); // the second instance opens the messages with the same key
    const received = new Map<string, number>();
    let badSignatures = 0;
    const peer = await httpPeer((r) => {
      const id = r.headers[MESSAGE_ID_HEADER] as string;
      received.set(id, (received.get(id) ?? 0) + 1);
      if (!verifyWebhookSignature({ secret: SECRET, header: r.headers[SIGNATURE_HEADER] as string, body: r.body })) badSignatures++;
      return { json: { id: `rcv-${id}` }, delayMs: Math.floor(Math.random() * 5) };
    });
    try {
      const tenant = await seedTenant(first);
      const ids: string[] = [];
      for (let i = 0; i < N; i++) ids.push((await queueMessage(first, { tenantId: tenant.id, recipient: `+1555${String(i).padStart(7, '0')}`, body: `Your code is ${100000 + i}` })).id);
      const worker = (s: Store) => new DeliveryWorker({ outbox: s.outbox, providers: [webhookProvider({ url: peer.url, secret: SECRET })], batchSize: 10 });
      const [a, b] = await Promise.all([worker(first).drain(), worker(second).drain()]);
      expect(a.sent + b.sent).toBe(N);
      expect(a.sent, 'both workers took part').toBeGreaterThan(0);
      expect(b.sent, 'both workers took part').toBeGreaterThan(0);
      expect(a.retried + a.failed + b.retried + b.failed).toBe(0);
      expect(received.size).toBe(N);
      expect([...received.values()].every((n) => n === 1)).toBe(true);
      expect(peer.received).toHaveLength(N);
      expect(badSignatures).toBe(0);
      const rows = await first.db.selectFrom('outbox').select(['id', 'status', 'attempts', 'provider_message_id']).execute();
      expect(rows).toHaveLength(N);
      for (const r of rows) expect(r).toMatchObject({ status: 'sent', attempts: 1, provider_message_id: `rcv-${r.id}` });
      const events = await first.db.selectFrom('delivery_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      expect(Number(events.n)).toBe(N);
      expect(new Set(ids)).toEqual(new Set(received.keys()));
    } finally {
      await peer.close();
      if (second !== first) await second.close();
      await first.close();
    }
  });
});
