/**
 * Serves the web console (built by Vite into dist/web) at `/`: hashed assets under /assets with a
 * long cache, and index.html for every console screen path so that deep links and reloads work.
 * The HTML carries a strict Content-Security-Policy (scripts only from this origin, no framing).
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** Paths the console handles on the client (its screens); everything else stays the API's. */
export const consolePaths = ['/', '/signin', '/setup', '/security', '/agent', '/agent/*', '/admin', '/admin/*'];

export const consoleCsp = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'", // Mantine sets CSS variables in style attributes
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self' data:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "object-src 'none'",
].join('; ');

/** The built console directory: dist/web next to the compiled server, or from the source tree. */
export function consoleDir(configured = ''): string | undefined {
  if (configured) return existsSync(`${configured}/index.html`) ? configured : undefined;
  const candidates = [new URL('../web/', import.meta.url), new URL('../../dist/web/', import.meta.url)].map((u) => fileURLToPath(u));
  return candidates.find((d) => existsSync(`${d}/index.html`));
}

export async function registerConsole(app: FastifyInstance, dir: string | undefined): Promise<void> {
  const html = dir
    ? readFileSync(`${dir}/index.html`, 'utf8')
    : '<!doctype html><meta charset="utf-8"><title>Callwarden</title><body style="font-family:system-ui;margin:3rem"><h1>Callwarden</h1><p>The web console is not built. Run <code>npm run build</code> (or <code>npm install</code>), then restart. The API is at <a href="/docs">/docs</a>.</p>';
  if (dir) {
    await app.register(fastifyStatic, {
      root: `${dir}/assets`,
      prefix: '/assets/',
      wildcard: true,
      index: false,
      cacheControl: false,
      setHeaders: (res) => void res.header('cache-control', 'public, max-age=31536000, immutable'),
    });
  }
  for (const url of consolePaths) {
    app.get(url, { schema: { hide: true } }, async (_req, reply) =>
      reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('content-security-policy', consoleCsp)
        .header('x-frame-options', 'DENY')
        .header('referrer-policy', 'no-referrer')
        .send(html),
    );
  }
}
