/**
 * Loopback peers for the delivery tests: an HTTP server on 127.0.0.1:0 that records every request and
 * answers what the test says, and outbox fixtures (a tenant, messages, a movable clock).
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Store } from '../../src/storage/store.js';
import { seedTenant } from '../helpers/fixtures.js';

export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Answer {
  status?: number;
  json?: unknown;
  delayMs?: number;
}

export interface HttpPeer {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

/** Starts a recording HTTP peer; `answer` decides each response (default 200 {}). */
export async function httpPeer(answer: (r: Received, index: number) => Answer | Promise<Answer> = () => ({})): Promise<HttpPeer> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const r: Received = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      const index = received.push(r) - 1;
      const a = await answer(r, index);
      if (a.delayMs) await sleep(a.delayMs);
      if (res.destroyed) return;
      res.writeHead(a.status ?? 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(a.json ?? {}));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A URL on loopback where nothing listens (a port that was just freed). */
export async function deadUrl(): Promise<string> {
  const peer = await httpPeer();
  await peer.close();
  return peer.url;
}

/** A clock the test moves by hand. */
export function manualClock(start = new Date('2026-03-01T09:00:00Z')) {
  let t = start.getTime();
  return {
    now: () => new Date(t),
    advance: (ms: number) => void (t += ms),
    set: (d: Date) => void (t = d.getTime()),
  };
}

/** Adds a message to the outbox of a fresh tenant (or the given one); returns its id and tenant. */
export async function queueMessage(
  store: Store,
  o: { tenantId?: string; channel?: 'email' | 'sms' | 'voice'; recipient?: string; subject?: string; body?: string; now?: Date; locale?: string } = {},
): Promise<{ id: string; tenantId: string }> {
  const tenantId = o.tenantId ?? (await seedTenant(store)).id;
  const id = randomUUID();
  await store.outbox.add({
    id,
    tenantId,
    channel: o.channel ?? 'sms',
    recipient: o.recipient ?? '+15550100',
    template: 'test',
    subject: o.subject ?? 'Your verification code',
    body: o.body ?? 'Your Callwarden code is 493817',
    now: o.now ?? new Date(),
    ...(o.locale ? { locale: o.locale } : {}),
  });
  return { id, tenantId };
}
