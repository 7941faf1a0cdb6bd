/**
 * Step-up in a real browser (Chromium virtual authenticators, a server at http://localhost:<port>):
 * the tenant policy asks for a phishing-resistant method before revealing a masked customer detail.
 * An administrator signed in with password + authenticator app reveals the national ID: the console
 * opens the step-up dialog by itself; without a security key it says to add one on the security page
 * (where the administrator adds one); with it, the dialog offers the key, the virtual authenticator
 * answers, and the value appears without clicking Reveal again (Escape closes only the step-up
 * dialog). The policy editor shows the step-up and key-model settings; an administrator suspends and
 * resumes another user's key in the user panel (model name, device-bound, a "possible copy" warning).
 */
import { sql } from 'kysely';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, enrollTotp, json, STRONG } from '../helpers/app.js';
import { callerFixture } from '../helpers/callers.js';
import { browserAvailable, launchBrowser, newPage, startLocalhostServer, type ConsoleServer } from './harness.js';
import { signInViaApi, signInWithCode, signInWithFreshTotp } from './session-helpers.js';

const ADMIN = 'admin@acme.test';
const AGENT = 'agent@acme.test';

interface MeBody { session: { aal: number; methods: string[]; phishingResistant: boolean } }
const getJson = <T,>(page: Page, path: string) => page.evaluate((p) => fetch(p).then((r) => r.json()), path) as Promise<T>;

/** A USB security key without user verification (CTAP2; it answers every prompt by itself). */
async function usbKey(page: Page) {
  const cdp: CDPSession = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'usb', hasResidentKey: false, hasUserVerification: false, isUserVerified: false, automaticPresenceSimulation: true },
  });
  return { credentials: async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials };
}

