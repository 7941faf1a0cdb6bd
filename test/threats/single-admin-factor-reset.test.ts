/**
 * Threat: one compromised administrator resets someone's second factors alone, then takes the account
 * over through enrollment (the help-desk MFA reset attacks; ASVS 6.4.x, NIST SP 800-63B 6.1.2.3 on
 * re-binding authenticators). A reset is only a request until a *different* administrator approves
 * it: the requester cannot approve or reject their own request, the target cannot approve a reset of
 * themselves, two approvers racing give one reset, another tenant's administrator and an agent
 * cannot see or decide it, and the decision happens in one SQL statement on both stores.
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, enrollTotp, json, seed, signIn, STRONG, testApp, type TestApp } from '../helpers/app.js';
import { backends } from '../helpers/db.js';

describe.each(await backends())('factor reset needs a second administrator (%s)', (backend) => {
  let t: TestApp;
  let acme: Awaited<ReturnType<typeof seed>>;
  let globex: Awaited<ReturnType<typeof seed>>;
  const x = () => api(t.app);
  const token = (email: string) => acme.users[email]!.token!;
  const id = (email: string) => acme.users[email]!.id;

  beforeAll(async () => {
    t = await testApp({ backend });
    acme = await seed(t, {
      tenant: 'acme',
      users: ['ada', 'bo', 'cy', 'di'].map((n) => ({ email: `${n}@acme.test`, roles: ['tenant_admin'] })).concat([
        { email: 'agent@acme.test', roles: ['agent'] },
        { email: 'victim@acme.test', roles: ['agent'] },
        { email: 'victim2@acme.test', roles: ['agent'] },
      ]),
    });
    globex = await seed(t, { tenant: 'globex', users: [{ email: 'boss@globex.test', roles: ['tenant_admin'] }] });
    await enrollTotp(t, token('victim@acme.test'));
    await enrollTotp(t, token('victim2@acme.test'));
  }, 60_000);
  afterAll(() => t?.close());

  const factorsOf = async (email: string) => json(await x().get(`/v1/tenants/acme/users/${id(email)}`, { token: token('ada@acme.test') })).factors as Array<{ kind: string }>;
  const request = (by: string, target: string, reason = 'Lost phone; identity checked by a video call') =>
    x().post(`/v1/tenants/acme/users/${id(target)}/reset-factors`, { token: token(by), body: { reason } });
  const decide = (by: string, approvalId: string, action: 'approve' | 'reject' | 'cancel', body: object = {}, tenant = 'acme', tok = token(by)) =>
    x().post(`/v1/tenants/${tenant}/approvals/${approvalId}/${action}`, { token: tok, body });
  const eventsFor = (approvalId: string) => t.s.store.db.selectFrom('audit_events').selectAll().where('type', 'in', ['approval.factor_reset_requested', 'approval.factor_reset_approved', 'approval.factor_reset_rejected', 'approval.factor_reset_canceled', 'user.factors_reset']).execute().then((rows) => rows.filter((r) => (r.data as { approvalId?: string }).approvalId === approvalId));

  it('the requester alone changes nothing: the request waits, and approving or rejecting it yourself is refused', async () => {
    const before = await factorsOf('victim@acme.test');
    expect(before.map((f) => f.kind).sort()).toEqual(['recovery_code', 'totp']);
    const req = await request('ada@acme.test', 'victim@acme.test');
    expect(req.statusCode, req.body).toBe(202);
    const approval = json(req).approval;
    expect(approval).toMatchObject({
      kind: 'factor_reset', status: 'pending', reason: 'Lost phone; identity checked by a video call',
      target: { id: id('victim@acme.test'), email: 'victim@acme.test' }, requestedBy: { id: id('ada@acme.test'), email: 'ada@acme.test' },
    });
    expect(approval.decidedBy).toBeUndefined();
    expect(new Date(approval.expiresAt).getTime() - new Date(approval.createdAt).getTime()).toBe(24 * 3_600_000);

    const self = await decide('ada@acme.test', approval.id, 'approve');
    expect(self.statusCode).toBe(403);
    expect(json(self)).toMatchObject({ code: 'forbidden', message: 'A second administrator must approve this request.' });
    expect((await decide('ada@acme.test', approval.id, 'reject')).statusCode).toBe(403);
    // nothing happened: the factors are there, the user's session works, the request is still pending
    expect(await factorsOf('victim@acme.test')).toHaveLength(2);
    expect((await x().get('/v1/me', { token: token('victim@acme.test') })).statusCode).toBe(200);
    const listed = json(await x().get('/v1/tenants/acme/approvals', { token: token('bo@acme.test') })).approvals;
    expect(listed.find((a: { id: string }) => a.id === approval.id)).toMatchObject({ status: 'pending', requestedBy: { email: 'ada@acme.test' } });
    expect((await eventsFor(approval.id)).map((e) => e.type)).toEqual(['approval.factor_reset_requested']);

    // a second request for the same user, or a request for yourself, is a conflict
    const dup = await request('bo@acme.test', 'victim@acme.test');
    expect(dup.statusCode).toBe(409);
    expect(json(dup).code).toBe('conflict');
    const mine = await request('ada@acme.test', 'ada@acme.test');
    expect(mine.statusCode).toBe(409);
    expect(json(mine).code).toBe('conflict');
    // a reason is required
    expect((await request('bo@acme.test', 'victim2@acme.test', 'hm')).statusCode).toBe(400);
  });

  it('a second administrator approves: factors removed, sessions ended, the user notified, all audited', async () => {
    const approval = json(await x().get('/v1/tenants/acme/approvals', { token: token('bo@acme.test') })).approvals.find((a: { target: { email: string } }) => a.target.email === 'victim@acme.test');
    const ok = await decide('bo@acme.test', approval.id, 'approve');
    expect(ok.statusCode, ok.body).toBe(200);
    expect(json(ok).approval).toMatchObject({ id: approval.id, status: 'approved', decidedBy: { id: id('bo@acme.test'), email: 'bo@acme.test' }, decidedAt: expect.any(String) });
    expect(await factorsOf('victim@acme.test')).toEqual([]);
    expect((await x().get('/v1/me', { token: token('victim@acme.test') })).statusCode).toBe(401);
    const [notice] = await t.s.store.outbox.list({ recipient: 'victim@acme.test', limit: 1 });
    expect(notice?.template).toBe('factor_removed');
    const events = await eventsFor(approval.id);
    expect(events.map((e) => e.type).sort()).toEqual(['approval.factor_reset_approved', 'approval.factor_reset_requested', 'user.factors_reset']);
    expect(events.find((e) => e.type === 'user.factors_reset')).toMatchObject({ actor_id: id('bo@acme.test'), target_id: id('victim@acme.test'), data: { requestedBy: id('ada@acme.test'), factorsRemoved: 2 } });
    // decided once: a second approval or a rejection now is a conflict
    for (const action of ['approve', 'reject'] as const) {
      const again = await decide('cy@acme.test', approval.id, action);
      expect(again.statusCode).toBe(409);
      expect(json(again).details).toMatchObject({ status: 'approved' });
    }
    // the user signs in with the password and may enroll again
    expect((await signIn(t.app, 'acme', 'victim@acme.test', STRONG)).res.statusCode).toBe(200);
  });

  it('three administrators approving at once give exactly one reset', async () => {
    const approval = json(await request('ada@acme.test', 'victim2@acme.test')).approval;
    const results = await Promise.all(['bo', 'cy', 'di'].map((n) => decide(`${n}@acme.test`, approval.id, 'approve')));
    const codes = results.map((r) => r.statusCode).sort();
    expect(codes).toEqual([200, 409, 409]);
    const winner = json(results.find((r) => r.statusCode === 200)!).approval.decidedBy.email;
    const events = await eventsFor(approval.id);
    expect(events.filter((e) => e.type === 'user.factors_reset')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'approval.factor_reset_approved')).toHaveLength(1);
    const row = await t.s.store.approvals.byId(acme.tenantId, approval.id);
    expect(row).toMatchObject({ status: 'approved', decided_by_email: winner });
    const notices = (await t.s.store.outbox.list({ recipient: 'victim2@acme.test', limit: 20 })).filter((m) => m.template === 'factor_removed');
    expect(notices).toHaveLength(1);
  });

  it("the target cannot approve a reset of their own factors; the requester may cancel, another admin may reject", async () => {
    const approval = json(await request('bo@acme.test', 'cy@acme.test')).approval;
    const target = await decide('cy@acme.test', approval.id, 'approve');
    expect(target.statusCode).toBe(403);
    expect(json(target).code).toBe('forbidden');
    expect((await decide('di@acme.test', approval.id, 'cancel')).statusCode).toBe(403);
    const canceled = await decide('bo@acme.test', approval.id, 'cancel');
    expect(canceled.statusCode).toBe(200);
    expect(json(canceled).approval).toMatchObject({ status: 'canceled', decidedBy: { email: 'bo@acme.test' } });
    expect((await decide('di@acme.test', approval.id, 'approve')).statusCode).toBe(409);

    const second = json(await request('bo@acme.test', 'cy@acme.test')).approval;
    const rejected = await decide('di@acme.test', second.id, 'reject', { reason: 'Not requested by Cy' });
    expect(rejected.statusCode).toBe(200);
    expect(json(rejected).approval).toMatchObject({ status: 'rejected', decidedBy: { email: 'di@acme.test' }, decisionReason: 'Not requested by Cy' });
    expect((await eventsFor(second.id)).map((e) => e.type).sort()).toEqual(['approval.factor_reset_rejected', 'approval.factor_reset_requested']);
    const all = json(await x().get('/v1/tenants/acme/approvals?status=all', { token: token('ada@acme.test') })).approvals.map((a: { id: string; status: string }) => [a.id, a.status]);
    expect(all).toEqual(expect.arrayContaining([[approval.id, 'canceled'], [second.id, 'rejected']]));
    const pending = json(await x().get('/v1/tenants/acme/approvals', { token: token('ada@acme.test') })).approvals.map((a: { id: string }) => a.id);
    expect(pending).not.toContain(second.id);
  });

  it("another tenant's administrator gets 404 and an agent gets 403, and the request stays pending", async () => {
    const approval = json(await request('ada@acme.test', 'di@acme.test')).approval;
    const boss = globex.users['boss@globex.test']!.token!;
    const foreign: Array<[string, Promise<LightMyRequestResponse>]> = [
      ['approve via acme', decide('', approval.id, 'approve', {}, 'acme', boss)],
      ['approve via globex', decide('', approval.id, 'approve', {}, 'globex', boss)],
      ['reject via globex', decide('', approval.id, 'reject', {}, 'globex', boss)],
      ['read via globex', x().get(`/v1/tenants/globex/approvals/${approval.id}`, { token: boss })],
      ['list acme', x().get('/v1/tenants/acme/approvals?status=all', { token: boss })],
      ['request acme', x().post(`/v1/tenants/acme/users/${id('victim@acme.test')}/reset-factors`, { token: boss, body: { reason: 'Taking over from globex' } })],
      ['approve via globex by acme admin', decide('bo@acme.test', approval.id, 'approve', {}, 'globex')],
    ];
    const agent = token('agent@acme.test');
    const agentCalls: Array<[string, Promise<LightMyRequestResponse>]> = [
      ['agent requests', x().post(`/v1/tenants/acme/users/${id('victim@acme.test')}/reset-factors`, { token: agent, body: { reason: 'I lost my phone, honest' } })],
      ['agent lists', x().get('/v1/tenants/acme/approvals', { token: agent })],
      ['agent approves', decide('', approval.id, 'approve', {}, 'acme', agent)],
      ['agent rejects', decide('', approval.id, 'reject', {}, 'acme', agent)],
    ];
    const wrong: string[] = [];
    for (const [name, p] of foreign) {
      const r = await p;
      if (r.statusCode !== 404 || json(r).code !== 'not_found') wrong.push(`${name}: ${r.statusCode} ${r.body.slice(0, 100)}`);
    }
    for (const [name, p] of agentCalls) {
      const r = await p;
      if (r.statusCode !== 403 || json(r).code !== 'forbidden') wrong.push(`${name}: ${r.statusCode} ${r.body.slice(0, 100)}`);
    }
    expect(wrong).toEqual([]);
    expect(json(await x().get(`/v1/tenants/acme/approvals/${approval.id}`, { token: token('bo@acme.test') })).approval.status).toBe('pending');
    expect(await t.s.store.approvals.list(globex.tenantId)).toEqual([]);
  });

  it('a request expires after 24 hours: it cannot be approved, reads as expired, and a new one may be made', async () => {
    const pending = json(await x().get('/v1/tenants/acme/approvals', { token: token('bo@acme.test') })).approvals.find((a: { target: { email: string } }) => a.target.email === 'di@acme.test');
    t.clock.advance(24 * 3_600_000 + 1000);
    // sessions are older than their idle timeout now: sign in again
    const fresh = Object.fromEntries(await Promise.all(['ada', 'bo'].map(async (n) => [n, (await signIn(t.app, 'acme', `${n}@acme.test`, STRONG)).token!] as const)));
    const late = await decide('', pending.id, 'approve', {}, 'acme', fresh.bo);
    expect(late.statusCode).toBe(409);
    expect(json(late)).toMatchObject({ code: 'conflict', details: { status: 'expired' } });
    const read = json(await x().get(`/v1/tenants/acme/approvals/${pending.id}`, { token: fresh.ada })).approval;
    expect(read.status).toBe('expired');
    expect(json(await x().get('/v1/tenants/acme/approvals', { token: fresh.ada })).approvals.map((a: { id: string }) => a.id)).not.toContain(pending.id);
    const again = await x().post(`/v1/tenants/acme/users/${id('di@acme.test')}/reset-factors`, { token: fresh.ada, body: { reason: 'Asking again after expiry' } });
    expect(again.statusCode, again.body).toBe(202);
    expect((await t.s.store.approvals.byId(acme.tenantId, pending.id))?.status).toBe('expired');
  });
});
