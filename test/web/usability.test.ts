/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Usability checks on every main screen, as an agent or administrator would meet them at 1280x720:
 * no horizontal scrolling, every form control has an accessible name, the keyboard reaches the
 * navigation and the main content with a visible focus indicator, and the page raises no errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { api, json, STRONG } from '../helpers/app.js';
import { callerFixture } from '../helpers/callers.js';
import { browserAvailable, launchBrowser, newPage, startConsoleServer, type ConsoleServer } from './harness.js';
import { signInViaApi } from './session-helpers.js';

/** Controls the user can operate that have no accessible name (label, aria-label, aria-labelledby or title). */
const unlabelled = (page: Page) =>
  page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('input:not([type=hidden]), select, textarea, button, [role=button], [role=combobox], [role=radio], [role=checkbox], [role=tab]')]
      .filter((el) => el.offsetParent !== null && !el.closest('[aria-hidden=true]'))
      .filter((el) => {
        const labelled = (el as HTMLInputElement).labels?.length || el.getAttribute('aria-label') || el.getAttribute('title');
        const by = el.getAttribute('aria-labelledby')?.split(/\s+/).some((id) => document.getElementById(id)?.textContent?.trim());
        return !labelled && !by && !el.textContent?.trim();
      })
      .map((el) => el.outerHTML.slice(0, 160)),
  );

const overflowX = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

/** The focused element's look: outline, ring, border and background (after transitions settle). */
const focusLook = async (page: Page) => {
  await page.waitForTimeout(250);
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return null;
    const st = getComputedStyle(el);
    return [st.outlineStyle === 'none' ? 'none' : `${st.outlineStyle} ${st.outlineWidth} ${st.outlineColor}`, st.boxShadow, st.borderColor, st.backgroundColor].join('|');
  });
};

/**
 * Presses Tab until focus is inside `selector` (at most `max` times); visible focus means the element
 * looks different focused than unfocused (outline, ring, border or background).
 */
async function tabInto(page: Page, selector: string, max = 40): Promise<{ reached: boolean; visibleFocus: boolean; el?: string }> {
  // transitions off, so the focused and unfocused looks are read after they settle, however slow the machine
  await page.addStyleTag({ content: '*, *::before, *::after { transition: none !important; animation: none !important; }' });
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const inside = await page.evaluate((sel) => !!(document.activeElement as HTMLElement | null)?.closest(sel), selector);
    if (!inside) continue;
    const focused = await focusLook(page);
    const el = await page.evaluate(() => {
      const a = document.activeElement as HTMLElement;
      a.setAttribute('data-usability-probe', '1');
      a.blur();
      return a.outerHTML.slice(0, 160);
    });
    await page.waitForTimeout(250);
    const unfocused = await page.evaluate(() => {
      const a = document.querySelector<HTMLElement>('[data-usability-probe]')!;
      a.removeAttribute('data-usability-probe');
      const st = getComputedStyle(a);
      return [st.outlineStyle === 'none' ? 'none' : `${st.outlineStyle} ${st.outlineWidth} ${st.outlineColor}`, st.boxShadow, st.borderColor, st.backgroundColor].join('|');
    });
    return { reached: true, visibleFocus: focused !== null && focused !== unfocused, el };
  }
  return { reached: false, visibleFocus: false };
}

describe.skipIf(!browserAvailable())('usability of the main screens at 1280x720', () => {
  let srv: ConsoleServer;
  let browser: Browser;
  let verificationId: string;
  beforeAll(async () => {
    srv = await startConsoleServer();
    const f = await callerFixture(srv);
    const started = await api(srv.app).post('/v1/tenants/acme/verifications', { token: f.agent, body: { customerId: f.customerId, interactionId: 'call-usability-1' } });
    expect(started.statusCode, started.body).toBe(201);
    verificationId = json(started).id as string;
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await srv?.close();
  });

  const screens = (): Array<{ who: string; path: string; heading: string | RegExp }> => [
    { who: 'agent@acme.test', path: '/agent', heading: 'Caller verification' },
    { who: 'agent@acme.test', path: `/agent/verifications/${verificationId}`, heading: 'Dana Whitfield' },
    { who: 'agent@acme.test', path: '/security', heading: 'Sign-in & security' },
    { who: 'admin@acme.test', path: '/admin/users', heading: 'Users' },
    { who: 'admin@acme.test', path: '/admin/approvals', heading: 'Approvals' },
    { who: 'admin@acme.test', path: '/admin/roles', heading: 'Roles & permissions' },
    { who: 'admin@acme.test', path: '/admin/policy', heading: 'MFA policy' },
    { who: 'admin@acme.test', path: '/admin/audit', heading: 'Audit log' },
  ];

  it('the sign-in screen: labelled, no overflow, the keyboard reaches the form', async () => {
    const { context, page } = await newPage(browser, srv.url);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto('/signin');
    await page.locator('input').first().waitFor();
    expect(await unlabelled(page)).toEqual([]);
    expect(await overflowX(page)).toBeLessThanOrEqual(0);
    const t = await tabInto(page, 'form');
    expect(t.reached).toBe(true);
    expect(t.visibleFocus).toBe(true);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('every signed-in screen: labelled controls, no horizontal scrolling, keyboard reaches nav and content with visible focus', async () => {
    const problems: string[] = [];
    for (const who of ['agent@acme.test', 'admin@acme.test']) {
      const { context, page } = await newPage(browser, srv.url);
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await signInViaApi(context, 'acme', who, STRONG);
      for (const sc of screens().filter((x) => x.who === who)) {
        await page.goto(sc.path);
        await page.getByRole('heading', { name: sc.heading }).first().waitFor();
        await page.waitForLoadState('load');
        await page.waitForTimeout(300);
        const names = await unlabelled(page);
        if (names.length) problems.push(`${sc.path}: unlabelled ${names.join(' | ')}`);
        const over = await overflowX(page);
        if (over > 0) problems.push(`${sc.path}: ${over}px horizontal overflow`);
        const nav = await tabInto(page, 'nav');
        if (!nav.reached || !nav.visibleFocus) problems.push(`${sc.path}: keyboard focus in navigation ${JSON.stringify(nav)}`);
        const main = await tabInto(page, 'main', 60);
        if (!main.reached || !main.visibleFocus) problems.push(`${sc.path}: keyboard focus in main ${JSON.stringify(main)}`);
      }
      if (errors.length) problems.push(`${who}: page errors ${errors.join('; ')}`);
      await context.close();
    }
    expect(problems).toEqual([]);
  });
});
