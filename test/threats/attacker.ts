/**
 * The attacker's HTTP client for the threat suite: plain node:http against the listening server (no
 * app.inject, no URL normalization: the path is sent byte for byte, as a hostile client would), with
 * a keep-alive pool for ordinary traffic, one fresh TCP connection per request when asked (`fresh`,
 * for races over many sockets), raw socket writes for malformed requests, the OpenAPI document of the
 * running server, and the sign-in steps spelled out one by one so they can be replayed, raced and
 * mixed.
 */
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { Secret } from 'otpauth';
import { matchTotpStep, totpAt } from '../../src/methods/totp/core.js';

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The parsed body when it is JSON. */
  json: any;
  /** `json.code` when there is one: the error code of a refusal. */
  code: string | undefined;
  /** The client port of the TCP connection that carried the request. */
  localPort: number;
}

export interface SendOptions {
  /** A JSON body (serialized here). */
  body?: unknown;
  /** A body sent as is (with `contentType`). */
  raw?: string | Buffer;
  contentType?: string;
  /** `Authorization: Bearer <token>` */
  token?: string;
  /** The whole Cookie header, e.g. `cw_session=...`. */
  cookie?: string;
  /** `x-flow-token` */
  flow?: string;
  /** `x-forwarded-for` (honoured only by a server configured to trust a proxy). */
  xff?: string;
  headers?: Record<string, string>;
  /** A new TCP connection for this request (no keep-alive). */
  fresh?: boolean;
}

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';

export interface Operation {
  method: Method;
  /** The OpenAPI path, e.g. /v1/tenants/{tenant}/users/{userId} */
  path: string;
  /** Security requirements declared for the operation ([] = public). */
  security: unknown[] | undefined;
  requestBody: boolean;
}

export interface FlowHandle {
  id: string;
  token: string;
}

