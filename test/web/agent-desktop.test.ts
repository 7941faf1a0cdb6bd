/**
 * The agent desktop in a real browser: an agent finds the caller, starts a verification, sends an
 * email code through a real SMTP sink (the outbox worker delivers it), types the code read there and
 * the PIN, and sees the verified badge with a signed assertion the server accepts; the code appears
 * in no page HTML and no API response the page received. The IVR completes steps through its API
 * while the agent watches, and the page follows without a reload (from the live stream, or by reading
 * every 2 s when the stream cannot be opened). An administrator with
 * customers.reveal reveals the national id with a reason (audited, masked again after 30 s); an
 * agent without the permission has no Reveal button.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { api, json, STRONG } from '../helpers/app.js';
import { smtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { callerFixture } from '../helpers/callers.js';
import { browserAvailable, launchBrowser, newPage, startConsoleServer, type ConsoleServer } from './harness.js';

/** Signs in through the API from the page's context: the session cookie lands in the browser. */
async function signInAs(page: Page, email: string, tenant = 'acme') {
  const start = await page.request.post('/v1/auth/flows', { data: { tenant, identifier: email } });
  expect(start.status()).toBe(201);
  const flow = (await start.json()) as { flow: { id: string }; flowToken: string };
  const pw = await page.request.post(`/v1/auth/flows/${flow.flow.id}/password`, { data: { password: STRONG }, headers: { 'x-flow-token': flow.flowToken } });
  expect(pw.status(), await pw.text()).toBe(200);
  expect(((await pw.json()) as { flow: { state: string } }).flow.state).toBe('completed');
}

/** Every /v1 response body the page receives, read as it arrives. */
function recordApi(page: Page) {
  const seen: Array<Promise<{ url: string; body: string; unreadable?: string }>> = [];
  page.on('response', (r) => {
    const url = r.url();
    if (!new URL(url).pathname.startsWith('/v1/')) return;
    seen.push(r.text().then((body) => ({ url, body }), (e: Error) => ({ url, body: '', unreadable: e.message })));
  });
  return async () => Promise.all(seen);
}

/**
 * The data of every `verification` event the page's EventSource received. (The browser does not
 * hand a stream's body to the network recorder, so the events are recorded in the page.)
 */
async function recordStream(page: Page) {
  await page.addInitScript(`{
    const Native = window.EventSource;
    window.__streamed = [];
    window.EventSource = class extends Native {
      constructor(url, init) {
        super(url, init);
        this.addEventListener('verification', (e) => window.__streamed.push(e.data));
      }
    };
  }`);
  return async () => page.evaluate(() => (globalThis as unknown as { __streamed: string[] }).__streamed);
}

/** True when `text` holds `code` as a number of its own (not inside a longer run of digits). */
const holds = (text: string, code: string) => new RegExp(`(?<!\\d)${code}(?!\\d)`).test(text);

