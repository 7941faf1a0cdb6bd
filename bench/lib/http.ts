/** Small HTTP helpers for the benchmarks that drive a server from the outside (memory, start-up). */
import http from 'node:http';
import { createServer } from 'node:net';

export async function api(base: string, method: string, path: string, o: { token?: string; flow?: string; body?: unknown } = {}) {
  const headers: Record<string, string> = {};
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  if (o.flow) headers['x-flow-token'] = o.flow;
  const res = await fetch(base + path, { method, headers, ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}) });
  const json = (await res.json().catch(() => ({}))) as Record<string, any>;
  return { status: res.status, json };
}

export function expectStatus(r: { status: number; json: unknown }, status: number, what: string): Record<string, any> {
  if (r.status !== status) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json as Record<string, any>;
}

/** Password-only sign-in (an account without a second factor); returns the session token. */
export async function passwordSignIn(base: string, tenant: string, email: string, password: string): Promise<string> {
  const start = await api(base, 'POST', '/v1/auth/flows', { body: { tenant, identifier: email } });
  const pw = await api(base, 'POST', `/v1/auth/flows/${start.json.flow?.id}/password`, { flow: start.json.flowToken, body: { password } });
  const token = pw.json.session?.token;
  if (typeof token !== 'string') throw new Error(`sign-in of ${email}: ${pw.status} ${JSON.stringify(pw.json)}`);
  return token;
}

/** Runs `fn` over `items` with at most `concurrency` in flight. */
export async function inParallel<T>(items: readonly T[], concurrency: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
}

/** A TCP port that was free a moment ago (bound to port 0 on 127.0.0.1, then closed). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** One GET without keep-alive; resolves with the status code, or rejects (connection refused before the listener exists). */
export function getStatus(url: string, timeoutMs = 2000): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', reject);
  });
}
