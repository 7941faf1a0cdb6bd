/**
 * The admin screens in a real browser: disabling a signed-in user (instant deprovisioning), inviting,
 * the two-administrator factor reset, and a custom role built in the permission matrix.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { api, enrollTotp, invitationToken, json, seed, STRONG } from '../helpers/app.js';
import { browserAvailable, launchBrowser, newPage, startConsoleServer, type ConsoleServer } from './harness.js';
import { signInViaApi } from './session-helpers.js';

describe.skipIf(!browserAvailable())('admin console: users, approvals, roles', () => {
  let srv: ConsoleServer;
  let browser: Browser;
  let seeded: Awaited<ReturnType<typeof seed>>;
  const contexts: BrowserContext[] = [];
  const a = () => api(srv.app);
  const op = () => seeded.operatorToken;
  const id = (email: string) => seeded.users[email]!.id;

  beforeAll(async () => {
    srv = await startConsoleServer();
    seeded = await seed(srv, {
      users: [
        { email: 'boss@acme.test', roles: ['tenant_admin'] },
        { email: 'kim@acme.test', roles: ['tenant_admin'] },
        { email: 'ana@acme.test', roles: ['agent'] },
        { email: 'sam@acme.test', roles: ['agent'] },
        { email: 'lee@acme.test', roles: ['agent'] },
        { email: 'audrey@acme.test', roles: ['auditor'] },
      ],
    });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await srv?.close();
  });

  /** A signed-in browser page for `email`, with page errors collected. */
  async function as(email: string, path: string): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
    const { context, page } = await newPage(browser, srv.url);
    contexts.push(context);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await signInViaApi(context, 'acme', email, STRONG);
    await page.goto(path);
    await expect.poll(() => page.getByTestId('signed-in-as').textContent()).toBe(email);
    return { context, page, errors };
  }

  /** Opens a user's details panel from the users table. */
  async function openUser(page: Page, email: string) {
    await page.getByRole('button', { name: `Manage ${email}` }).click();
    const drawer = page.getByRole('dialog');
    await drawer.getByLabel(`Details for ${email}`).waitFor();
    return drawer;
  }

  const userDetail = async (email: string) => json(await a().get(`/v1/tenants/acme/users/${id(email)}`, { token: op() }));

  it('disabling a user ends the session they have open in another browser at once', async () => {
    const ana = await as('ana@acme.test', '/security');
    const boss = await as('boss@acme.test', '/admin/users');
    await expect.poll(() => boss.page.getByRole('row', { name: /ana@acme\.test/ }).count()).toBe(1);

    const drawer = await openUser(boss.page, 'ana@acme.test');
    await drawer.getByRole('button', { name: 'Disable user' }).click();
    const confirm = boss.page.getByRole('dialog', { name: 'Disable ana@acme.test?' });
    await expect.poll(() => confirm.textContent()).toContain('ends at once');
    await confirm.getByRole('button', { name: 'Disable and end all sessions' }).click();
    await drawer.getByRole('button', { name: 'Enable user' }).waitFor();
    expect((await userDetail('ana@acme.test')).status).toBe('disabled');

    // her open console: the next navigation lands on sign-in, and her cookie no longer opens the API
    await ana.page.goto('/security');
    await ana.page.waitForURL(/\/signin\?next=%2Fsecurity/);
    expect((await ana.context.request.get('/v1/me')).status()).toBe(401);
    expect([...ana.errors, ...boss.errors]).toEqual([]);
  });

  it('an admin invites a user: a one-time setup link goes to the outbox, and can be sent again', async () => {
    const { page, errors } = await as('boss@acme.test', '/admin/users');
    await page.getByRole('button', { name: 'Invite user' }).click();
    const modal = page.getByRole('dialog', { name: 'Invite user' });
    await modal.getByLabel('Email').fill('nia.new@acme.test');
    await modal.getByLabel('Name (optional)').fill('Nia Novak');
    await modal.getByRole('checkbox', { name: 'Supervisor', exact: true }).check();
    await modal.getByRole('button', { name: 'Send invitation' }).click();
    await expect.poll(() => modal.getByRole('status').textContent()).toContain('A one-time setup link was sent to nia.new@acme.test');
    expect(await invitationToken(srv.s, 'nia.new@acme.test')).toMatch(/^[\w-]{20,}$/);
    await modal.getByRole('button', { name: 'Done' }).click();

    const row = page.getByRole('row', { name: /nia\.new@acme\.test/ });
    await expect.poll(() => row.textContent()).toContain('Invited');
    const listed = json(await a().get('/v1/tenants/acme/users', { token: op() })).users.find((u: { email: string }) => u.email === 'nia.new@acme.test');
    expect(listed).toMatchObject({ status: 'invited', displayName: 'Nia Novak', roles: ['agent', 'supervisor'] });

    const drawer = await openUser(page, 'nia.new@acme.test');
    await drawer.getByRole('button', { name: 'Resend invitation' }).click();
    const invitations = async () => (await srv.s.store.outbox.list({ recipient: 'nia.new@acme.test', limit: 10 })).filter((m) => m.template === 'invitation').length;
    await expect.poll(invitations).toBe(2);
    expect(errors).toEqual([]);
  });

  it('a factor reset needs a second administrator: the requester cannot approve, another admin can', async () => {
    const samToken = seeded.users['sam@acme.test']!.token!;
    await enrollTotp(srv, samToken);
    expect((await userDetail('sam@acme.test')).factors.map((f: { kind: string }) => f.kind).sort()).toEqual(['recovery_code', 'totp']);

    const boss = await as('boss@acme.test', '/admin/users');
    const drawer = await openUser(boss.page, 'sam@acme.test');
    await expect.poll(() => drawer.getByLabel('Sign-in methods').textContent()).toContain('Authenticator app');
    await drawer.getByRole('button', { name: 'Request factor reset' }).click();
    const ask = boss.page.getByRole('dialog', { name: 'Request a factor reset' });
    const send = ask.getByRole('button', { name: 'Send request for approval' });
    expect(await send.isDisabled()).toBe(true); // a reason is required
    await ask.getByLabel('Reason').fill('Lost phone; identity confirmed by a call back to the number on file');
    await send.click();
    await expect.poll(() => drawer.textContent()).toContain('Factor reset waiting for approval');

    // the requester sees their own request as waiting, with Cancel instead of Approve
    await boss.page.goto('/admin/approvals');
    const mine = boss.page.getByRole('row', { name: 'Reset sign-in methods for sam@acme.test' });
    await expect.poll(() => mine.textContent()).toContain('Waiting for another administrator');
    expect(await mine.textContent()).toContain('Lost phone');
    expect(await mine.getByRole('button', { name: /Cancel/ }).count()).toBe(1);
    expect(await mine.getByRole('button', { name: /Approve/ }).count()).toBe(0);
    // and the server refuses it too
    const pending = (await (await boss.context.request.get('/v1/tenants/acme/approvals?status=pending')).json()) as { approvals: Array<{ id: string; target: { email: string } }> };
    const approval = pending.approvals.find((x) => x.target.email === 'sam@acme.test')!;
    const self = await boss.context.request.post(`/v1/tenants/acme/approvals/${approval.id}/approve`, { data: {} });
    expect(self.status()).toBe(403);
    expect(((await self.json()) as { message: string }).message).toBe('A second administrator must approve this request.');
    expect((await userDetail('sam@acme.test')).factors).toHaveLength(2);

    const kim = await as('kim@acme.test', '/admin/approvals');
    const theirs = kim.page.getByRole('row', { name: 'Reset sign-in methods for sam@acme.test' });
    await theirs.getByRole('button', { name: 'Approve request for sam@acme.test' }).click();
    const confirm = kim.page.getByRole('dialog', { name: 'Approve the factor reset for sam@acme.test?' });
    await confirm.getByRole('button', { name: 'Approve and reset' }).click();
    await expect.poll(() => theirs.count()).toBe(0);
    await expect.poll(async () => (await userDetail('sam@acme.test')).factors).toEqual([]);
    expect((await a().get('/v1/me', { token: samToken })).statusCode).toBe(401); // sessions ended with the reset

    await kim.page.getByText('History').click();
    const done = kim.page.getByRole('row', { name: 'Reset sign-in methods for sam@acme.test' });
    await expect.poll(() => done.textContent()).toContain('Approved');
    expect(await done.textContent()).toContain('by you');
    expect([...boss.errors, ...kim.errors]).toEqual([]);
  });

  it('a custom role is built in the permission matrix and assigned to a user', async () => {
    const { page, errors } = await as('boss@acme.test', '/admin/roles');
    const builtin = page.getByRole('checkbox', { name: 'audit.read for tenant_admin' });
    expect(await builtin.isChecked()).toBe(true);
    expect(await builtin.isDisabled()).toBe(true);

    await page.getByRole('button', { name: 'New custom role' }).click();
    const modal = page.getByRole('dialog', { name: 'New custom role' });
    await modal.getByLabel('Role name').fill('qa_reviewer');
    await modal.getByLabel('Description').fill('Reviews calls and the audit trail');
    await modal.getByRole('button', { name: 'Create role' }).click();
    const auditBox = page.getByRole('checkbox', { name: 'audit.read for qa_reviewer' });
    await auditBox.check();
    await page.getByRole('checkbox', { name: 'users.read for qa_reviewer' }).check();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Save changes' }).count()).toBe(0);
    const roles = json(await a().get('/v1/tenants/acme/roles', { token: op() })).roles as Array<{ name: string; permissions: string[]; description: string }>;
    const qa = roles.find((r) => r.name === 'qa_reviewer')!;
    expect(qa.permissions.sort()).toEqual(['audit.read', 'users.read']);
    expect(qa.description).toBe('Reviews calls and the audit trail');

    const leeToken = seeded.users['lee@acme.test']!.token!;
    expect((await a().get('/v1/tenants/acme/audit', { token: leeToken })).statusCode).toBe(403);
    await page.goto('/admin/users');
    const drawer = await openUser(page, 'lee@acme.test');
    await drawer.getByRole('checkbox', { name: 'qa_reviewer' }).check();
    await drawer.getByRole('button', { name: 'Save roles' }).click();
    await expect.poll(async () => (await userDetail('lee@acme.test')).roles).toEqual(['agent', 'qa_reviewer']);
    expect((await a().get('/v1/tenants/acme/audit', { token: leeToken })).statusCode).toBe(200);
    expect(errors).toEqual([]);
  });

  it('actions the user may not take are not offered', async () => {
    const { page, errors } = await as('audrey@acme.test', '/admin/users');
    await expect.poll(() => page.getByRole('row', { name: /lee@acme\.test/ }).count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Invite user' }).count()).toBe(0);
    const drawer = await openUser(page, 'lee@acme.test');
    await expect.poll(() => drawer.textContent()).toContain('Your role does not allow changes to this account.');
    for (const name of ['Disable user', 'Request factor reset', 'Unlock', 'Save roles']) expect(await drawer.getByRole('button', { name }).count()).toBe(0);
    await page.goto('/admin/roles');
    await page.getByRole('table', { name: 'Permission matrix' }).waitFor();
    expect(await page.getByRole('button', { name: 'New custom role' }).count()).toBe(0);
    expect(errors).toEqual([]);
  });
});
