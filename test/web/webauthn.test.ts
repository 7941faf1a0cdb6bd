/**
 * Security keys and passkeys in a real browser, with Chrome DevTools virtual authenticators (the
 * browser's own WebAuthn code, a software key behind it): an administrator allows them in the policy
 * editor; a USB key without user verification is added and renamed on the security page, then used
 * as the second step after the password (pwd + webauthn); a USB key with a PIN gives pwd + webauthn_uv;
 * a platform passkey (resident key, user verification) signs in without a password from the "Sign in
 * with a passkey" button (webauthn_uv alone) and from the email field's autofill (conditional UI),
 * and is refused in words once the policy turns passwordless off, when the password still works. The server's public URL is http://localhost:<port>: the RP ID is localhost and
 * ceremonies from any other origin are refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { api, json, seed, STRONG } from '../helpers/app.js';
import { browserAvailable, launchBrowser, newPage, startLocalhostServer, type ConsoleServer } from './harness.js';

const ADMIN = 'admin@acme.test';

interface MeBody { email: string; session: { aal: number; methods: string[] } }
interface FactorBody { id: string; kind: string; label: string; lastUsedAt: string | null; key?: { deviceType: string; userVerified: boolean } }

/** GET from inside the page (with its session cookie). */
const getJson = <T,>(page: Page, path: string) => page.evaluate((p) => fetch(p).then((r) => r.json()), path) as Promise<T>;
const keysOf = async (page: Page) => (await getJson<{ factors: FactorBody[] }>(page, '/v1/me/factors')).factors.filter((f) => f.kind === 'webauthn');

/** A virtual authenticator attached to this page (CTAP2; it answers every prompt by itself). */
async function virtualAuthenticator(page: Page, options: { transport: 'usb' | 'internal'; hasResidentKey: boolean; hasUserVerification: boolean; isUserVerified: boolean }) {
  const cdp: CDPSession = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: { protocol: 'ctap2', automaticPresenceSimulation: true, ...options } });
  const credentials = async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
  return {
    credentials,
    /** The same credential (private key, user, counter) on this authenticator: the passkey synced to another browser. */
    add: async (credential: Awaited<ReturnType<typeof credentials>>[number]) => { await cdp.send('WebAuthn.addCredential', { authenticatorId, credential }); },
  };
}

async function identify(page: Page, email: string) {
  await page.getByLabel('Organization', { exact: true }).fill('acme');
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByRole('button', { name: 'Continue' }).click();
}