describe.skipIf(!browserAvailable())('agent desktop', () => {
  let srv: ConsoleServer;
  let browser: Browser;
  let smtp: SmtpSink | undefined;
  let f: Awaited<ReturnType<typeof callerFixture>>;
  let mails: string[] = [];

  /** The code in the first email to `to` that arrives after `after` mails. */
  const nextCode = (after: number, to = 'dana@example.com') =>
    vi.waitFor(
      () => {
        const mail = mails.slice(after).find((m) => new RegExp(`^To: ${to.replace(/\./g, '\\.')}`, 'm').test(m));
        const code = mail && /code is (\d{6})/.exec(mail)?.[1];
        if (!code) throw new Error(`no code mailed to ${to} yet`);
        return code;
      },
      { timeout: 15_000, interval: 100 },
    );

  beforeAll(async () => {
    smtp = await smtpSink();
    mails = smtp.mails;
    srv = await startConsoleServer({
      env: {
        CALLWARDEN_SMTP_URL: smtp.url,
        CALLWARDEN_MAIL_FROM: 'Acme <no-reply@acme.test>',
        CALLWARDEN_DELIVERY_INTERVAL_MS: '100',
      },
      delivery: true,
    });
    f = await callerFixture(srv);
    const patched = await api(srv.app).patch(`/v1/tenants/acme/customers/${f.customerId}`, {
      token: f.admin,
      body: { accountNumber: '77001234', nationalId: '123-45-6789', dateOfBirth: '1984-04-12' },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await srv?.close();
    await smtp?.close();
  });

  it('an agent verifies a caller with an emailed code and the PIN; the code never reaches the page', async () => {
    const { context, page } = await newPage(browser, srv.url);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const apiBodies = recordApi(page);
    const streamed = await recordStream(page);
    await signInAs(page, 'agent@acme.test');

    await page.goto('/agent');
    await page.getByLabel('Customer key').fill('dana@example.com');
    await page.getByRole('button', { name: 'Search' }).click();
    const results = page.getByRole('table', { name: 'Matching customers' });
    await results.getByText('Dana Whitfield').waitFor();
    const table = (await results.textContent()) ?? '';
    expect(table).toContain('d•••@example.com');
    expect(table).toContain('+1 •••-•••-0134');
    expect(table).not.toContain('dana@example.com');
    expect(table).not.toContain('555-0134');
    const fits = () => page.evaluate('document.documentElement.scrollWidth <= document.documentElement.clientWidth');
    expect(await fits()).toBe(true);
    // the only match is selected for the start form
    expect(await page.getByTestId('selected-customer').textContent()).toContain('Dana Whitfield');

    const interaction = page.getByLabel('Interaction / call id');
    expect(await interaction.inputValue()).toMatch(/^call-\d{8}-\d{6}$/);
    await interaction.fill('call-desk-1');
    await page.getByLabel("Caller's number (ANI)").fill('+1 (415) 555-0134');
    await page.locator('label', { hasText: /^High$/ }).click();
    await page.getByRole('button', { name: 'Start verification' }).click();
    await page.waitForURL(/\/agent\/verifications\/[0-9a-f-]{36}$/);

    await page.getByRole('heading', { name: 'Dana Whitfield' }).waitFor();
    await page.getByText('call-desk-1').first().waitFor();
    expect(await page.getByTestId('state-badge').textContent()).toBe('In progress');
    expect(await page.getByTestId('required-level').textContent()).toContain('High');
    expect(await page.getByTestId('attempts-left').textContent()).toBe('5');
    // risk: the caller number matches an on-file phone, no attestation was passed
    const risk = page.getByRole('region', { name: 'Risk' });
    await risk.getByText('Caller number matches an on-file phone.').waitFor();
    expect(await risk.textContent()).toContain('No STIR/SHAKEN attestation.');
    expect(await page.getByTestId('risk-score').textContent()).toContain('10');
    expect(await fits()).toBe(true);
    const factors = page.getByRole('region', { name: 'Factors' });
    expect(await factors.textContent()).toContain('Something they have (a code)missing');

    // send a code to the masked email, read it in the SMTP sink, type it
    await page.getByRole('radio', { name: 'd•••@example.com' }).check();
    const before = mails.length;
    await page.getByRole('button', { name: 'Send code' }).click();
    await page.getByRole('status').filter({ hasText: 'Code sent to d•••@example.com' }).waitFor();
    await page.getByRole('button', { name: /^Resend in \d:\d\d$/ }).waitFor();
    const code = await nextCode(before);
    await page.getByLabel('Code the caller reads out').fill(code);
    await page.getByRole('button', { name: 'Check code' }).click();
    await page.getByTestId('completed-methods').getByText('Email code').waitFor();
    expect(await page.getByTestId('step-progress').textContent()).toContain('Email code confirmed. Next: pin.');

    // the high level still needs something they know: the PIN tab is next
    const pin = page.getByRole('textbox', { name: 'PIN', exact: true });
    expect(await pin.getAttribute('type')).toBe('password');
    await pin.fill('480613');
    await page.getByRole('button', { name: 'Check PIN' }).click();

    await page.getByRole('heading', { name: 'Caller verified' }).waitFor();
    expect(await page.getByTestId('state-badge').textContent()).toBe('Verified');
    const badge = page.getByRole('region', { name: 'Caller verified' });
    const details = (await badge.textContent()) ?? '';
    expect(details).toContain('Email code');
    expect(details).toContain('PIN');
    expect(details).toContain('call-desk-1');
    expect(details).toMatch(/Signing key id\S+/);
    expect(details).toMatch(/valid for \d:\d\d/);
    await badge.getByRole('button', { name: 'Copy assertion' }).waitFor();
    await badge.getByRole('button', { name: 'Show token' }).click();
    const jws = ((await page.getByTestId('assertion-jws').textContent()) ?? '').trim();
    const checked = json(await api(srv.app).post('/v1/assertions/check', { token: f.agent, body: { assertion: jws } }));
    expect(checked).toMatchObject({ valid: true, claims: { interaction_id: 'call-desk-1', amr: ['otp_email', 'pin'], level: 'high', sub: f.customerId } });

    // the code is in no HTML and no API response the page received (including the live stream)
    expect(holds(await page.content(), code)).toBe(false);
    const events = await streamed();
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) expect(holds(e, code)).toBe(false);
    await context.close();
    const bodies = await apiBodies();
    expect(bodies.some((b) => b.url.includes('/codes/check'))).toBe(true);
    for (const b of bodies) {
      // the live stream's body is not kept by the browser; its events were checked above
      if (b.unreadable) expect(b.url, b.unreadable).toMatch(/\/events$/);
      expect(holds(b.body, code), b.url).toBe(false);
    }
    expect(errors).toEqual([]);
  });

  it('the IVR completes the PIN and an emailed code while the agent watches; the page follows live', async () => {
    const { context, page } = await newPage(browser, srv.url);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const streamed = await recordStream(page);
    await signInAs(page, 'agent@acme.test');
    await page.goto('/agent');
    await page.getByLabel('Search by').selectOption('externalId');
    await page.getByLabel('Customer key').fill('CRM-7');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('table', { name: 'Matching customers' }).getByText('Dana Whitfield').waitFor();
    await page.getByLabel('Interaction / call id').fill('call-ivr-live');
    await page.getByRole('button', { name: 'Start verification' }).click();
    await page.waitForURL(/\/agent\/verifications\/[0-9a-f-]{36}$/);
    const vid = page.url().split('/').at(-1)!;
    await page.getByTestId('live-mode').filter({ hasText: 'Live' }).waitFor();
    await page.evaluate(() => void ((globalThis as unknown as { sameDocument: boolean }).sameDocument = true));

    const key = json(await api(srv.app).post('/v1/tenants/acme/api-keys', { token: f.admin, body: { name: 'IVR', scopes: ['ivr'] } })).key as string;
    const ivr = async (digits: string) => {
      const r = await fetch(`${srv.url}/v1/ivr/verifications/${vid}/digits`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ digits }) });
      expect(r.status).toBe(200);
      return (await r.json()) as { accepted: boolean; step: string; options?: Array<{ digit: string; label: string }>; result?: string; completedMethods: string[] };
    };

    const pin = await ivr('480613#');
    expect(pin).toMatchObject({ accepted: true, completedMethods: ['pin'], step: 'choice' });
    await page.getByTestId('completed-methods').getByText('PIN').waitFor();
    expect(await page.getByTestId('step-progress').textContent()).toContain('PIN confirmed.');
    expect(await page.getByTestId('state-badge').textContent()).toBe('In progress');

    const email = pin.options!.find((o) => /email/.test(o.label))!;
    const before = mails.length;
    expect(await ivr(email.digit)).toMatchObject({ accepted: true, step: 'code' });
    const code = await nextCode(before);
    expect(await ivr(`${code}#`)).toMatchObject({ accepted: true, result: 'verified' });

    await page.getByRole('heading', { name: 'Caller verified' }).waitFor();
    const badge = (await page.getByRole('region', { name: 'Caller verified' }).textContent()) ?? '';
    expect(badge).toContain('PIN');
    expect(badge).toContain('Email code');
    expect(badge).toContain('call-ivr-live');
    expect(badge).toContain('this screen did not receive it');
    expect(await page.getByRole('button', { name: 'Copy assertion' }).count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
    expect(holds(await page.content(), code)).toBe(false);
    // the page learned each step from the live stream (the agent's own requests changed nothing)
    // (an event may also carry an attempt claimed mid-step; consecutive equal steps count once)
    const steps = (await streamed()).map((e) => JSON.parse(e) as { state: string; completedMethods: string[] }).map((v) => `${v.state}:${v.completedMethods.join('+')}`);
    expect(steps.filter((x, i) => x !== steps[i - 1])).toEqual(['pending:', 'pending:pin', 'verified:pin+otp_email']);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('when the live stream cannot be opened, the page reads the verification every 2 s instead', async () => {
    const started = await api(srv.app).post('/v1/tenants/acme/verifications', { token: f.agent, body: { customerId: f.customerId, interactionId: 'call-no-stream' } });
    expect(started.statusCode, started.body).toBe(201);
    const vid = json(started).id as string;
    const { context, page } = await newPage(browser, srv.url);
    await page.route('**/events', (r) => r.abort());
    await signInAs(page, 'agent@acme.test');
    await page.goto(`/agent/verifications/${vid}`);
    await page.getByTestId('live-mode').filter({ hasText: 'Auto-refresh' }).waitFor();
    const key = json(await api(srv.app).post('/v1/tenants/acme/api-keys', { token: f.admin, body: { name: 'IVR 2', scopes: ['ivr'] } })).key as string;
    const r = await fetch(`${srv.url}/v1/ivr/verifications/${vid}/digits`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ digits: '480613#' }) });
    expect(((await r.json()) as { completedMethods: string[] }).completedMethods).toEqual(['pin']);
    await page.getByTestId('completed-methods').getByText('PIN').waitFor();
    await context.close();
  });

  it('an administrator reveals the national id with a reason (audited, masked again); an agent has no Reveal', async () => {
    const started = await api(srv.app).post('/v1/tenants/acme/verifications', { token: f.admin, body: { customerId: f.customerId, interactionId: 'call-reveal' } });
    expect(started.statusCode, started.body).toBe(201);
    const vid = json(started).id as string;

    const admin = await newPage(browser, srv.url);
    await admin.context.clock.install();
    await signInAs(admin.page, 'admin@acme.test');
    await admin.page.goto(`/agent/verifications/${vid}`);
    const card = admin.page.getByRole('region', { name: 'Customer' });
    await card.getByText('***-**-6789').waitFor();
    expect(await card.textContent()).toContain('1984-**-**');
    await card.getByRole('button', { name: 'Reveal national ID' }).click();
    const dialog = admin.page.getByRole('dialog', { name: 'Reveal national ID' });
    await dialog.getByText('This reveal is audited').waitFor();
    await dialog.getByRole('button', { name: 'Reveal' }).click();
    await dialog.getByText('State a reason for the audit log.').waitFor();
    await dialog.getByLabel('Reason').fill('Caller disputes the ID on file');
    await dialog.getByRole('button', { name: 'Reveal' }).click();
    const shown = card.getByTestId('revealed-nationalId');
    await shown.waitFor();
    expect(await shown.textContent()).toBe('123456789');
    expect(await card.textContent()).toMatch(/hidden in \d+ s/);

    const events = await srv.s.store.db.selectFrom('audit_events').selectAll().where('type', '=', 'customer.field_revealed').execute();
    expect(events).toHaveLength(1);
    expect(JSON.stringify(events[0])).toContain('Caller disputes the ID on file');
    expect(JSON.stringify(events)).not.toContain('123456789');

    await admin.page.clock.fastForward(31_000);
    await shown.waitFor({ state: 'detached' });
    await card.getByText('***-**-6789').waitFor();
    expect(holds(await admin.page.content(), '123456789')).toBe(false);
    await admin.context.close();

    const agent = await newPage(browser, srv.url);
    await signInAs(agent.page, 'agent@acme.test');
    await agent.page.goto(`/agent/verifications/${vid}`);
    const agentCard = agent.page.getByRole('region', { name: 'Customer' });
    await agentCard.getByText('***-**-6789').waitFor();
    expect(await agentCard.getByRole('button', { name: /Reveal/ }).count()).toBe(0);
    expect(await agent.page.getByRole('button', { name: /Reveal/ }).count()).toBe(0);
    await agent.context.close();
  });
});
