/**
 * Threat: a contact swapped right after the customer record was created escaping the
 * "recently changed" rule.
 * Found by outside testing (2026-12-01): a contact counted as changed only when its changed_at was
 * more than a second after the customer's creation, so an attacker (or an insider) who created a
 * customer and at once added or replaced a phone or an email address got codes sent there without
 * the refusal and without the risk signal that a change brings (SIM-swap and account-takeover
 * defence: a contact changed within the policy window receives no codes).
 *
 * A customer is created with a phone and an email; 10 ms later (the server's clock set to the
 * creation time plus 10 ms, so the whole change is inside the same second) a PATCH adds a second email
 * and changes the phone number. A verification then shows both as changed: the risk signal
 * recent_contact_change ("2 contact(s) changed recently"), the two contacts not eligible for codes,
 * and a code to either refused with 409 contact_recently_changed (and audited as refused); the email
 * created with the customer still gets its code. A customer whose contacts all came with its
 * creation has no recent_contact_change signal and every contact eligible.
 *
 * Fails when: a change in the same second as the creation (or any fixed slack after it) does not
 * count as a change; contacts created with the customer count as changed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callerFixture } from '../helpers/callers.js';
import { backends } from '../helpers/db.js';
import { auditEvents } from '../helpers/flows.js';
import { Attacker } from './attacker.js';
import { startTarget, type Target } from './server.js';

interface Contact {
  id: string;
  kind: 'phone' | 'email';
  value: string;
  changedAt: string;
  createdAt: string;
}
interface Eligibility {
  id: string;
  eligible: boolean;
  reason?: string;
}

describe.each(await backends())('a contact changed right after the customer was created (%s)', (backend) => {
  let t: Target;
  let x: Attacker;
  let f: Awaited<ReturnType<typeof callerFixture>>;

  beforeAll(async () => {
    t = await startTarget({ backend });
    x = new Attacker(t.url);
    f = await callerFixture(t);
  });
  afterAll(async () => {
    x.close();
    await t.close();
  });

  const createCustomer = async (externalId: string, phone: string, email: string) => {
    const r = await x.post('/v1/tenants/acme/customers', { token: f.admin, body: { externalId, name: `Customer ${externalId}`, contacts: [{ kind: 'phone', value: phone }, { kind: 'email', value: email }] } });
    expect(r.status, r.text).toBe(201);
    const contacts = r.json.contacts as Contact[];
    // contacts created with the customer carry its creation time: a first binding, not a change
    for (const c of contacts) expect(c.changedAt).toBe(r.json.createdAt);
    return { id: r.json.id as string, createdAt: r.json.createdAt as string, phone: contacts.find((c) => c.kind === 'phone')!, email: contacts.find((c) => c.kind === 'email')! };
  };
  const startVerification = async (customerId: string, interactionId: string) => {
    const r = await x.post('/v1/tenants/acme/verifications', { token: f.agent, body: { customerId, interactionId } });
    expect(r.status, r.text).toBe(201);
    return r.json;
  };
  const eligibility = (view: { available: Array<{ method: string; contacts?: Eligibility[] }> }): Map<string, Eligibility> =>
    new Map(view.available.flatMap((m) => m.contacts ?? []).map((c) => [c.id, c]));
  const sendCode = (vid: string, contactId: string, channel: 'sms' | 'email') => x.post(`/v1/tenants/acme/verifications/${vid}/codes`, { token: f.agent, body: { contactId, channel } });
  const signalsOf = (view: { risk: { signals: Array<{ signal: string; detail: string }> } }) => view.risk.signals;

  it('a contact added or changed 10 ms after the creation counts as recently changed', async () => {
    const c = await createCustomer('CRM-NEW-1', '+1 415 555 0177', 'first@example.com');
    // the server's clock to 10 ms after the creation: the change lands in the same second
    t.clock.advance(new Date(c.createdAt).getTime() + 10 - t.clock.now().getTime());
    const patched = await x.patch(`/v1/tenants/acme/customers/${c.id}`, {
      token: f.admin,
      body: { contacts: { add: [{ kind: 'email', value: 'second@example.com' }], update: [{ id: c.phone.id, value: '+1 415 555 0199' }] } },
    });
    expect(patched.status, patched.text).toBe(200);
    const contacts = patched.json.contacts as Contact[];
    const added = contacts.find((x) => x.value !== undefined && x.kind === 'email' && x.id !== c.email.id)!;
    expect(added).toBeDefined();
    const phone = contacts.find((x) => x.id === c.phone.id)!;
    const createdMs = new Date(c.createdAt).getTime();
    for (const changed of [added, phone]) {
      expect(new Date(changed.changedAt).getTime()).toBeGreaterThan(createdMs);
      expect(new Date(changed.changedAt).getTime() - createdMs).toBeLessThan(1000);
    }
    expect(contacts.find((x) => x.id === c.email.id)!.changedAt).toBe(c.createdAt);

    const view = await startVerification(c.id, 'changed-after-creation');
    expect(signalsOf(view)).toContainEqual(expect.objectContaining({ signal: 'recent_contact_change', detail: '2 contact(s) changed recently' }));
    const el = eligibility(view);
    expect(el.get(added.id)).toMatchObject({ eligible: false, reason: 'changed recently' });
    expect(el.get(phone.id)).toMatchObject({ eligible: false, reason: 'changed recently' });
    expect(el.get(c.email.id)).toMatchObject({ eligible: true });

    for (const [contactId, channel] of [[added.id, 'email'], [phone.id, 'sms']] as const) {
      const r = await sendCode(view.id, contactId, channel);
      expect([r.status, r.code], r.text).toEqual([409, 'contact_recently_changed']);
    }
    const refused = (await auditEvents(t, f.tenantId, { type: 'verification.code_refused' })).filter((e) => e.targetId === view.id);
    expect(refused.map((e) => (e.data as { reason: string }).reason)).toEqual(['contact_recently_changed', 'contact_recently_changed']);
    // the email that came with the customer still receives a code
    const ok = await sendCode(view.id, c.email.id, 'email');
    expect(ok.status, ok.text).toBe(200);
  });

  it('contacts created together with the customer are not recently changed', async () => {
    const c = await createCustomer('CRM-NEW-2', '+1 415 555 0188', 'together@example.com');
    const view = await startVerification(c.id, 'created-together');
    expect(signalsOf(view).map((s) => s.signal)).not.toContain('recent_contact_change');
    const el = eligibility(view);
    expect(el.size).toBe(2);
    for (const e of el.values()) expect(e).toMatchObject({ eligible: true });
    const ok = await sendCode(view.id, c.phone.id, 'sms');
    expect(ok.status, ok.text).toBe(200);
  });
});