const decode = (text: string, type: string | undefined) => {
  if (!/json/.test(type ?? '') || !text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

export class Attacker {
  readonly host: string;
  readonly port: number;
  readonly agent = new Agent({ keepAlive: true, maxSockets: 16 });
  /** Client ports of every connection used so far (how many sockets the attack spread over). */
  readonly sockets = new Set<number>();
  requests = 0;

  constructor(readonly base: string) {
    const u = new URL(base);
    this.host = u.hostname;
    this.port = Number(u.port);
  }

  close(): void {
    this.agent.destroy();
  }

  send(method: string, path: string, o: SendOptions = {}): Promise<Reply> {
    const body = o.raw ?? (o.body !== undefined ? JSON.stringify(o.body) : undefined);
    const headers: Record<string, string | number> = {
      ...(body !== undefined ? { 'content-type': o.contentType ?? 'application/json', 'content-length': Buffer.byteLength(body) } : o.contentType ? { 'content-type': o.contentType } : {}),
      ...(o.token !== undefined ? { authorization: `Bearer ${o.token}` } : {}),
      ...(o.cookie !== undefined ? { cookie: o.cookie } : {}),
      ...(o.flow !== undefined ? { 'x-flow-token': o.flow } : {}),
      ...(o.xff !== undefined ? { 'x-forwarded-for': o.xff } : {}),
      ...o.headers,
    };
    this.requests++;
    return new Promise<Reply>((resolve, reject) => {
      const req = request({ host: this.host, port: this.port, method, path, headers, agent: o.fresh ? false : this.agent, setHost: true }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const json = decode(text, res.headers['content-type']);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json, code: typeof json?.code === 'string' ? json.code : undefined, localPort: localPort });
        });
      });
      let localPort = 0;
      req.on('socket', (sock) => {
        const note = () => {
          localPort = sock.localPort ?? 0;
          if (localPort) this.sockets.add(localPort);
        };
        if (sock.localPort) note();
        else sock.once('connect', note);
      });
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  get = (path: string, o?: SendOptions) => this.send('GET', path, o);
  post = (path: string, o: SendOptions = {}) => this.send('POST', path, { body: o.raw === undefined && o.body === undefined ? {} : o.body, ...o });
  put = (path: string, o?: SendOptions) => this.send('PUT', path, o);
  patch = (path: string, o?: SendOptions) => this.send('PATCH', path, o);
  del = (path: string, o?: SendOptions) => this.send('DELETE', path, o);

  /** Writes `text` (a whole HTTP request, CRLF line ends) on a new socket and returns the status line's code and the rest. */
  raw(text: string | Buffer, timeoutMs = 5000): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const sock = connect(this.port, this.host);
      const chunks: Buffer[] = [];
      const timer = setTimeout(() => sock.destroy(), timeoutMs);
      sock.on('connect', () => sock.end(text));
      sock.on('data', (c: Buffer) => chunks.push(c));
      sock.on('error', (e) => {
        clearTimeout(timer);
        if (chunks.length) finish();
        else reject(e);
      });
      const finish = () => {
        clearTimeout(timer);
        const out = Buffer.concat(chunks).toString('utf8');
        resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(out)?.[1] ?? 0), text: out });
      };
      sock.on('close', finish);
    });
  }

  /**
   * The "last-byte sync" race: one TCP connection per request, each request written but for its last
   * byte, and once every connection holds its request, the last bytes go out back to back, so that
   * the server receives all the requests at (nearly) the same moment.
   */
  async lastByteSync(reqs: Array<{ method: string; path: string; o?: SendOptions }>): Promise<Reply[]> {
    const texts = reqs.map(({ method, path, o = {} }) => {
      const body = o.raw ?? (o.body !== undefined ? JSON.stringify(o.body) : '');
      const headers: Record<string, string> = {
        host: `${this.host}:${this.port}`,
        connection: 'close',
        ...(body ? { 'content-type': o.contentType ?? 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}),
        ...(o.token !== undefined ? { authorization: `Bearer ${o.token}` } : {}),
        ...(o.cookie !== undefined ? { cookie: o.cookie } : {}),
        ...(o.flow !== undefined ? { 'x-flow-token': o.flow } : {}),
        ...(o.xff !== undefined ? { 'x-forwarded-for': o.xff } : {}),
        ...o.headers,
      };
      return Buffer.from(`${method} ${path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${body}`);
    });
    const socks = await Promise.all(
      texts.map(
        (text) =>
          new Promise<{ sock: ReturnType<typeof connect>; last: Buffer; done: Promise<Buffer> }>((resolve, reject) => {
            const sock = connect(this.port, this.host);
            const chunks: Buffer[] = [];
            const done = new Promise<Buffer>((res) => sock.on('close', () => res(Buffer.concat(chunks))));
            sock.on('data', (c: Buffer) => chunks.push(c));
            sock.once('error', reject);
            sock.once('connect', () => {
              if (sock.localPort) this.sockets.add(sock.localPort);
              sock.setNoDelay(true);
              sock.write(text.subarray(0, text.length - 1), () => resolve({ sock, last: text.subarray(text.length - 1), done }));
            });
          }),
      ),
    );
    this.requests += socks.length;
    for (const s of socks) s.sock.write(s.last);
    return Promise.all(socks.map(async (s) => parseResponse(await s.done, s.sock.localPort ?? 0)));
  }

  /** Every operation in the running server's /openapi.json. */
  async operations(): Promise<Operation[]> {
    const doc = (await this.get('/openapi.json')).json as { paths: Record<string, Record<string, { security?: unknown[]; requestBody?: unknown }>> };
    return Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([m, op]) => ({ method: m.toUpperCase() as Method, path, security: op.security, requestBody: op.requestBody !== undefined })),
    );
  }

  // --- the sign-in flow, one step at a time ---

  async startFlow(tenant: string, identifier: string, o: SendOptions = {}): Promise<{ res: Reply; flow: FlowHandle }> {
    const res = await this.post('/v1/auth/flows', { ...o, body: { tenant, identifier } });
    return { res, flow: { id: res.json?.flow?.id as string, token: res.json?.flowToken as string } };
  }

  /** The password step; `next` carries the token for the following step. */
  async password(f: FlowHandle, password: string, o: SendOptions = {}): Promise<{ res: Reply; next: FlowHandle }> {
    const res = await this.post(`/v1/auth/flows/${f.id}/password`, { ...o, flow: f.token, body: { password } });
    return { res, next: { id: f.id, token: res.json?.flowToken as string } };
  }

  factor(f: FlowHandle, method: string, code: string, o: SendOptions = {}): Promise<Reply> {
    return this.post(`/v1/auth/flows/${f.id}/factor`, { ...o, flow: f.token, body: { method, code } });
  }

  /** A new flow past the password step (state second_factor, or enroll). */
  async pastPassword(tenant: string, email: string, password: string, o: SendOptions = {}): Promise<FlowHandle> {
    const { flow } = await this.startFlow(tenant, email, o);
    const pw = await this.password(flow, password, o);
    if (pw.res.status !== 200 || !pw.next.token) throw new Error(`password step: ${pw.res.status} ${pw.res.text}`);
    return pw.next;
  }

  /** A full sign-in (password, then TOTP at `at` when a secret is given); returns the session token. */
  async signIn(tenant: string, email: string, password: string, totp?: { secret: string; at: Date }): Promise<string> {
    const { flow } = await this.startFlow(tenant, email);
    const pw = await this.password(flow, password);
    if (pw.res.status !== 200) throw new Error(`password: ${pw.res.status} ${pw.res.text}`);
    if (pw.res.json.session?.token) return pw.res.json.session.token as string;
    if (!totp) throw new Error(`no session after the password: ${pw.res.text}`);
    const f = await this.factor(pw.next, 'totp', totpCode(totp.secret, totp.at));
    if (f.status !== 200) throw new Error(`totp: ${f.status} ${f.text}`);
    return f.json.session.token as string;
  }
}

