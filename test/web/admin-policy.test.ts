/**
 * The operator's tenants screen and tenant picker, the MFA policy editor (who a change affects,
 * before saving) and the audit log (filters, export, the hash chain's verification status), in
 * chromium against a real server.
 */
import { readFile } from 'node:fs/promises';
import { sql } from 'kysely';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealTenant } from '../../src/audit/seal.js';
import { enrollTotp, OPERATOR, seed, STRONG } from '../helpers/app.js';
import { browserAvailable, launchBrowser, newPage, startConsoleServer, type ConsoleServer } from './harness.js';

/** Signs the page's browser context in through the API (the session cookie lands in the context). */
async function signInAs(page: Page, tenant: string, identifier: string, password: string): Promise<void> {
  const start = await page.request.post('/v1/auth/flows', { data: { tenant, identifier } });
  expect(start.status(), await start.text()).toBe(201);
  const s = (await start.json()) as { flow: { id: string }; flowToken: string };
  const pw = await page.request.post(`/v1/auth/flows/${s.flow.id}/password`, { data: { password }, headers: { 'x-flow-token': s.flowToken } });
  expect(pw.status(), await pw.text()).toBe(200);
  expect(((await pw.json()) as { session?: unknown }).session).toBeTruthy();
}

/** JSON from the API with the page's own session cookie. */
async function apiGet<T>(page: Page, path: string): Promise<T> {
  const r = await page.request.get(path);
  expect(r.status(), await r.text()).toBe(200);
  return (await r.json()) as T;
}

interface Policy {
  version: number;
  policy: { mfa: { mode: string; grace: { days: number | null } }; session: { idleMinutes: number; absoluteMinutes: number } };
}
interface AuditEvent {
  id: number;
  type: string;
  outcome: string;
  chainSeq: number | null;
}

