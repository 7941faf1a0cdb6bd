/** The console is served at `/` with a strict CSP, deep links load it, and a signed-out visit lands on sign-in. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { browserAvailable, launchBrowser, newPage, startConsoleServer, type ConsoleServer } from './harness.js';

describe.skipIf(!browserAvailable())('console serving', () => {
  let srv: ConsoleServer;
  let browser: Browser;
  beforeAll(async () => {
    srv = await startConsoleServer();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await srv?.close();
  });

  it('serves index.html with a CSP for screen paths and keeps JSON 404s for the rest', async () => {
    for (const path of ['/', '/agent/verifications/abc', '/admin/users']) {
      const r = await fetch(srv.url + path);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toContain('text/html');
      expect(r.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(r.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    }
    const miss = await fetch(srv.url + '/no-such-thing');
    expect(miss.status).toBe(404);
    expect(((await miss.json()) as { code: string }).code).toBe('not_found');
  });

  it('sends a signed-out visitor to the sign-in screen, keeping where they were going', async () => {
    const { context, page } = await newPage(browser, srv.url);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error' && !/401/.test(m.text())) errors.push(m.text()); });
    await page.goto('/admin/users');
    await page.waitForURL(/\/signin\?next=%2Fadmin%2Fusers/);
    expect(errors).toEqual([]);
    await context.close();
  });
});