/** A raw HTTP/1.1 response (one, on a connection the server closed) as a Reply. */
function parseResponse(raw: Buffer, localPort: number): Reply {
  const end = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, end < 0 ? raw.length : end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '')?.[1] ?? 0);
  const headers: IncomingHttpHeaders = {};
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  let body = end < 0 ? Buffer.alloc(0) : raw.subarray(end + 4);
  if (/chunked/i.test(String(headers['transfer-encoding'] ?? ''))) {
    const parts: Buffer[] = [];
    for (let at = 0; at < body.length; ) {
      const eol = body.indexOf('\r\n', at);
      const size = parseInt(body.subarray(at, eol).toString('latin1'), 16);
      if (!size) break;
      parts.push(body.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  }
  const text = body.toString('utf8');
  const json = decode(text, headers['content-type'] as string | undefined);
  return { status, headers, text, json, code: typeof json?.code === 'string' ? json.code : undefined, localPort };
}

/** Fills `{param}` placeholders of an OpenAPI path. */
export const fill = (path: string, params: Record<string, string>): string => path.replace(/\{(\w+)\}/g, (_, p: string) => params[p] ?? `missing-${p}`);

const bytes = (base32: string) => Buffer.from(Secret.fromBase32(base32).buffer);

/** The code an authenticator app with this secret shows at `at`. */
export const totpCode = (secret: string, at: Date): string => totpAt(bytes(secret), at);

/** A well-formed six-digit code that matches no step of this secret around `at`. */
export function wrongCode(secret: string, at: Date, seed = 0): string {
  for (let i = seed; ; i++) {
    const code = String((i * 7_919 + 123_457) % 1_000_000).padStart(6, '0');
    if (matchTotpStep(bytes(secret), code, at) === null) return code;
  }
}

/** Counts replies by "status code". */
export function tally(replies: Reply[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of replies) {
    const k = `${r.status} ${r.code ?? (r.status < 300 ? 'ok' : '?')}`;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

/** Runs `n` calls of `fn` at once. */
export const parallel = <T>(n: number, fn: (i: number) => Promise<T>): Promise<T[]> => Promise.all(Array.from({ length: n }, (_, i) => fn(i)));

/**
 * One after another: for set-up steps that give the right answer for one account (a burst of those
 * would be judged as a sequence of possible failures and throttled, as an attacker's would).
 */
export async function inTurn<T>(n: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(await fn(i));
  return out;
}

/** The session token in a Set-Cookie header, if any. */
export function sessionCookie(r: Reply): string | undefined {
  const set = r.headers['set-cookie'] ?? [];
  for (const c of set) {
    const m = /^cw_session=([^;]*)/.exec(c);
    if (m) return m[1];
  }
  return undefined;
}