/** On the security page: adds a security key named `name` (and saves the first recovery codes when shown). */
async function addKey(page: Page, name: string) {
  await page.getByRole('button', { name: 'Add security key' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add a security key' });
  await dialog.getByLabel('Name', { exact: true }).fill(name);
  await dialog.getByRole('button', { name: 'Continue' }).click();
  const codes = page.getByRole('dialog', { name: 'Save your recovery codes' });
  const row = page.getByRole('list', { name: 'Security keys and passkeys' }).getByTestId('key-name').getByText(name, { exact: true });
  await Promise.race([codes.waitFor(), row.waitFor()]);
  if (await codes.isVisible()) {
    await codes.getByLabel('I have saved these codes somewhere safe').check();
    await codes.getByRole('button', { name: 'Done' }).click();
    await codes.waitFor({ state: 'detached' });
  }
  await row.waitFor();
}

const overflowAt360 = async (page: Page) => {
  const before = page.viewportSize();
  await page.setViewportSize({ width: 360, height: 720 });
  await page.waitForTimeout(300);
  const over = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  if (before) await page.setViewportSize(before);
  return over;
};

describe.skipIf(!browserAvailable())('step-up and key administration in the console', () => {
  let srv: ConsoleServer;
  let browser: Browser;
  let f: Awaited<ReturnType<typeof callerFixture>>;
  let adminTotp: string;
  let recoveryCodes: string[];
  const contexts: BrowserContext[] = [];
  const errors: string[] = [];

  const open = async () => {
    const { context, page } = await newPage(browser, srv.url);
    contexts.push(context);
    page.on('pageerror', (e) => errors.push(e.message));
    return { context, page };
  };

  const setPolicy = async (change: (p: Record<string, any>) => void) => {
    const cur = json(await api(srv.app).get('/v1/tenants/acme/policy', { token: f.admin }));
    change(cur.policy);
    const put = await api(srv.app).put('/v1/tenants/acme/policy', { token: f.admin, body: { version: cur.version, policy: cur.policy } });
    expect(put.statusCode, put.body).toBe(200);
  };

  beforeAll(async () => {
    srv = await startLocalhostServer();
    f = await callerFixture(srv);
    const patched = await api(srv.app).patch(`/v1/tenants/acme/customers/${f.customerId}`, { token: f.admin, body: { nationalId: '123-45-6789', dateOfBirth: '1984-04-12' } });
    expect(patched.statusCode, patched.body).toBe(200);
    ({ secret: adminTotp, recoveryCodes } = await enrollTotp(srv, f.admin));
    await setPolicy((p) => {
      p.mfa.allowedFactors = ['totp', 'webauthn', 'recovery_code'];
      p.stepUp.reveal = { aal: 1, phishingResistant: true, maxAgeMinutes: null };
    });
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await srv?.close();
  });

  it('revealing a customer detail asks for a security key by itself, then shows the value without a second click', async () => {
    const started = await api(srv.app).post('/v1/tenants/acme/verifications', { token: f.admin, body: { customerId: f.customerId, interactionId: 'call-step-up' } });
    expect(started.statusCode, started.body).toBe(201);
    const vid = json(started).id as string;
    const { context, page } = await open();
    const key = await usbKey(page);
    await signInWithFreshTotp(context, 'acme', ADMIN, STRONG, adminTotp);
    expect(((await (await context.request.get('/v1/me')).json()) as MeBody).session).toMatchObject({ methods: ['pwd', 'totp'], phishingResistant: false });

    const reveal = async () => {
      const card = page.getByRole('region', { name: 'Customer' });
      await card.getByRole('button', { name: 'Reveal national ID' }).click();
      const dialog = page.getByRole('dialog', { name: 'Reveal national ID' });
      await dialog.getByLabel('Reason').fill('Caller disputes the ID on file');
      await dialog.getByRole('button', { name: 'Reveal' }).click();
      return { card, dialog };
    };
    const stepUp = page.getByRole('dialog', { name: 'Confirm it’s you' });

    // no method of the account can give it: the dialog says what to add, and where
    await page.goto(`/agent/verifications/${vid}`);
    await reveal();
    await stepUp.getByText('This needs a security key').waitFor();
    await stepUp.getByText('None of your sign-in methods can confirm this').waitFor();
    expect(await stepUp.textContent()).toContain('Add a security key or passkey on your security page');
    await stepUp.getByRole('button', { name: 'Open security page' }).click();
    await page.waitForURL((u) => u.pathname === '/security');
    await stepUp.waitFor({ state: 'detached' });
    await addKey(page, 'Desk key');
    expect(await key.credentials()).toHaveLength(1);

    // Escape closes only the step-up dialog: the reveal dialog stays, saying it was not done
    await page.goto(`/agent/verifications/${vid}`);
    const first = await reveal();
    await stepUp.getByText('This needs a security key').waitFor();
    expect(await stepUp.textContent()).toContain('before you reveal this customer detail');
    await stepUp.getByRole('button', { name: 'Use security key' }).waitFor();
    expect(await overflowAt360(page)).toBeLessThanOrEqual(0);
    await page.keyboard.press('Escape');
    await stepUp.waitFor({ state: 'detached' });
    await first.dialog.getByText('Not revealed').waitFor();
    expect(await first.dialog.textContent()).toContain('confirm it’s you first');

    // again: the key answers and the value appears, with no second click on Reveal
    await first.dialog.getByRole('button', { name: 'Reveal' }).click();
    await stepUp.getByText('This needs a security key').waitFor();
    const methods = stepUp.getByRole('radiogroup', { name: 'Verify with' });
    expect(await methods.count()).toBe(0); // only the key can give it: nothing else is offered
    await stepUp.getByRole('button', { name: 'Use security key' }).click();
    const shown = first.card.getByTestId('revealed-nationalId');
    await shown.waitFor();
    expect(await shown.textContent()).toBe('123456789');
    await stepUp.waitFor({ state: 'detached' });
    await first.dialog.waitFor({ state: 'detached' });

    const session = (await getJson<MeBody>(page, '/v1/me')).session;
    expect(session.phishingResistant).toBe(true);
    expect(session.methods).toContain('webauthn');
    const revealed = await srv.s.store.db.selectFrom('audit_events').select(['type', 'outcome']).where('type', '=', 'customer.field_revealed').execute();
    expect(revealed).toEqual([{ type: 'customer.field_revealed', outcome: 'success' }]);
    const stepped = await srv.s.store.db.selectFrom('audit_events').select('type').where('type', '=', 'session.reauthenticated').execute();
    expect(stepped.length).toBeGreaterThanOrEqual(1);

    // the session now meets the need: the next reveal asks nothing
    await first.card.getByRole('button', { name: 'Reveal date of birth' }).click();
    const dob = page.getByRole('dialog', { name: 'Reveal date of birth' });
    await dob.getByLabel('Reason').fill('Caller asked to confirm the value on file');
    await dob.getByRole('button', { name: 'Reveal' }).click();
    await first.card.getByTestId('revealed-dateOfBirth').waitFor();
    expect(await stepUp.count()).toBe(0);
    expect(errors).toEqual([]);
  });

  it('the policy editor sets what each sensitive action asks, and which key models may be added', async () => {
    const { context, page } = await open();
    await signInWithCode(context, 'acme', ADMIN, STRONG, 'recovery_code', recoveryCodes.pop()!);
    await srv.s.store.authenticatorModels.replace(1, [{ aaguid: '2fc0579f-8113-47ea-b116-bb5a8db9202a', description: 'YubiKey 5 NFC', status: 'FIDO_CERTIFIED_L1', statement: {} }], new Date());
    await page.goto('/admin/policy');
    await page.getByRole('tab', { name: 'Sensitive actions' }).click();
    const revealGroup = page.getByRole('group', { name: 'Revealing a masked customer detail' });
    expect(await revealGroup.getByRole('switch', { name: 'Phishing-resistant method' }).isChecked()).toBe(true);
    expect(await revealGroup.getByTestId('step-up-summary-reveal').textContent()).toBe('Asks for a security key or passkey.');
    const reset = page.getByRole('group', { name: 'Approving a factor reset' });
    await reset.getByRole('combobox', { name: 'Sign-in level' }).click();
    await page.getByRole('option', { name: 'Two-step verification' }).click();
    await reset.getByRole('textbox', { name: 'Signed in within (minutes)' }).fill('15');
    expect(await reset.getByTestId('step-up-summary-factorReset').textContent()).toBe('Asks for two-step verification, a sign-in within the last 15 minutes.');
    expect(await overflowAt360(page)).toBeLessThanOrEqual(0);

    await page.getByRole('tab', { name: 'Staff sign-in' }).click();
    const models = page.getByRole('combobox', { name: 'Allowed key models' });
    expect(await models.getAttribute('placeholder')).toBe('Any model');
    await models.click();
    await page.getByRole('option', { name: 'YubiKey 5 NFC' }).click();
    await page.getByText('Keys must prove their model').waitFor();
    await page.keyboard.press('Escape');

    await page.getByRole('button', { name: 'Review and save' }).click();
    const review = page.getByRole('dialog', { name: /Review the policy change/ });
    await review.getByTestId('policy-impact').waitFor();
    const text = await review.textContent();
    expect(text).toContain('Approving a factor reset: sign-in level');
    expect(text).toContain('Allowed key models');
    await review.getByRole('button', { name: 'Save policy' }).click();
    await review.waitFor({ state: 'detached' });
    const saved = json(await api(srv.app).get('/v1/tenants/acme/policy', { token: f.admin })).policy;
    expect(saved.stepUp.factorReset).toEqual({ aal: 2, phishingResistant: false, maxAgeMinutes: 15 });
    expect(saved.stepUp.reveal).toEqual({ aal: 1, phishingResistant: true, maxAgeMinutes: null });
    expect(saved.webauthn.allowedModels).toEqual(['2fc0579f-8113-47ea-b116-bb5a8db9202a']);
    await setPolicy((p) => { p.webauthn.allowedModels = []; });
    expect(errors).toEqual([]);
  });

  it("an administrator suspends and resumes another user's security key in the user panel", async () => {
    const agent = await open();
    await usbKey(agent.page);
    await signInViaApi(agent.context, 'acme', AGENT, STRONG);
    await agent.page.goto('/security');
    await addKey(agent.page, 'Agent key');
    const row = await srv.s.store.db.selectFrom('credentials').select(['id', 'meta']).where('kind', '=', 'webauthn').where('label', '=', 'Agent key').executeTakeFirstOrThrow();
    const aaguid = String((row.meta as { aaguid?: string }).aaguid);
    await srv.s.store.authenticatorModels.replace(2, [{ aaguid, description: 'Chromium Test Key', status: null, statement: {} }], new Date());
    await sql`UPDATE credentials SET meta = meta || '{"flags":{"counter_regression":true}}'::jsonb WHERE id = ${row.id}`.execute(srv.s.store.db);

    const { context, page } = await open();
    await signInWithCode(context, 'acme', ADMIN, STRONG, 'recovery_code', recoveryCodes.pop()!);
    await page.goto('/admin/users');
    await page.getByRole('button', { name: `Manage ${AGENT}` }).click();
    const drawer = page.getByRole('dialog');
    await drawer.getByLabel(`Details for ${AGENT}`).waitFor();
    const keyItem = drawer.getByRole('list', { name: 'Sign-in methods' }).getByRole('listitem').filter({ hasText: 'Agent key' });
    await keyItem.waitFor();
    const facts = await keyItem.textContent();
    for (const t of ['Chromium Test Key', 'Device-bound', 'Touch only', 'Possible copy', 'Never used']) expect(facts).toContain(t);
    expect(await overflowAt360(page)).toBeLessThanOrEqual(0);

    await keyItem.getByRole('button', { name: 'Suspend Agent key' }).click();
    const confirm = page.getByRole('dialog', { name: 'Suspend Agent key?' });
    await confirm.getByRole('button', { name: 'Suspend' }).click();
    await keyItem.getByRole('button', { name: 'Resume Agent key' }).waitFor();
    expect(await keyItem.textContent()).toContain('Suspended');
    const detail = json(await api(srv.app).get(`/v1/tenants/acme/users/${f.users[AGENT]!.id}`, { token: f.admin }));
    expect(detail.factors.find((x: { label: string }) => x.label === 'Agent key').status).toBe('suspended');

    await keyItem.getByRole('button', { name: 'Resume Agent key' }).click();
    await keyItem.getByRole('button', { name: 'Suspend Agent key' }).waitFor();
    const after = json(await api(srv.app).get(`/v1/tenants/acme/users/${f.users[AGENT]!.id}`, { token: f.admin }));
    expect(after.factors.find((x: { label: string }) => x.label === 'Agent key').status).toBe('active');
    expect(errors).toEqual([]);
  });
});
