/**
 * The self-service security screen in a real browser: adding an authenticator after the fresh
 * authentication prompt, new recovery codes (the old ones stop working), removing a factor with a
 * re-authentication that asks for the second factor too, a wrong current password that does not end
 * the session, revoking another session (that browser is signed out on its next navigation), and the
 * recent activity in words.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { api, json, seed, STRONG } from '../helpers/app.js';
import { browserAvailable, launchBrowser, newPage, startConsoleServer, totpNow, type ConsoleServer } from './harness.js';

const EMAIL = 'sam@acme.test';

/** GET /v1/me/factors from inside the page (with its session cookie). */
const factorsOf = (page: Page) => page.evaluate(() => fetch('/v1/me/factors').then((r) => r.json())) as Promise<{ factors: Array<{ kind: string }> }>;

async function signInUi(page: Page) {
  await page.goto('/signin?next=%2Fsecurity');
  await page.getByLabel('Organization', { exact: true }).fill('acme');
  await page.getByLabel('Email', { exact: true }).fill(EMAIL);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByLabel('Password', { exact: true }).fill(STRONG);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.pathname === '/security');
}

describe.skipIf(!browserAvailable())('security screen', () => {
  let srv: ConsoleServer;
  let browser: Browser;

  /** Signs in through the API with a recovery code; the HTTP status of the factor step. */
  const recoveryCodeSignIn = async (code: string) => {
    const a = api(srv.app);
    const start = json(await a.post('/v1/auth/flows', { body: { tenant: 'acme', identifier: EMAIL } }));
    const pw = json(await a.post(`/v1/auth/flows/${start.flow.id}/password`, { flow: start.flowToken, body: { password: STRONG } }));
    return (await a.post(`/v1/auth/flows/${start.flow.id}/factor`, { flow: pw.flowToken, body: { method: 'recovery_code', code } })).statusCode;
  };

  beforeAll(async () => {
    srv = await startConsoleServer();
    browser = await launchBrowser();
    await seed(srv, { users: [{ email: EMAIL, roles: ['agent'] }] });
  });
  afterAll(async () => {
    await browser?.close();
    await srv?.close();
  });

  it('manages sign-in methods, recovery codes and sessions, asking for fresh authentication', async () => {
    const a = await newPage(browser, srv.url);
    const b = await newPage(browser, srv.url);
    const page = a.page;
    await signInUi(page);
    await signInUi(b.page);
    const otherSessionId = await b.page.evaluate(() => fetch('/v1/me').then((r) => r.json() as Promise<{ session: { id: string } }>).then((m) => m.session.id));
    await page.getByRole('heading', { name: 'Sign-in & security' }).waitFor();
    expect(await page.getByText('Only your password protects this account.', { exact: false }).isVisible()).toBe(true);

    // (a) add an authenticator: the sign-in is older than the 10-minute window, so the password is asked first
    srv.clock.advance(11 * 60_000);
    await page.getByRole('button', { name: 'Add authenticator app' }).click();
    const reauth = page.getByRole('dialog', { name: /Confirm it/ });
    await reauth.waitFor();
    expect(await reauth.textContent()).toContain('enter your password to add an authenticator app');
    await reauth.getByLabel('Your password', { exact: true }).fill(STRONG);
    await reauth.getByRole('button', { name: 'Confirm' }).click();
    const setup = page.getByRole('dialog', { name: 'Add an authenticator app' });
    await setup.waitFor();
    expect(await setup.getByRole('img', { name: /QR code/ }).isVisible()).toBe(true);
    const key = (await setup.getByLabel('Setup key', { exact: true }).inputValue()).replace(/ /g, '');
    await setup.getByLabel('Code from the app').fill(totpNow(key, srv.clock.now()));
    await setup.getByRole('button', { name: 'Confirm and turn on' }).click();
    const firstCodesDialog = page.getByRole('dialog', { name: 'Save your recovery codes' });
    await firstCodesDialog.waitFor();
    const firstCodes = await firstCodesDialog.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem').allTextContents();
    expect(firstCodes).toHaveLength(10);
    await firstCodesDialog.getByLabel('I have saved these codes somewhere safe').check();
    await firstCodesDialog.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('button', { name: 'Remove Authenticator app' }).waitFor();
    const factors = await factorsOf(page);
    expect(factors.factors.map((f) => f.kind).sort()).toEqual(['recovery_code', 'totp']);

    // (b) new recovery codes (authentication still fresh): shown once, the old ones stop working
    await page.getByRole('tab', { name: 'Recovery codes' }).click();
    expect(await page.getByTestId('recovery-codes-left').textContent()).toBe('10 of 10 codes left');
    await page.getByRole('button', { name: 'Create new codes' }).click();
    await page.getByRole('dialog', { name: 'Create new recovery codes?' }).getByRole('button', { name: 'Create new codes' }).click();
    const newCodesDialog = page.getByRole('dialog', { name: 'Your new recovery codes' });
    await newCodesDialog.waitFor();
    const newCodes = await newCodesDialog.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem').allTextContents();
    expect(newCodes).toHaveLength(10);
    expect(newCodes.filter((c) => firstCodes.includes(c))).toEqual([]);
    const done = newCodesDialog.getByRole('button', { name: 'Done' });
    expect(await done.isDisabled()).toBe(true);
    await newCodesDialog.getByLabel('I have saved these codes somewhere safe').check();
    await done.click();
    expect(await recoveryCodeSignIn(firstCodes[0]!)).toBe(401);
    expect(await recoveryCodeSignIn(newCodes[0]!)).toBe(200);
    await page.getByRole('tab', { name: 'Sign-in methods' }).click();
    await page.getByRole('tab', { name: 'Recovery codes' }).click();
    await page.getByText('9 of 10 codes left').waitFor();

    // a wrong current password is an error on the form, not the end of the session
    await page.getByRole('tab', { name: 'Password' }).click();
    await page.getByLabel('Current password', { exact: true }).fill('not my password at all');
    await page.getByLabel('New password', { exact: true }).fill('a brand new passphrase 77');
    await page.getByLabel('Confirm new password', { exact: true }).fill('a brand new passphrase 77');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('That is not your current password.').waitFor();
    expect(new URL(page.url()).pathname).toBe('/security');

    // (d) sessions: this device is marked; signing out the other browser ends its session
    await page.getByRole('tab', { name: 'Sessions' }).click();
    const mine = page.locator('tr', { has: page.getByText('This device') });
    await mine.waitFor();
    const other = page.locator(`tr[data-session-id="${otherSessionId}"]`);
    expect(await other.getByText('This device').count()).toBe(0);
    expect(await other.textContent()).toMatch(/Chrome \d+ on Linux/);
    await other.getByRole('button', { name: /^Sign out/ }).click();
    await other.waitFor({ state: 'detached' });
    await b.page.goto('/security');
    await b.page.waitForURL((u) => u.pathname === '/signin' && u.searchParams.get('next') === '/security');
    expect(await b.page.evaluate(() => fetch('/v1/me').then((r) => r.status))).toBe(401);

    // removing the authenticator later asks again, now for the password and a code
    srv.clock.advance(11 * 60_000);
    await page.getByRole('tab', { name: 'Sign-in methods' }).click();
    await page.getByRole('button', { name: 'Remove Authenticator app' }).click();
    await page.getByRole('dialog', { name: 'Remove this sign-in method?' }).getByRole('button', { name: 'Remove' }).click();
    const again = page.getByRole('dialog', { name: /Confirm it/ });
    await again.getByLabel('Your password', { exact: true }).fill(STRONG);
    await again.getByRole('button', { name: 'Confirm' }).click();
    await again.getByRole('textbox', { name: 'Authenticator code' }).fill(totpNow(key, srv.clock.now()));
    await again.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('button', { name: 'Remove Authenticator app' }).waitFor({ state: 'detached' });
    const after = await factorsOf(page);
    expect(after.factors.map((f) => f.kind)).toEqual(['recovery_code']);

    // (e) recent activity in words
    await page.getByRole('tab', { name: 'Recent activity' }).click();
    const table = page.getByRole('table', { name: 'Recent activity' });
    await table.waitFor();
    const text = (await table.textContent()) ?? '';
    for (const words of ['Signed in', 'Authenticator app added', 'New recovery codes created', 'Confirmed identity', 'Session signed out', 'Authenticator app removed', 'Password change failed']) {
      expect(text).toContain(words);
    }
    expect(text).not.toMatch(/factor_added|signin_failed|session_revoked/);
    await a.context.close();
    await b.context.close();
  });
});