describe.skipIf(!browserAvailable())('admin console: tenants, MFA policy, audit log', () => {
  let srv: ConsoleServer;
  let browser: Browser;
  let seeded: Awaited<ReturnType<typeof seed>>;
  const contexts: BrowserContext[] = [];
  const errors: string[] = [];

  const open = async (tenant: string, identifier: string, password: string) => {
    const { context, page } = await newPage(browser, srv.url);
    contexts.push(context);
    page.on('pageerror', (e) => errors.push(e.message));
    await signInAs(page, tenant, identifier, password);
    return page;
  };

  beforeAll(async () => {
    srv = await startConsoleServer();
    seeded = await seed(srv, {
      tenant: 'acme',
      mfaMode: 'optional',
      users: [
        { email: 'admin@acme.test', roles: ['tenant_admin'] },
        { email: 'dana.agent@acme.test', roles: ['agent'] },
        { email: 'eli.agent@acme.test', roles: ['agent'] },
        { email: 'sam.supervisor@acme.test', roles: ['supervisor'] },
      ],
    });
    // one agent already has an authenticator app: they will not have to enroll
    await enrollTotp(srv, seeded.users['dana.agent@acme.test']!.token!);
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await srv?.close();
  });

  it('the operator creates a tenant, switches its MFA to required, opens it and picks tenants in the header', async () => {
    const page = await open('platform', OPERATOR.email, OPERATOR.password);
    await page.goto('/admin/tenants');
    await expect.poll(() => page.getByRole('heading', { name: 'Tenants' }).isVisible()).toBe(true);
    await page.getByTestId('tenant-row-acme').waitFor();

    await page.getByRole('button', { name: 'New tenant' }).first().click();
    const create = page.getByRole('dialog', { name: 'New tenant' });
    await create.getByLabel('Name').fill('Northwind Support');
    await create.getByLabel('Slug').fill('northwind');
    await create.getByLabel(/First administrator's email/).fill('lee@northwind.test');
    await create.getByRole('button', { name: 'Create tenant' }).click();
    await create.waitFor({ state: 'hidden' });

    const row = page.getByTestId('tenant-row-northwind');
    await row.waitFor();
    expect(await row.textContent()).toContain('Northwind Support');
    const mfa = row.getByRole('radiogroup', { name: 'MFA for northwind' });
    await expect.poll(() => mfa.getByRole('radio', { name: 'Optional' }).isChecked()).toBe(true);

    // the switch shows who it affects before anything is saved
    await mfa.getByText('Required', { exact: true }).click();
    const confirm = page.getByRole('dialog', { name: 'Switch MFA to required for Northwind Support?' });
    await confirm.getByTestId('policy-impact').waitFor();
    expect(await confirm.getByRole('list', { name: 'Users who must enroll' }).innerText()).toContain('lee@northwind.test');
    expect((await apiGet<Policy>(page, '/v1/tenants/northwind/policy')).policy.mfa.mode).toBe('optional');
    await confirm.getByRole('button', { name: 'Switch to required' }).click();
    await confirm.waitFor({ state: 'hidden' });
    await expect.poll(() => mfa.getByRole('radio', { name: 'Required' }).isChecked()).toBe(true);
    const saved = await apiGet<Policy>(page, '/v1/tenants/northwind/policy');
    expect(saved.policy.mfa.mode).toBe('required');
    expect(saved.version).toBe(2);

    // "Open" makes it the tenant the admin screens act in
    await row.getByRole('button', { name: 'Open Northwind Support' }).click();
    await page.waitForURL(/\/admin\/users$/);
    const picker = page.getByRole('combobox', { name: 'Current tenant' });
    await expect.poll(() => picker.inputValue()).toBe('Northwind Support · northwind');

    // the header picker switches to another tenant; the policy screen follows it
    await picker.click();
    await page.getByRole('option', { name: 'acme Contact Center · acme' }).click();
    await expect.poll(() => picker.inputValue()).toBe('acme Contact Center · acme');
    await page.getByRole('link', { name: 'MFA policy' }).click();
    await expect.poll(() => page.getByText(/rules for acme Contact Center · version \d+/).isVisible()).toBe(true);
    expect(errors).toEqual([]);
  });

  it('an admin edits the policy: refused settings are named, the preview lists who must enroll, saving persists', async () => {
    const page = await open('acme', 'admin@acme.test', STRONG);
    const before = await apiGet<Policy>(page, '/v1/tenants/acme/policy');
    await page.goto('/admin/policy');
    await page.getByRole('heading', { name: 'MFA policy' }).waitFor();

    await page.getByRole('radiogroup', { name: 'MFA mode' }).getByText('Required', { exact: true }).click();
    await page.getByLabel('Grace period (days)').fill('7');
    await page.getByRole('tab', { name: /Sessions & lockout/ }).click();
    await page.getByLabel('Idle timeout (minutes)').fill('120');
    await page.getByLabel('Session lifetime (minutes)').fill('60');

    // the server refuses a lifetime shorter than the idle timeout; the field says why in words
    await page.getByRole('button', { name: 'Review and save' }).click();
    const lifetime = page.getByLabel('Session lifetime (minutes)');
    await expect.poll(() => lifetime.getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByText('Must be at least the idle timeout.').first().isVisible()).toBe(true);
    expect(await page.getByTestId('policy-issues').innerText()).toContain('Session lifetime (minutes): Must be at least the idle timeout.');
    expect(await page.getByRole('dialog').count()).toBe(0);

    await lifetime.fill('1440');
    await page.getByRole('button', { name: 'Review and save' }).click();
    const review = page.getByRole('dialog', { name: 'Review the policy change for acme Contact Center' });
    await review.getByTestId('policy-impact').waitFor();
    const changes = await review.getByRole('table', { name: 'Changed settings' }).innerText();
    expect(changes).toMatch(/MFA mode\s+Optional\s+Required/);
    expect(changes).toMatch(/Grace period \(days\)\s+No limit\s+7/);
    expect(changes).toMatch(/Idle timeout \(minutes\)\s+60\s+120/);
    const mustEnroll = (await review.getByRole('list', { name: 'Users who must enroll' }).innerText()).split('\n').map((s) => s.trim()).filter(Boolean);
    expect(mustEnroll.sort()).toEqual(['admin@acme.test', 'eli.agent@acme.test', 'sam.supervisor@acme.test']);
    expect(await review.getByText('3 users must enroll a second factor').isVisible()).toBe(true);
    expect(await review.getByText('4 more users will have to use a second factor.').isVisible()).toBe(true);
    // nothing is saved until confirmed
    expect((await apiGet<Policy>(page, '/v1/tenants/acme/policy')).version).toBe(before.version);

    await review.getByRole('button', { name: 'Save policy' }).click();
    await review.waitFor({ state: 'hidden' });
    await expect.poll(async () => (await apiGet<Policy>(page, '/v1/tenants/acme/policy')).version).toBe(before.version + 1);
    const after = await apiGet<Policy>(page, '/v1/tenants/acme/policy');
    expect(after.policy.mfa.mode).toBe('required');
    expect(after.policy.mfa.grace.days).toBe(7);
    expect(after.policy.session).toMatchObject({ idleMinutes: 120, absoluteMinutes: 1440 });
    await expect.poll(() => page.getByText('No unsaved changes.').isVisible()).toBe(true);

    // the same screen is read-only for someone without policy.write
    const viewer = await open('acme', 'sam.supervisor@acme.test', STRONG);
    await viewer.goto('/admin/policy');
    await viewer.getByText('View only').waitFor();
    await expect.poll(() => viewer.getByRole('radiogroup', { name: 'MFA mode' }).getByRole('radio', { name: 'Required' }).isChecked()).toBe(true);
    expect(await viewer.getByLabel('Grace period (days)').isDisabled()).toBe(true);
    expect(await viewer.getByRole('button', { name: 'Review and save' }).count()).toBe(0);
    expect(errors).toEqual([]);
  });

  it('the audit log shows these actions, filters by type, exports the filtered events and shows the chain broken after tampering', async () => {
    await sealTenant(srv.s, seeded.tenantId);
    const page = await open('acme', 'admin@acme.test', STRONG);
    await page.goto('/admin/audit');
    const verdict = page.getByTestId('chain-verdict');
    await expect.poll(() => verdict.textContent(), { timeout: 30_000 }).toBe('Chain verified');

    const rows = page.getByTestId('audit-row');
    await rows.first().waitFor();
    const typesShown = async () => [...new Set(await Promise.all((await rows.all()).map((r) => r.getAttribute('data-type'))))];
    const all = await typesShown();
    const unfiltered = await rows.count();
    expect(all).toEqual(expect.arrayContaining(['policy.changed', 'user.invited', 'tenant.created', 'session.created']));
    expect(await page.getByRole('table', { name: 'Audit events' }).innerText()).toContain('MFA policy changed');

    // filter by type: only policy changes remain
    await page.getByRole('combobox', { name: 'Event type' }).click();
    await page.getByRole('combobox', { name: 'Event type' }).fill('policy');
    await page.getByRole('option', { name: 'MFA policy changed' }).click();
    await expect.poll(typesShown).toEqual(['policy.changed']);
    const expected = await apiGet<{ events: AuditEvent[] }>(page, '/v1/tenants/acme/audit?type=policy.changed');
    expect(expected.events.length).toBeGreaterThanOrEqual(1);
    await expect.poll(() => rows.count()).toBe(expected.events.length);
    expect(expected.events.length).toBeLessThan(unfiltered);

    // the event's details: the changed settings in words
    await rows.first().getByRole('button', { name: 'MFA policy changed' }).click();
    const details = page.getByTestId('event-details');
    await details.waitFor();
    const changes = await details.getByRole('table', { name: 'Policy changes' }).innerText();
    expect(changes).toMatch(/MFA mode\s+Optional\s+Required/);
    await page.keyboard.press('Escape');
    await details.waitFor({ state: 'hidden' });

    // export with the filter applied: a JSON-lines file of exactly those events
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export filtered events' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^audit-acme-\d{8}T\d{6}Z\.jsonl$/);
    const text = await readFile((await download.path())!, 'utf8');
    const lines = text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditEvent);
    expect(lines.map((e) => e.type)).toEqual(expected.events.map(() => 'policy.changed'));
    expect(lines.map((e) => e.id)).toEqual(expected.events.map((e) => e.id).sort((a, b) => a - b));

    // tamper with a sealed event behind Callwarden's back: the card shows the chain broken there
    const target = expected.events.find((e) => e.chainSeq !== null);
    expect(target, 'a sealed policy.changed event').toBeDefined();
    await sql`UPDATE audit_events SET outcome = 'failure' WHERE id = ${target!.id}`.execute(srv.s.store.db);
    await page.getByRole('button', { name: 'Check again' }).click();
    await expect.poll(() => verdict.textContent(), { timeout: 30_000 }).toBe(`Broken at event #${target!.id} (chain position ${target!.chainSeq})`);
    const card = await page.getByTestId('chain-status').innerText();
    expect(card).toContain(`Event #${target!.id} (chain position ${target!.chainSeq}): changed after it was sealed`);
    expect(errors).toEqual([]);
  });
});
