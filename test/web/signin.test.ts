/**
 * The sign-in screen in a real browser: password + authenticator code, forced enrollment from the
 * setup key shown on screen, recovery codes (once only), and errors that reveal nothing about
 * whether an account exists.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { api, enrollTotp, invitationToken, json, seed, STRONG } from '../helpers/app.js';
import { browserAvailable, launchBrowser, newPage, startConsoleServer, totpNow, type ConsoleServer } from './harness.js';

async function identify(page: Page, tenant: string, email: string) {
  await page.getByLabel('Organization', { exact: true }).fill(tenant);
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByRole('button', { name: 'Continue' }).click();
}

interface MeBody { email: string; session: { id: string; aal: number; methods: string[] } }
/** GET /v1/me from inside the page (with its session cookie). */
const meOf = (page: Page) => page.evaluate(() => fetch('/v1/me').then((r) => r.json())) as Promise<MeBody>;

async function enterPassword(page: Page, password: string) {
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

describe.skipIf(!browserAvailable())('sign-in screen', () => {
  let srv: ConsoleServer;
  let browser: Browser;
  let acme: Awaited<ReturnType<typeof seed>>;
  /** A code the server has not seen yet: the next time step (codes are accepted once, ±1 step). */
  const nextCode = (secret: string) => totpNow(secret, new Date(srv.clock.now().getTime() + 30_000));

  beforeAll(async () => {
    srv = await startConsoleServer();
    browser = await launchBrowser();
    acme = await seed(srv, { users: ['ana', 'ray', 'wes'].map((n) => ({ email: `${n}@acme.test`, roles: ['agent'] })) });
    await seed(srv, { tenant: 'globex', mfaMode: 'required', users: [{ email: 'fay@globex.test', roles: ['agent'] }] });
  });
  afterAll(async () => {
    await browser?.close();
    await srv?.close();
  });

  it('signs in with password and an authenticator code, then goes to ?next=', async () => {
    const { secret } = await enrollTotp(srv, acme.users['ana@acme.test']!.token!);
    const { context, page } = await newPage(browser, srv.url);
    await page.goto('/signin?next=%2Fsecurity');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.getByText('Callwarden', { exact: true }).isVisible()).toBe(true);
    await identify(page, 'acme', 'ana@acme.test');
    await enterPassword(page, STRONG);
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
    const methods = page.getByRole('radiogroup', { name: 'Verify with' });
    expect(await methods.getByText('Authenticator app').isVisible()).toBe(true);
    expect(await methods.getByText('Recovery code').isVisible()).toBe(true);
    const code = page.getByRole('textbox', { name: 'Authenticator code' });
    expect(await code.getAttribute('autocomplete')).toBe('one-time-code');
    expect(await code.getAttribute('inputmode')).toBe('numeric');
    // the flow token is kept in memory only
    expect(await page.evaluate('[Object.keys(localStorage), sessionStorage.length]')).toEqual([['callwarden.lastTenant'], 0]);
    await code.fill(nextCode(secret));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL((u) => u.pathname === '/security');
    await page.getByRole('heading', { name: 'Sign-in & security' }).waitFor();
    expect(await page.getByTestId('signed-in-as').textContent()).toBe('ana@acme.test');
    const me = await meOf(page);
    expect(me.session).toMatchObject({ aal: 2, methods: ['pwd', 'totp'] });
    // the organization is remembered on this device
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((u) => u.pathname === '/signin');
    expect(await page.getByLabel('Organization', { exact: true }).inputValue()).toBe('acme');
    await context.close();
  });

  it('enrolls an authenticator when policy requires it, from the setup key shown on screen', async () => {
    const { context, page } = await newPage(browser, srv.url);
    await page.goto('/signin');
    await identify(page, 'globex', 'fay@globex.test');
    await enterPassword(page, STRONG);
    await page.getByRole('heading', { name: 'Set up two-step verification' }).waitFor();
    const qr = page.getByRole('img', { name: /QR code/ });
    await qr.waitFor();
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/svg\+xml/);
    expect(await qr.evaluate((img) => { const i = img as unknown as { complete: boolean; naturalWidth: number }; return i.complete && i.naturalWidth > 0; })).toBe(true);
    const shown = await page.getByLabel('Setup key', { exact: true }).inputValue();
    expect(shown).toMatch(/^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/);
    await page.getByLabel('Code from the app').fill(totpNow(shown, srv.clock.now()));
    await page.getByRole('button', { name: 'Confirm and continue' }).click();

    await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
    const codes = await page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem').allTextContents();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download .txt' }).click()]);
    expect(download.suggestedFilename()).toBe('callwarden-recovery-codes-globex.txt');
    const text = await readFile((await download.path())!, 'utf8');
    for (const c of codes) expect(text).toContain(c);
    const go = page.getByRole('button', { name: 'Continue' });
    expect(await go.isDisabled()).toBe(true);
    await page.getByLabel('I have saved these codes somewhere safe').check();
    await go.click();
    await page.waitForURL((u) => u.pathname === '/agent');
    expect(await page.getByTestId('signed-in-as').textContent()).toBe('fay@globex.test');
    const me = await meOf(page);
    expect(me.session).toMatchObject({ aal: 2, methods: ['pwd', 'totp'] });

    // the codes on screen are the real ones: one signs in through the API
    const a = api(srv.app);
    const start = json(await a.post('/v1/auth/flows', { body: { tenant: 'globex', identifier: 'fay@globex.test' } }));
    const pw = json(await a.post(`/v1/auth/flows/${start.flow.id}/password`, { flow: start.flowToken, body: { password: STRONG } }));
    expect(pw.flow.state).toBe('second_factor');
    const rc = await a.post(`/v1/auth/flows/${start.flow.id}/factor`, { flow: pw.flowToken, body: { method: 'recovery_code', code: codes[3] } });
    expect(rc.statusCode).toBe(200);
    await context.close();
  });

  it('signs in with a recovery code, which is refused the second time', async () => {
    const { recoveryCodes } = await enrollTotp(srv, acme.users['ray@acme.test']!.token!);
    const code = recoveryCodes[0]!;
    const { context, page } = await newPage(browser, srv.url);
    const useRecoveryCode = async () => {
      await identify(page, 'acme', 'ray@acme.test');
      await enterPassword(page, STRONG);
      await page.getByRole('radiogroup', { name: 'Verify with' }).getByText('Recovery code').click();
      const input = page.getByRole('textbox', { name: 'Recovery code' });
      expect(await input.getAttribute('autocomplete')).toBe('one-time-code');
      await input.fill(code);
      await page.getByRole('button', { name: 'Verify' }).click();
    };
    await page.goto('/signin');
    await useRecoveryCode();
    await page.waitForURL((u) => u.pathname === '/agent');
    const me = await meOf(page);
    expect(me.session.methods).toEqual(['pwd', 'recovery_code']);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((u) => u.pathname === '/signin');

    await useRecoveryCode();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('That did not work');
    expect(await alert.textContent()).toContain('That code was not accepted');
    expect(new URL(page.url()).pathname).toBe('/signin');
    expect(await page.evaluate(() => fetch('/v1/me').then((r) => r.status))).toBe(401);
    await context.close();
  });

  it('says the same thing for a wrong password and an unknown email', async () => {
    const { context, page } = await newPage(browser, srv.url);
    await page.goto('/signin');
    const attempt = async (email: string) => {
      await identify(page, 'acme', email);
      await enterPassword(page, 'definitely not the password');
      const alert = page.getByRole('alert');
      await alert.waitFor();
      const text = (await alert.textContent()) ?? '';
      await page.getByRole('button', { name: 'Use a different account' }).click();
      return text;
    };
    const wrongPassword = await attempt('wes@acme.test');
    const unknownEmail = await attempt('nobody@acme.test');
    expect(wrongPassword).toContain('That did not work');
    expect(unknownEmail).toBe(wrongPassword);
    expect(wrongPassword).not.toMatch(/exist|unknown|no account|not found/i);
    // an unknown organization is named as such (it is not an account)
    await identify(page, 'no-such-org', 'wes@acme.test');
    expect(await page.getByRole('alert').textContent()).toContain('Organization not found');
    await context.close();
  });

  it('shows why the user is back when the session ended, and never follows ?next= off the site', async () => {
    const { context, page } = await newPage(browser, srv.url);
    await page.goto('/signin?ended=1&next=%2F%2Fevil.example%2Fphish');
    expect(await page.getByRole('status').textContent()).toContain('Your session ended. Sign in again.');
    await identify(page, 'acme', 'wes@acme.test');
    await enterPassword(page, STRONG);
    await page.waitForURL((u) => u.pathname === '/agent');
    expect(new URL(page.url()).origin).toBe(srv.url);
    await context.close();
  });

  it('offers to start again when the sign-in expired', async () => {
    const { context, page } = await newPage(browser, srv.url);
    await page.goto('/signin');
    await identify(page, 'acme', 'wes@acme.test');
    await page.getByLabel('Password', { exact: true }).waitFor();
    srv.clock.advance(11 * 60_000); // flows live 10 minutes
    await enterPassword(page, STRONG);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('This sign-in has expired');
    await page.getByRole('button', { name: 'Start again' }).click();
    await enterPassword(page, STRONG);
    await page.waitForURL((u) => u.pathname === '/agent');
    await context.close();
  });

  it('accepts an invitation: shows who it is for, explains a refused password, then continues to sign-in', async () => {
    const invited = await api(srv.app).post('/v1/tenants/acme/users', { token: acme.operatorToken, body: { email: 'sue@acme.test', roles: ['agent'] } });
    expect(invited.statusCode).toBe(201);
    const token = await invitationToken(srv.s, 'sue@acme.test');
    const { context, page } = await newPage(browser, srv.url);
    await page.goto(`/setup#token=${token}`);
    await page.getByRole('heading', { name: 'Set up your account' }).waitFor();
    expect(await page.getByLabel('Email', { exact: true }).inputValue()).toBe('sue@acme.test');
    expect(await page.getByText('Organization: acme').isVisible()).toBe(true);
    const submit = page.getByRole('button', { name: 'Set password and continue' });
    await page.getByLabel('Choose a password').fill('sue@acme.test is my password');
    await page.getByLabel('Confirm new password').fill('sue@acme.test is my passwort');
    expect(await page.getByText('The two passwords do not match.').isVisible()).toBe(true);
    expect(await submit.isDisabled()).toBe(true);
    await page.getByLabel('Confirm new password').fill('sue@acme.test is my password');
    await submit.click();
    const refused = page.getByRole('alert');
    await refused.waitFor();
    expect(await refused.textContent()).toContain('Choose a different password');
    expect(await refused.textContent()).not.toMatch(/[{}]|weak_password/);
    await page.getByLabel('Choose a password').fill('quiet harbor lanterns 1987');
    await page.getByLabel('Confirm new password').fill('quiet harbor lanterns 1987');
    await submit.click();
    await page.waitForURL((u) => u.pathname === '/signin');
    expect(await page.getByRole('status').textContent()).toContain('Your password is set');
    expect(await page.getByLabel('Organization', { exact: true }).inputValue()).toBe('acme');
    expect(await page.getByLabel('Email', { exact: true }).inputValue()).toBe('sue@acme.test');
    await page.getByRole('button', { name: 'Continue' }).click();
    await enterPassword(page, 'quiet harbor lanterns 1987');
    await page.waitForURL((u) => u.pathname === '/agent');
    // the link worked once
    await page.goto(`/setup#token=${token}`);
    await page.getByRole('heading', { name: 'This setup link cannot be used' }).waitFor();
    await context.close();
  });

  it('pauses repeated failures with the same words for a known and an unknown account', async () => {
    const initech = await seed(srv, { tenant: 'initech', users: [{ email: 'kim@initech.test', roles: ['agent'] }] });
    const a = api(srv.app);
    const cur = json(await a.get('/v1/tenants/initech/policy', { token: initech.operatorToken }));
    const saved = await a.put('/v1/tenants/initech/policy', { token: initech.operatorToken, body: { version: cur.version, policy: { lockout: { backoffAfter: 2, backoffBaseSeconds: 600, backoffMaxSeconds: 600 } } } });
    expect(saved.statusCode).toBe(200);
    const { context, page } = await newPage(browser, srv.url);
    await page.goto('/signin');
    const lockOut = async (email: string) => {
      await identify(page, 'initech', email);
      for (let i = 0; i < 2; i++) {
        await enterPassword(page, `wrong password number ${i}`);
        await page.getByText('Check your email address and password').waitFor();
      }
      await page.getByLabel('Password', { exact: true }).fill(STRONG); // even the right password waits
      await page.getByRole('button', { name: 'Sign in' }).click();
      const alert = page.getByRole('alert');
      await alert.filter({ hasText: 'Please wait a moment' }).waitFor();
      expect(await page.getByRole('button', { name: 'Sign in' }).isDisabled()).toBe(true);
      const text = (await alert.textContent()) ?? '';
      await page.getByRole('button', { name: 'Use a different account' }).click();
      return text;
    };
    const known = await lockOut('kim@initech.test');
    const unknown = await lockOut('ghost@initech.test');
    expect(known).toMatch(/Try again in 10 minutes\./);
    expect(unknown).toBe(known);
    expect(known).not.toMatch(/account|exist|kim/i);
    await context.close();
  });
});
