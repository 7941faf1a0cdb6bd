/**
 * Browser tests: a real Callwarden server listening on loopback (the built console at `/`, the
 * embedded store, the real clock) and Debian's chromium driven by playwright-core.
 *
 * Chromium comes from apt (`.ci/run` installs it). Outside CI a machine without it skips the
 * browser suites; in CI a missing browser or console build fails them.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { Secret } from 'otpauth';
import { totpAt } from '../../src/methods/totp/core.js';
import { consoleDir } from '../../src/http/console.js';
import { startDelivery } from '../../src/delivery/setup.js';
import { testApp, type TestApp } from '../helpers/app.js';

export const CHROMIUM = process.env.CALLWARDEN_CHROMIUM ?? '/usr/bin/chromium';
const inCi = !!process.env.CI;

/** True when browser tests can run here; in CI, throws instead of skipping. */
export function browserAvailable(): boolean {
  const ok = existsSync(CHROMIUM) && !!consoleDir(process.env.CALLWARDEN_CONSOLE_DIR);
  if (!ok && inCi) throw new Error(`browser tests need ${CHROMIUM} (apt install chromium) and a built console (npm run build)`);
  return ok;
}

export interface ConsoleServer extends TestApp {
  url: string;
  stopDelivery(): Promise<void>;
}

/** A listening server with the console; `env` adds configuration (SMTP, ...); `delivery` starts the outbox worker; `port` (default: any free one). */
export async function startConsoleServer(o: { env?: Record<string, string>; delivery?: boolean; port?: number } = {}): Promise<ConsoleServer> {
  const t = await testApp({ env: { CALLWARDEN_PUBLIC_URL: 'http://127.0.0.1', CALLWARDEN_CONSOLE_DIR: process.env.CALLWARDEN_CONSOLE_DIR ?? '', ...o.env } });
  await t.app.listen({ host: '127.0.0.1', port: o.port ?? 0 });
  const addr = t.app.server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const worker = o.delivery ? startDelivery(t.s) : undefined;
  return {
    ...t,
    url,
    stopDelivery: async () => { await worker?.stop(); },
    close: async () => { await worker?.stop(); await t.close(); },
  };
}

/** A loopback port free right now (for a server whose configuration names its own address). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const addr = probe.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * A console server opened at http://localhost:<port>: security keys and passkeys are bound to the
 * RP ID `localhost`, and a ceremony must come from the origin the server's public URL names.
 */
export async function startLocalhostServer(o: { env?: Record<string, string>; delivery?: boolean } = {}): Promise<ConsoleServer> {
  const port = await freePort();
  const srv = await startConsoleServer({ ...o, port, env: { CALLWARDEN_PUBLIC_URL: `http://localhost:${port}`, ...o.env } });
  return { ...srv, url: `http://localhost:${port}` };
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

/** A fresh browser context (own cookies) at the agent-screen size the console is built for. */
export async function newPage(browser: Browser, baseURL: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL, viewport: { width: 1280, height: 720 }, locale: 'en-US', timezoneId: 'UTC' });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  return { context, page };
}

/** The current TOTP code for a base32 secret (what the user's authenticator app shows). */
export function totpNow(secret: string, at = new Date()): string {
  return totpAt(Buffer.from(Secret.fromBase32(secret.replace(/\s+/g, '')).buffer), at);
}
