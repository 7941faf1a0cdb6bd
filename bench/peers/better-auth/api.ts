/**
 * Better Auth's HTTP API as the benchmark uses it (Node's fetch, keep-alive): sign up, enable TOTP
 * and confirm it, and the two requests of a login (password, then the TOTP code). Cookies are kept
 * per login in a small jar, as a browser would; every request carries the Origin header a browser
 * sends (Better Auth checks it when cookies are present).
 */
import { URI } from 'otpauth';
import { BASE_PATH } from './auth.js';

export class CookieJar {
  #cookies = new Map<string, string>();
  absorb(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq < 1) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = value === '' || attrs.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a));
      if (expired) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }
  get header(): string | undefined {
    return this.#cookies.size ? [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ') : undefined;
  }
  has(prefix: string): boolean {
    return [...this.#cookies.keys()].some((k) => k.includes(prefix));
  }
}

export interface Reply {
  status: number;
  json: Record<string, any>;
}

export async function post(base: string, path: string, body: unknown, jar?: CookieJar): Promise<Reply> {
  const headers: Record<string, string> = { 'content-type': 'application/json', origin: base, 'user-agent': 'callwarden-bench' };
  const cookie = jar?.header;
  if (cookie) headers.cookie = cookie;
  const res = await fetch(`${base}${BASE_PATH}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  jar?.absorb(res);
  const text = await res.text();
  let json: Record<string, any> = {};
  try {
    json = JSON.parse(text) as Record<string, any>;
  } catch {
    /* not JSON */
  }
  return { status: res.status, json };
}

const expectOk = (r: Reply, what: string): Record<string, any> => {
  if (r.status !== 200) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.json).slice(0, 200)}`);
  return r.json;
};

/** The TOTP secret (raw bytes) inside Better Auth's otpauth:// URI. */
export function secretOf(totpURI: string): Buffer {
  const otp = URI.parse(totpURI);
  return Buffer.from(otp.secret.bytes);
}

/**
 * One user through Better Auth's API: sign up (which signs in), enable two-factor (TOTP, password
 * re-checked), and verify a code to activate it. Returns the TOTP secret.
 */
export async function signUpWithTotp(base: string, email: string, password: string, codeAt: (secret: Buffer) => string): Promise<Buffer> {
  const jar = new CookieJar();
  expectOk(await post(base, '/sign-up/email', { email, password, name: email.split('@')[0] }, jar), `sign up ${email}`);
  const enabled = expectOk(await post(base, '/two-factor/enable', { password }, jar), `enable two-factor for ${email}`);
  const secret = secretOf(enabled.totpURI as string);
  expectOk(await post(base, '/two-factor/verify-totp', { code: codeAt(secret) }, jar), `verify TOTP for ${email}`);
  return secret;
}

/** Password step of a login: a 2FA challenge (cookie in `jar`) for a user with two-factor on. */
export async function passwordStep(base: string, email: string, password: string, jar: CookieJar): Promise<Reply> {
  return post(base, '/sign-in/email', { email, password }, jar);
}

/** TOTP step: the session token when the code is accepted. */
export async function totpStep(base: string, code: string, jar: CookieJar): Promise<Reply> {
  return post(base, '/two-factor/verify-totp', { code }, jar);
}

/** A complete login; `ok` when it ends with a session token. */
export async function login(base: string, email: string, password: string, code: string): Promise<{ ok: boolean; password: Reply; totp?: Reply }> {
  const jar = new CookieJar();
  const pw = await passwordStep(base, email, password, jar);
  if (pw.status !== 200 || pw.json.twoFactorRedirect !== true) return { ok: false, password: pw };
  const t = await totpStep(base, code, jar);
  return { ok: t.status === 200 && typeof t.json.token === 'string', password: pw, totp: t };
}
