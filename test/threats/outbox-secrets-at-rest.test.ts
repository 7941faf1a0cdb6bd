/**
 * Threat (found testing the running system from outside): one-time codes and setup links kept in
 * plain text in the outbox. Every code sent to a caller and every setup link stayed readable in the
 * `outbox` table for good (backups, replicas, a read-only SQL account, an injection elsewhere), and
 * the outbox listings showed live codes in production.
 *
 * Against a real server: after a verification code and an invitation are queued, no plain column
 * of their outbox rows holds the code or the link's token (the text is sealed with the service key,
 * bound to the row); the delivery worker still sends the right text to a real local peer, and
 * afterwards the row is redacted (no sealed copy left); a code that expired unsent is redacted by
 * the retention sweep, and by the worker when it meets it; in production mode the outbox listing
 * never shows a waiting code. (The dev outbox still shows waiting messages, as before.)
 *
 * Fails when: OutboxRepo.add / outboxValues (src/storage/repositories/outbox.ts) store the text in
 * subject/body, `finish` or the sweep keep it after delivery or expiry, or the listings reveal it in
 * production (src/http/routes/outbox.ts, `callwarden outbox list`).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookProvider } from '../../src/delivery/webhook.js';
import { DeliveryWorker } from '../../src/delivery/worker.js';
import { sweep } from '../../src/services/maintenance.js';
import { invitationToken } from '../helpers/app.js';
import { callerFixture, lastCodeTo } from '../helpers/callers.js';
import { httpPeer, type HttpPeer } from '../delivery/peers.js';
import { Attacker } from './attacker.js';
import { startTarget, type Target } from './server.js';

const PHONE = '+14155550134';
const rowsTo = (t: Target, recipient: string) => t.s.store.db.selectFrom('outbox').selectAll().where('recipient', '=', recipient).orderBy('created_at', 'desc').execute();
/** Every plain column of a row, as text. */
const plain = (row: Record<string, unknown>) => JSON.stringify({ ...row, sealed: undefined });

