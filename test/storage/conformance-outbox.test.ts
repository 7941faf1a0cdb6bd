/**
 * Storage conformance, OutboxRepo: the same contract on PGlite and PostgreSQL. Messages round-trip;
 * `list` is scoped by tenant and recipient, newest first; `claimDue` takes only pending, due rows of
 * the asked channels and leases them (attempts + 1, next attempt moved past the lease), and parallel
 * claims never take one row twice (FOR UPDATE SKIP LOCKED); `finish` records every attempt but applies
 * its outcome only while the attempt still holds the lease. Secrets at rest: the subject and body are
 * stored sealed (placeholders in the plain columns, the sealed copy bound to the message id), opened
 * for the worker and for revealing listings, and dropped once the message is sent, failed or expired.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { REDACTED_PLACEHOLDER, SEALED_PLACEHOLDER, type OutboxMessage } from '../../src/storage/repositories/outbox.js';
import type { Store } from '../../src/storage/store.js';
import { backends, testStore } from '../helpers/db.js';
import { at, range, seedTenant, uniq } from '../helpers/fixtures.js';

describe.each(await backends())('outbox conformance on %s', (backend) => {
  let store: Store;
  let tenantId: string;
  beforeAll(async () => {
    store = await testStore(backend);
    tenantId = (await seedTenant(store)).id;
  });
  afterAll(() => store?.close());
  // claimDue looks at every due row of the store: each test starts from an empty outbox
  beforeEach(async () => {
    await store.db.deleteFrom('delivery_events').execute();
    await store.db.deleteFrom('outbox').execute();
  });

  const T0 = new Date('2030-03-01T10:00:00Z');
  let n = 0;
  async function add(o: Partial<OutboxMessage> = {}): Promise<OutboxMessage> {
    const m: OutboxMessage = {
      id: randomUUID(),
      tenantId,
      channel: 'sms',
      recipient: `+1415555${String(++n).padStart(4, '0')}`,
      template: 'verification_code',
      subject: '',
      body: `Your code is ${uniq()}`,
      now: T0,
      ...o,
    };
    await store.outbox.add(m);
    return m;
  }

  /** The stored row of a message, as a thief with the database would read it. */
  const stored = async (id: string) => (await store.db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirst())!;

  it('add then get and list round-trip a message, pending, with no attempt yet; its text is stored sealed', async () => {
    const m = await add({ channel: 'email', recipient: 'dana@example.com', subject: 'Your code', locale: 'fr', expiresAt: at(T0, 600) });
    const row = await store.outbox.get(m.id);
    expect(row).toMatchObject({ id: m.id, tenant_id: tenantId, channel: 'email', recipient: 'dana@example.com', template: 'verification_code', locale: 'fr', status: 'pending', attempts: 0, last_error: null, sent_at: null });
    expect(row!.created_at.getTime()).toBe(T0.getTime());
    expect(row!.next_attempt_at.getTime()).toBe(T0.getTime());
    expect(row!.expires_at?.getTime()).toBe(at(T0, 600).getTime());
    // at rest: placeholders in the plain columns, the text only in the sealed copy
    expect([row!.subject, row!.body]).toEqual(['', SEALED_PLACEHOLDER]);
    expect(row!.sealed).not.toBeNull();
    expect(JSON.stringify(await stored(m.id))).not.toContain(m.body.slice('Your code is '.length));
    expect(Buffer.from(row!.sealed!).toString('latin1')).not.toContain(m.body);
    // a revealing listing (the dev outbox) opens it; a production listing shows the placeholder
    const listed = await store.outbox.list({ tenantId, recipient: 'dana@example.com' });
    expect(listed.map((r) => [r.id, r.subject, r.body, r.sealed])).toEqual([[m.id, 'Your code', m.body, true]]);
    expect((await store.outbox.list({ tenantId, recipient: 'dana@example.com', reveal: false })).map((r) => [r.subject, r.body, r.sealed])).toEqual([['', SEALED_PLACEHOLDER, true]]);
    // without a locale or an expiry: the defaults
    const plain = await store.outbox.get((await add()).id);
    expect(plain).toMatchObject({ locale: 'en', expires_at: null });
    expect(await store.outbox.get(randomUUID())).toBeUndefined();
  });

  it('list is scoped by tenant and recipient, newest first, and honours the limit', async () => {
    const other = (await seedTenant(store)).id;
    const mine = [await add({ recipient: 'a@example.com', now: T0 }), await add({ recipient: 'a@example.com', now: at(T0, 1) }), await add({ recipient: 'b@example.com', now: at(T0, 2) })];
    const theirs = await add({ tenantId: other, recipient: 'a@example.com', now: at(T0, 3) });
    expect((await store.outbox.list({ tenantId })).map((r) => r.id)).toEqual([mine[2]!.id, mine[1]!.id, mine[0]!.id]);
    expect((await store.outbox.list({ tenantId, recipient: 'a@example.com' })).map((r) => r.id)).toEqual([mine[1]!.id, mine[0]!.id]);
    expect((await store.outbox.list({ tenantId: other })).map((r) => r.id)).toEqual([theirs.id]);
    expect((await store.outbox.list({ recipient: 'a@example.com' })).map((r) => r.id)).toEqual([theirs.id, mine[1]!.id, mine[0]!.id]);
    expect((await store.outbox.list({ tenantId, limit: 1 })).map((r) => r.id)).toEqual([mine[2]!.id]);
  });

  it('claimDue takes only pending, due messages of the asked channels, and leases them', async () => {
    const sms = await add({ channel: 'sms', now: T0 });
    const email = await add({ channel: 'email', now: T0 });
    const later = await add({ channel: 'sms', now: at(T0, 60) });
    expect(await store.outbox.claimDue({ channels: [], now: at(T0, 120), leaseMs: 30_000, limit: 10 })).toEqual([]);

    const claimed = await store.outbox.claimDue({ channels: ['sms'], now: at(T0, 10), leaseMs: 30_000, limit: 10 });
    expect(claimed.map((c) => c.id)).toEqual([sms.id]); // not the email, not the one due later
    expect(claimed[0]).toMatchObject({ id: sms.id, tenantId, channel: 'sms', recipient: sms.recipient, subject: sms.subject, body: sms.body, locale: 'en', attempt: 1, expiresAt: null });
    const leased = await store.outbox.get(sms.id);
    expect(leased).toMatchObject({ attempts: 1, status: 'pending' });
    expect(leased!.next_attempt_at.getTime()).toBe(at(T0, 40).getTime());

    // leased: not claimed again before the lease runs out, claimed again (attempt 2) after
    expect((await store.outbox.claimDue({ channels: ['sms'], now: at(T0, 39), leaseMs: 30_000, limit: 10 })).map((c) => c.id)).toEqual([]);
    const again = await store.outbox.claimDue({ channels: ['sms'], now: at(T0, 60), leaseMs: 30_000, limit: 10 });
    expect(again.map((c) => [c.id, c.attempt])).toEqual([[sms.id, 2], [later.id, 1]]); // oldest due first
    expect((await store.outbox.claimDue({ channels: ['sms', 'email'], now: at(T0, 60), leaseMs: 30_000, limit: 10 })).map((c) => c.id)).toEqual([email.id]);
  });

  it('claimDue honours the limit, oldest due first', async () => {
    const ms = [];
    for (const i of range(5)) ms.push(await add({ now: at(T0, i) }));
    const first = await store.outbox.claimDue({ channels: ['sms'], now: at(T0, 100), leaseMs: 60_000, limit: 2 });
    expect(first.map((c) => c.id)).toEqual([ms[0]!.id, ms[1]!.id]);
    const rest = await store.outbox.claimDue({ channels: ['sms'], now: at(T0, 100), leaseMs: 60_000, limit: 10 });
    expect(rest.map((c) => c.id)).toEqual(ms.slice(2).map((m) => m.id));
  });

  it('parallel claims never take one message twice', async () => {
    const ids = new Set<string>();
    for (const i of range(30)) ids.add((await add({ now: at(T0, i % 7) })).id);
    const claims = await Promise.all(range(10).map(() => store.outbox.claimDue({ channels: ['sms'], now: at(T0, 60), leaseMs: 60_000, limit: 4 })));
    const taken = claims.flat().map((c) => c.id);
    expect(taken.length).toBeGreaterThan(0);
    expect(new Set(taken).size).toBe(taken.length); // no message claimed by two workers
    expect(taken.every((id) => ids.has(id))).toBe(true);
    expect(claims.flat().every((c) => c.attempt === 1)).toBe(true);
    // whatever the first round left, a second round takes, and then nothing is due
    const second = await store.outbox.claimDue({ channels: ['sms'], now: at(T0, 60), leaseMs: 60_000, limit: 100 });
    expect(new Set([...taken, ...second.map((c) => c.id)])).toEqual(ids);
    expect(await store.outbox.claimDue({ channels: ['sms'], now: at(T0, 61), leaseMs: 60_000, limit: 100 })).toEqual([]);
    // every row was leased exactly once
    const rows = await store.db.selectFrom('outbox').select(['attempts']).execute();
    expect(rows.map((r) => r.attempts)).toEqual(Array(30).fill(1));
  });

  it('the sealed copy is bound to its message: moved onto another row it opens nowhere', async () => {
    const a = await add({ recipient: 'a@example.com' });
    const b = await add({ recipient: 'b@example.com' });
    const sealedA = (await stored(a.id)).sealed;
    await store.db.updateTable('outbox').set({ sealed: sealedA }).where('id', '=', b.id).execute();
    const [listedB] = await store.outbox.list({ tenantId, recipient: 'b@example.com' });
    expect([listedB!.subject, listedB!.body]).toEqual(['', SEALED_PLACEHOLDER]); // not a's text
    expect((await store.outbox.list({ tenantId, recipient: 'a@example.com' }))[0]!.body).toBe(a.body);
  });

  it('finish: sent records the attempt and marks the message sent; it is never claimed again', async () => {
    const m = await add();
    const [c] = await store.outbox.claimDue({ channels: ['sms'], now: at(T0, 1), leaseMs: 30_000, limit: 1 });
    expect(await store.outbox.finish({ id: m.id, attempt: c!.attempt, provider: 'twilio', outcome: 'sent', providerMessageId: 'SM123', now: at(T0, 2) })).toBe(true);
    const row = await store.outbox.get(m.id);
    expect(row).toMatchObject({ status: 'sent', provider: 'twilio', provider_message_id: 'SM123', last_error: null, sealed: null, body: REDACTED_PLACEHOLDER }); // delivered: the text is gone
    expect(row!.sent_at?.getTime()).toBe(at(T0, 2).getTime());
    const events = await store.outbox.events(m.id);
    expect(events.map((e) => [e.attempt, e.provider, e.outcome, e.provider_message_id, e.error])).toEqual([[1, 'twilio', 'sent', 'SM123', null]]);
    expect(await store.outbox.claimDue({ channels: ['sms'], now: at(T0, 3_600), leaseMs: 30_000, limit: 10 })).toEqual([]);
    // a second outcome for the same attempt changes nothing, but is recorded
    expect(await store.outbox.finish({ id: m.id, attempt: 1, provider: 'twilio', outcome: 'failed', error: 'late', now: at(T0, 3) })).toBe(false);
    expect((await store.outbox.get(m.id))!.status).toBe('sent');
    expect((await store.outbox.events(m.id)).map((e) => e.outcome)).toEqual(['sent', 'failed']);
  });

  it('finish: retry sets when the message is due again and keeps the reason; failed is final', async () => {
    const m = await add();
    const [c1] = await store.outbox.claimDue({ channels: ['sms'], now: at(T0, 1), leaseMs: 30_000, limit: 1 });
    expect(await store.outbox.finish({ id: m.id, attempt: c1!.attempt, provider: 'twilio', outcome: 'retry', error: 'http_503', nextAttemptAt: at(T0, 300), now: at(T0, 2) })).toBe(true);
    const waiting = await store.outbox.get(m.id);
    expect(waiting).toMatchObject({ status: 'pending', last_error: 'http_503', attempts: 1, body: SEALED_PLACEHOLDER });
    expect(waiting!.sealed).not.toBeNull(); // a retry keeps the text, sealed
    expect(waiting!.next_attempt_at.getTime()).toBe(at(T0, 300).getTime());
    expect(await store.outbox.claimDue({ channels: ['sms'], now: at(T0, 299), leaseMs: 30_000, limit: 1 })).toEqual([]);
    const [c2] = await store.outbox.claimDue({ channels: ['sms'], now: at(T0, 300), leaseMs: 30_000, limit: 1 });
    expect([c2!.attempt, c2!.body]).toEqual([2, m.body]);
    expect(await store.outbox.finish({ id: m.id, attempt: 2, provider: 'twilio', outcome: 'failed', error: 'invalid_number', now: at(T0, 301) })).toBe(true);
    expect(await store.outbox.get(m.id)).toMatchObject({ status: 'failed', last_error: 'invalid_number', sent_at: null, sealed: null, body: REDACTED_PLACEHOLDER });
    expect(await store.outbox.claimDue({ channels: ['sms'], now: at(T0, 86_400), leaseMs: 30_000, limit: 1 })).toEqual([]);
    expect((await store.outbox.events(m.id)).map((e) => [e.attempt, e.outcome, e.error])).toEqual([[1, 'retry', 'http_503'], [2, 'failed', 'invalid_number']]);
  });

  it('finish of an attempt that lost its lease is recorded but does not apply', async () => {
    const m = await add();
    const [slow] = await store.outbox.claimDue({ channels: ['sms'], now: at(T0, 1), leaseMs: 10_000, limit: 1 });
    // the lease runs out; another worker claims the message (attempt 2) while the first is still sending
    const [fast] = await store.outbox.claimDue({ channels: ['sms'], now: at(T0, 20), leaseMs: 10_000, limit: 1 });
    expect([slow!.attempt, fast!.attempt]).toEqual([1, 2]);
    expect(await store.outbox.finish({ id: m.id, attempt: slow!.attempt, provider: 'twilio', outcome: 'failed', error: 'timeout', now: at(T0, 21) })).toBe(false);
    const held = await store.outbox.get(m.id);
    expect(held!.status).toBe('pending');
    expect(held!.sealed).not.toBeNull(); // the lost attempt redacted nothing either
    expect(await store.outbox.finish({ id: m.id, attempt: fast!.attempt, provider: 'twilio', outcome: 'sent', providerMessageId: 'SM9', now: at(T0, 22) })).toBe(true);
    expect(await store.outbox.get(m.id)).toMatchObject({ status: 'sent', provider_message_id: 'SM9', sealed: null });
    expect((await store.outbox.events(m.id)).map((e) => [e.attempt, e.outcome])).toEqual([[1, 'failed'], [2, 'sent']]);
  });

  it('redactExpired drops the text of unsent messages past their expiry only', async () => {
    const expired = await add({ expiresAt: at(T0, 300) });
    const live = await add({ expiresAt: at(T0, 900) });
    const noExpiry = await add();
    const sent = await add({ expiresAt: at(T0, 300) });
    const [c] = (await store.outbox.claimDue({ channels: ['sms'], now: at(T0, 1), leaseMs: 30_000, limit: 10 })).filter((x) => x.id === sent.id);
    await store.outbox.finish({ id: sent.id, attempt: c!.attempt, provider: 'twilio', outcome: 'sent', now: at(T0, 2) });
    expect(await store.outbox.redactExpired(at(T0, 299))).toBe(0);
    expect(await store.outbox.redactExpired(at(T0, 300))).toBe(1); // the sent one was redacted already
    expect(await store.outbox.get(expired.id)).toMatchObject({ sealed: null, body: REDACTED_PLACEHOLDER, status: 'pending' });
    for (const m of [live, noExpiry]) expect((await store.outbox.get(m.id))!.sealed, m.id).not.toBeNull();
    expect(await store.outbox.redactExpired(at(T0, 300))).toBe(0); // once
    expect((await store.outbox.list({ tenantId, recipient: live.recipient }))[0]!.body).toBe(live.body);
  });
});
