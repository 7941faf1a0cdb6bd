/**
 * Takes the README's screenshots of every main console screen, with realistic demo data, in Debian's
 * chromium at the 1280x720 agent-screen size: `npm run screenshots` (needs a built console:
 * `npm run build`). Writes docs/screenshots/*.png.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { sealAll } from '../src/audit/seal.js';
import { launchBrowser, newPage } from '../test/web/harness.js';
import { Client } from './demo/client.js';
import { DEMO_PASSWORD, seedDemo } from './demo/seed.js';
import { DEMO_OPERATOR, demoServer } from './demo/server.js';

const out = fileURLToPath(new URL('../docs/screenshots/', import.meta.url));
mkdirSync(out, { recursive: true });

const srv = await demoServer();
const demo = await seedDemo(srv.url, DEMO_OPERATOR);
const staff = (name: string) => demo.staff.find((u) => u.name === name)!;
const maya = staff('Maya Okafor');
const daniel = staff('Daniel Reyes');
const tom = staff('Tom Becker');
const anon = new Client(srv.url);
const as = (u: { token?: string }) => anon.as(u.token!);
const dana = demo.customers[0]!;

// a little history: a failed sign-in, a pending factor-reset request, a few verifications
await anon.post('/v1/auth/flows', { tenant: 'northwind', identifier: tom.email }).then((f) =>
  anon.post(`/v1/auth/flows/${f.flow.id}/password`, { password: 'summer2026!' }, { 'x-flow-token': f.flowToken }).catch(() => undefined),
);
const lucia = (await as(maya).get('/v1/tenants/northwind/users')).users.find((u: { email: string }) => u.email.startsWith('lucia'));
await as(maya).post(`/v1/tenants/northwind/users/${lucia.id}/reset-factors`, { reason: 'Lost phone, confirmed by her team lead on a video call (ticket SD-4821)' });
for (const c of demo.customers.slice(1, 4)) {
  await as(tom).post('/v1/tenants/northwind/verifications', { customerId: c.id, interactionId: `call-20261121-09${10 + demo.customers.indexOf(c)}00` });
}

const browser = await launchBrowser();
async function signedIn(u: { token?: string }): Promise<{ context: BrowserContext; page: Page }> {
  const p = await newPage(browser, srv.url);
  await p.context.addCookies([{ name: 'cw_session', value: u.token!, url: srv.url, httpOnly: true, sameSite: 'Strict' }]);
  return p;
}
async function shot(page: Page, name: string) {
  await page.waitForTimeout(400); // let transitions settle
  await page.screenshot({ path: `${out}${name}.png` });
  console.log(`docs/screenshots/${name}.png`);
}
const heading = (page: Page, name: string | RegExp) => page.getByRole('heading', { name }).first().waitFor();

const sections: Record<string, () => Promise<void>> = {};

// 1. sign-in: the second-factor step
sections.signin = async () => {
  const { context, page } = await newPage(browser, srv.url);
  await page.goto('/signin');
  await page.getByLabel('Organization').fill('northwind');
  await page.getByLabel('Email').fill(tom.email);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('textbox', { name: 'Password' }).fill(DEMO_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('Authenticator code').waitFor();
  await shot(page, 'signin-second-factor');
  await context.close();
};

// 2. self-service security
sections.security = async () => {
  const { context, page } = await signedIn(tom);
  await page.goto('/security');
  await heading(page, 'Sign-in & security');
  await page.getByRole('tab', { name: 'Sign-in methods' }).waitFor();
  await page.getByText(/Authenticator app/).first().waitFor();
  await shot(page, 'security');
  await context.close();
};

// 3-5. agent desktop: search, a verification in progress, verified
sections.agent = async () => {
  const { context, page } = await signedIn(tom);
  await page.goto('/agent');
  await page.getByLabel('Customer key').fill('dana.whitfield@example.com');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('table', { name: 'Matching customers' }).getByText(dana.name).waitFor();
  await page.getByLabel('Interaction / call id').fill('call-20261121-094512');
  await page.getByLabel("Caller's number (ANI)").fill('+1 (628) 555-0199');
  await page.locator('label', { hasText: /^High$/ }).click();
  await shot(page, 'agent-search');
  await page.getByRole('button', { name: 'Start verification' }).click();
  await page.getByRole('heading', { name: dana.name }).waitFor();
  const email = page.getByRole('radio', { name: /@example\.com/ }).first();
  await email.check();
  await page.getByRole('button', { name: 'Send code' }).click();
  await page.getByRole('button', { name: /^Resend in/ }).waitFor();
  await shot(page, 'agent-verification');
  const [msg] = await srv.s.store.outbox.list({ recipient: 'dana.whitfield@example.com', limit: 1 });
  const code = /code is (\d{6})/.exec(msg?.body ?? '')?.[1];
  if (!code) throw new Error('no code in the outbox');
  await page.getByLabel('Code the caller reads out').fill(code);
  await page.getByRole('button', { name: 'Check code' }).click();
  // the high level still needs something they know: the PIN
  const pin = page.getByRole('textbox', { name: 'PIN', exact: true });
  await pin.waitFor();
  await pin.fill('480613');
  await page.getByRole('button', { name: 'Check PIN' }).click();
  await page.getByRole('heading', { name: 'Caller verified' }).waitFor();
  await shot(page, 'agent-verified');
  await context.close();
};

// 6-11. administration
sections.admin = async () => {
  await as(maya).get('/v1/tenants/northwind/audit');
  await sealAll(srv.s);
  const { context, page } = await signedIn(daniel);
  await page.goto('/admin/users');
  await heading(page, 'Users');
  await page.getByText(tom.email).waitFor();
  await shot(page, 'admin-users');
  await page.goto('/admin/approvals');
  await page.getByText(/Lost phone/).first().waitFor();
  await shot(page, 'admin-approvals');
  await page.goto('/admin/roles');
  await heading(page, 'Roles & permissions');
  await shot(page, 'admin-roles');
  await page.goto('/admin/policy');
  await heading(page, 'MFA policy');
  await page.waitForTimeout(500);
  await shot(page, 'admin-policy');
  await page.goto('/admin/audit');
  await heading(page, 'Audit log');
  await page.getByText(/Chain verified/).first().waitFor();
  await shot(page, 'admin-audit');
  await context.close();
};
sections.tenants = async () => {
  const op = await anon.post('/v1/auth/flows', { tenant: 'platform', identifier: DEMO_OPERATOR.email });
  const pw = await anon.post(`/v1/auth/flows/${op.flow.id}/password`, { password: DEMO_OPERATOR.password }, { 'x-flow-token': op.flowToken });
  const { context, page } = await signedIn({ token: pw.session.token });
  await page.goto('/admin/tenants');
  await heading(page, 'Tenants');
  await page.getByText('Northwind Contact Center').first().waitFor();
  await shot(page, 'admin-tenants');
  await context.close();
};
const wanted = process.argv.slice(2);
try {
  for (const [name, run] of Object.entries(sections)) if (!wanted.length || wanted.includes(name)) await run();
} finally {
  await browser.close();
  await srv.close();
}