describe('outbox secrets at rest', () => {
  let t: Target;
  let x: Attacker;
  let f: Awaited<ReturnType<typeof callerFixture>>;
  let peer: HttpPeer;

  beforeAll(async () => {
    t = await startTarget();
    x = new Attacker(t.url);
    f = await callerFixture(t);
    peer = await httpPeer(() => ({ json: { id: 'peer-1' } }));
  });
  afterAll(async () => {
    x.close();
    await peer.close();
    await t.close();
  });

  const sendCode = async (interactionId: string) => {
    const v = await x.post('/v1/tenants/acme/verifications', { token: f.agent, body: { customerId: f.customerId, interactionId } });
    expect(v.status, v.text).toBe(201);
    const sent = await x.post(`/v1/tenants/acme/verifications/${v.json.id}/codes`, { token: f.agent, body: { contactId: f.phoneId, channel: 'sms' } });
    expect(sent.status, sent.text).toBe(200);
    const code = await lastCodeTo(t, PHONE); // the dev outbox reader still opens a waiting message
    const [row] = await rowsTo(t, PHONE);
    return { code, row: row! };
  };

  it('a queued code and a setup link are sealed: no plain column holds them', async () => {
    const { code, row } = await sendCode('call-at-rest-1');
    expect(row.status).toBe('pending');
    expect(plain(row)).not.toContain(code);
    expect(row.sealed).toBeInstanceOf(Buffer);
    expect(row.sealed!.toString('latin1')).not.toContain(code);
    const token = await invitationToken(t.s, 'agent@acme.test');
    const [invite] = (await rowsTo(t, 'agent@acme.test')).filter((r) => r.template === 'invitation');
    expect(plain(invite!)).not.toContain(token);
    expect(invite!.sealed!.toString('latin1')).not.toContain(token);
    // the sealed text is bound to its row: copied onto another message it does not open
    const [other] = await t.s.store.db.selectFrom('outbox').select(['id']).where('id', '!=', row.id).limit(1).execute();
    await t.s.store.db.updateTable('outbox').set({ sealed: row.sealed }).where('id', '=', other!.id).execute();
    const listed = await t.s.store.outbox.list({ limit: 200 });
    expect(listed.find((m) => m.id === other!.id)!.body).not.toContain(code);
  });

  it('the worker sends the right text to a real peer, then the row is redacted', async () => {
    const { code, row } = await sendCode('call-at-rest-2');
    const worker = new DeliveryWorker({ outbox: t.s.store.outbox, providers: [webhookProvider({ url: `${peer.url}/sms`, secret: 'at-rest-webhook-secret-0123456789' })], clock: t.clock.now });
    const before = peer.received.length;
    expect((await worker.drain()).sent).toBeGreaterThan(0);
    const mine = peer.received.slice(before).filter((r) => r.body.includes(code));
    expect(mine).toHaveLength(1);
    expect(JSON.parse(mine[0]!.body)).toMatchObject({ to: PHONE, channel: "sms", body: expect.stringContaining(`code is ${code}`) });
    const after = await t.s.store.outbox.get(row.id);
    expect(after).toMatchObject({ status: 'sent', sealed: null });
    expect(plain(after!)).not.toContain(code);
    const listed = await t.s.store.outbox.list({ recipient: PHONE, limit: 50 });
    expect(listed.find((m) => m.id === row.id)!.body).not.toContain(code);
  });

  it('a code that expired unsent is redacted: by the retention sweep, or by the worker that meets it', async () => {
    const first = await sendCode('call-at-rest-3');
    t.clock.advance(11 * 60_000); // past the 10-minute code lifetime
    await sweep(t.s);
    const swept = await t.s.store.outbox.get(first.row.id);
    expect(swept!.sealed).toBeNull();
    expect(plain(swept!)).not.toContain(first.code);

    const second = await sendCode('call-at-rest-4');
    t.clock.advance(11 * 60_000);
    const worker = new DeliveryWorker({ outbox: t.s.store.outbox, providers: [webhookProvider({ url: `${peer.url}/sms`, secret: 'at-rest-webhook-secret-0123456789' })], clock: t.clock.now });
    const before = peer.received.length;
    await worker.drain();
    expect(peer.received.slice(before).some((r) => r.body.includes(second.code))).toBe(false);
    expect(await t.s.store.outbox.get(second.row.id)).toMatchObject({ status: 'failed', last_error: 'expired', sealed: null });
  });

  it('in production mode no outbox listing shows a waiting code', async () => {
    const prod = await startTarget({ env: { CALLWARDEN_MODE: 'production', CALLWARDEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'), CALLWARDEN_DEV_OUTBOX_API: 'true' } });
    const px = new Attacker(prod.url);
    try {
      const pf = await callerFixture(prod);
      const v = await px.post('/v1/tenants/acme/verifications', { token: pf.agent, body: { customerId: pf.customerId, interactionId: 'call-prod-1' } });
      expect((await px.post(`/v1/tenants/acme/verifications/${v.json.id}/codes`, { token: pf.agent, body: { contactId: pf.phoneId, channel: 'sms' } })).status).toBe(200);
      const code = await lastCodeTo(prod, PHONE); // the store itself can still open it: the worker must send it
      const listing = await px.get(`/v1/tenants/acme/outbox?recipient=${encodeURIComponent(PHONE)}`, { token: pf.admin });
      expect(listing.status, listing.text).toBe(200);
      expect(listing.json.messages.length).toBeGreaterThan(0);
      expect(listing.text).not.toContain(code);
      expect(listing.json.messages[0].body).toBe('(sealed until sent)');
      const cliView = await prod.s.store.outbox.list({ recipient: PHONE, reveal: prod.s.config.mode !== 'production' });
      expect(JSON.stringify(cliView)).not.toContain(code);
    } finally {
      px.close();
      await prod.close();
    }
  });
});