async function passwordSignIn(page: Page, email: string) {
  await page.goto('/signin?next=%2Fsecurity');
  await identify(page, email);
  await page.getByLabel('Password', { exact: true }).fill(STRONG);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

async function signOut(page: Page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL((u) => u.pathname === '/signin');
}

/** On the security page: adds a key of this kind with this name (empty: the default); saves the first recovery codes. */
async function addKey(page: Page, kind: 'security key' | 'passkey', name: string) {
  await page.getByRole('button', { name: kind === 'passkey' ? 'Add passkey' : 'Add security key' }).click();
  const dialog = page.getByRole('dialog', { name: kind === 'passkey' ? 'Add a passkey' : 'Add a security key' });
  await dialog.waitFor();
  if (name) await dialog.getByLabel('Name', { exact: true }).fill(name);
  await dialog.getByRole('button', { name: 'Continue' }).click();
  const codes = page.getByRole('dialog', { name: 'Save your recovery codes' });
  await codes.waitFor();
  expect(await codes.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem').count()).toBe(10);
  await codes.getByLabel('I have saved these codes somewhere safe').check();
  await codes.getByRole('button', { name: 'Done' }).click();
  await codes.waitFor({ state: 'detached' });
}

/** How far the page scrolls sideways at 360 px wide (the viewport is restored afterwards). */
async function overflowAt360(page: Page): Promise<number> {
  const before = page.viewportSize();
  await page.setViewportSize({ width: 360, height: 720 });
  await page.waitForTimeout(300);
  const over = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  if (before) await page.setViewportSize(before);
  return over;
}

const keyRow = (page: Page, name: string) => page.getByRole('list', { name: 'Security keys and passkeys' }).getByRole('listitem').filter({ has: page.getByTestId('key-name').getByText(name, { exact: true }) });

describe.skipIf(!browserAvailable())('security keys and passkeys', () => {
  let srv: ConsoleServer;
  let browser: Browser;
  let seeded: Awaited<ReturnType<typeof seed>>;
  const contexts: BrowserContext[] = [];
  const errors: string[] = [];

  /** A signed-out page; `autofill: false` plays a browser without passkey autofill (conditional mediation). */
  const open = async (o: { autofill?: boolean } = {}) => {
    const { context, page } = await newPage(browser, srv.url);
    contexts.push(context);
    page.on('pageerror', (e) => errors.push(e.message));
    if (o.autofill === false) await page.addInitScript(() => { PublicKeyCredential.isConditionalMediationAvailable = async () => false; });
    return page;
  };

  /** The tenant policy changed through the API, as the administrator. */
  const setPolicy = async (change: (p: Record<string, any>) => void) => {
    const a = api(srv.app);
    const token = seeded.users[ADMIN]!.token!;
    const cur = json(await a.get('/v1/tenants/acme/policy', { token }));
    change(cur.policy);
    const put = await a.put('/v1/tenants/acme/policy', { token, body: { version: cur.version, policy: cur.policy } });
    expect(put.statusCode, put.body).toBe(200);
  };

  beforeAll(async () => {
    srv = await startLocalhostServer();
    seeded = await seed(srv, { users: [ADMIN, 'kim@acme.test', 'lee@acme.test', 'max@acme.test'].map((email) => ({ email, roles: [email === ADMIN ? 'tenant_admin' : 'agent'] })) });
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await srv?.close();
  });

  it('an administrator allows security keys and passkeys in the policy editor', async () => {
    const page = await open();
    await passwordSignIn(page, ADMIN);
    await page.waitForURL((u) => u.pathname === '/security');
    await page.goto('/admin/policy');
    await page.getByRole('heading', { name: 'MFA policy' }).waitFor();
    await page.getByRole('heading', { name: 'Security keys and passkeys' }).waitFor();
    expect(await page.getByText('Not allowed now', { exact: false }).isVisible()).toBe(true);
    expect(await overflowAt360(page)).toBeLessThanOrEqual(0);
    await page.getByRole('checkbox', { name: 'Security keys and passkeys' }).check();
    const passwordless = page.getByRole('switch', { name: 'Passwordless sign-in with a passkey' });
    expect(await passwordless.isChecked()).toBe(true);
    const uv = page.getByRole('combobox', { name: 'User verification for security keys' });
    expect(await uv.inputValue()).toBe('Preferred');
    await uv.click();
    await page.getByRole('option', { name: 'Required' }).click();
    await uv.click();
    await page.getByRole('option', { name: 'Preferred' }).click();
    await page.getByRole('button', { name: 'Review and save' }).click();
    const review = page.getByRole('dialog', { name: /Review the policy change/ });
    await review.getByTestId('policy-impact').waitFor();
    expect(await review.textContent()).toContain('Security keys and passkeys');
    await review.getByRole('button', { name: 'Save policy' }).click();
    await review.waitFor({ state: 'detached' });
    const saved = json(await api(srv.app).get('/v1/tenants/acme/policy', { token: seeded.users[ADMIN]!.token! }));
    expect(saved.policy.mfa.allowedFactors).toEqual(expect.arrayContaining(['totp', 'webauthn', 'recovery_code']));
    expect(saved.policy.webauthn).toMatchObject({ passwordless: true, userVerification: 'preferred' });
  });

  it('a USB key without user verification: added and renamed on the security page, then the second step after the password', async () => {
    const page = await open();
    const key = await virtualAuthenticator(page, { transport: 'usb', hasResidentKey: false, hasUserVerification: false, isUserVerified: false });
    await passwordSignIn(page, 'kim@acme.test');
    await page.waitForURL((u) => u.pathname === '/security');
    expect((await getJson<MeBody>(page, '/v1/me')).session.methods).toEqual(['pwd']);
    await page.getByText('No security keys or passkeys yet.').waitFor();

    await addKey(page, 'security key', 'Desk key');
    const row = keyRow(page, 'Desk key');
    await row.waitFor();
    expect(await row.textContent()).toContain('Device-bound key');
    expect(await row.textContent()).toContain('Touch only');
    expect(await row.textContent()).toContain('Last used never');
    expect(await key.credentials()).toHaveLength(1);
    expect((await key.credentials())[0]!.isResidentCredential).toBe(false);
    await page.getByText('Two-step verification is on', { exact: false }).waitFor();

    // rename: the list shows the new name, and so does the API
    await page.getByRole('button', { name: 'Rename Desk key' }).click();
    const rename = page.getByRole('dialog', { name: 'Rename key' });
    await rename.getByLabel('Name', { exact: true }).fill('Blue YubiKey');
    await rename.getByRole('button', { name: 'Save' }).click();
    await keyRow(page, 'Blue YubiKey').waitFor();
    expect(await keyRow(page, 'Desk key').count()).toBe(0);
    expect((await keysOf(page)).map((k) => k.label)).toEqual(['Blue YubiKey']);
    expect(await overflowAt360(page)).toBeLessThanOrEqual(0); // the list fits a phone-sized screen

    // next sign-in: the password, then the key (offered first), which the browser asks
    await signOut(page);
    expect(await overflowAt360(page)).toBeLessThanOrEqual(0);
    await identify(page, 'kim@acme.test'); // a waiting passkey autofill request is cancelled on the way
    await page.getByLabel('Password', { exact: true }).fill(STRONG);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
    const methods = page.getByRole('radiogroup', { name: 'Verify with' });
    expect(await methods.getByText('Security key').isVisible()).toBe(true);
    expect(await methods.getByText('Recovery code').isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Use security key' }).click();
    await page.waitForURL((u) => u.pathname === '/agent');
    const session = (await getJson<MeBody>(page, '/v1/me')).session;
    expect(session.methods).toEqual(['pwd', 'webauthn']);
    expect(session.aal).toBeGreaterThanOrEqual(2);
    expect((await keysOf(page))[0]!.lastUsedAt).not.toBeNull();
    await page.goto('/security');
    await keyRow(page, 'Blue YubiKey').waitFor();
    expect(await keyRow(page, 'Blue YubiKey').textContent()).not.toContain('Last used never');
    expect(errors).toEqual([]);
  });

  it('a USB key with a PIN: the second step counts as user verified', async () => {
    const page = await open();
    const key = await virtualAuthenticator(page, { transport: 'usb', hasResidentKey: false, hasUserVerification: true, isUserVerified: true });
    await passwordSignIn(page, 'lee@acme.test');
    await page.waitForURL((u) => u.pathname === '/security');
    await addKey(page, 'security key', '');
    const row = keyRow(page, 'Security key');
    await row.waitFor();
    expect(await row.textContent()).toContain('PIN or biometrics');
    expect(await key.credentials()).toHaveLength(1);

    await signOut(page);
    await identify(page, 'lee@acme.test');
    await page.getByLabel('Password', { exact: true }).fill(STRONG);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('button', { name: 'Use security key' }).click();
    await page.waitForURL((u) => u.pathname === '/agent');
    const session = (await getJson<MeBody>(page, '/v1/me')).session;
    expect(session.methods).toEqual(['pwd', 'webauthn_uv']);
    expect(session.aal).toBeGreaterThanOrEqual(2);
    expect(errors).toEqual([]);
  });

  it('a platform passkey signs in without a password from the button, and is refused in words when passwordless is off', async () => {
    // a browser without passkey autofill: only the button starts a passwordless sign-in
    const page = await open({ autofill: false });
    const key = await virtualAuthenticator(page, { transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true });
    await passwordSignIn(page, 'max@acme.test');
    await page.waitForURL((u) => u.pathname === '/security');
    await addKey(page, 'passkey', 'Work laptop');
    await keyRow(page, 'Work laptop').waitFor();
    const creds = await key.credentials();
    expect(creds).toHaveLength(1);
    expect(creds[0]!.isResidentCredential).toBe(true);

    await signOut(page);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.waitForURL((u) => u.pathname === '/agent');
    const me = await getJson<MeBody>(page, '/v1/me');
    expect(me.email).toBe('max@acme.test');
    expect(me.session.methods).toEqual(['webauthn_uv']);
    expect(me.session.aal).toBeGreaterThanOrEqual(2);

    // the same passkey on a browser with autofill: offered in the email field's suggestions (the
    // virtual authenticator picks it as a user would), it signs in without any button
    const other = await open();
    const copy = await virtualAuthenticator(other, { transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true });
    await copy.add((await key.credentials())[0]!);
    await other.goto('/signin?tenant=acme');
    expect(await other.getByLabel('Email', { exact: true }).getAttribute('autocomplete')).toBe('username webauthn');
    await other.waitForURL((u) => u.pathname === '/agent');
    const viaAutofill = await getJson<MeBody>(other, '/v1/me');
    expect(viaAutofill.email).toBe('max@acme.test');
    expect(viaAutofill.session.methods).toEqual(['webauthn_uv']);

    // the organization turns passwordless sign-in off: the passkey alone is refused, in words
    await setPolicy((p) => { p.webauthn.passwordless = false; });
    await signOut(page);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    const alert = page.getByRole('alert');
    await alert.getByText('Passkey sign-in is off').waitFor();
    expect(await alert.textContent()).toContain('Continue with your email and password');
    expect(new URL(page.url()).pathname).toBe('/signin');
    expect(await page.evaluate(() => fetch('/v1/me').then((r) => r.status))).toBe(401);
    // the password still works
    await identify(page, 'max@acme.test');
    await page.getByLabel('Password', { exact: true }).fill(STRONG);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
    await page.getByRole('button', { name: 'Use security key' }).click();
    await page.waitForURL((u) => u.pathname === '/agent');
    expect((await getJson<MeBody>(page, '/v1/me')).session.methods).toEqual(['pwd', 'webauthn_uv']);
    expect(errors).toEqual([]);
  });

  it('at another address than the configured origin the browser refuses the key, and the console says why', async () => {
    await setPolicy((p) => { p.webauthn.passwordless = true; });
    const page = await open();
    await virtualAuthenticator(page, { transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true });
    // the same server at 127.0.0.1: keys are bound to localhost, so the browser will not ask them here
    await page.goto(`${srv.url.replace('//localhost:', '//127.0.0.1:')}/signin?tenant=acme`);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    const alert = page.getByRole('alert');
    await alert.getByText('Not available at this address').waitFor();
    expect(await alert.textContent()).toContain('Open the console from its usual link');
    expect(errors).toEqual([]);
  });
});
