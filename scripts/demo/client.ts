/** A small HTTP client for scripts: JSON in and out, bearer session tokens, errors with the body. */
import { Secret } from 'otpauth';
import { totpAt } from '../../src/methods/totp/core.js';

export class Client {
  constructor(readonly base: string, readonly token?: string) {}
  as(token: string): Client {
    return new Client(this.base, token);
  }
  async call<T = Record<string, any>>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const r = await fetch(this.base + path, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(this.token ? { authorization: `Bearer ${this.token}` } : {}), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path} -> ${r.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }
  get = <T = Record<string, any>>(p: string) => this.call<T>('GET', p);
  post = <T = Record<string, any>>(p: string, b: unknown = {}, h?: Record<string, string>) => this.call<T>('POST', p, b, h);
  put = <T = Record<string, any>>(p: string, b: unknown) => this.call<T>('PUT', p, b);
}

export const totpNow = (secret: string) => totpAt(Buffer.from(Secret.fromBase32(secret).buffer), new Date());

/**
 * Signs in through the API. With `totpSecret` answers the second-factor step; when the flow asks for
 * enrollment, enrolls a new authenticator and returns its secret.
 */
export async function signIn(c: Client, tenant: string, email: string, password: string, totpSecret?: string): Promise<{ token: string; totpSecret?: string }> {
  const start = await c.post('/v1/auth/flows', { tenant, identifier: email });
  let r = await c.post(`/v1/auth/flows/${start.flow.id}/password`, { password }, { 'x-flow-token': start.flowToken });
  let secret = totpSecret;
  if (r.flow.state === 'second_factor') {
    if (!secret) throw new Error(`${email} needs a second factor`);
    r = await c.post(`/v1/auth/flows/${start.flow.id}/factor`, { method: 'totp', code: totpNow(secret) }, { 'x-flow-token': r.flowToken });
  } else if (r.flow.state === 'enroll') {
    const begin = await c.post(`/v1/auth/flows/${start.flow.id}/enroll/totp`, {}, { 'x-flow-token': r.flowToken });
    secret = begin.enrollment?.secret ?? begin.secret;
    if (!secret) throw new Error(`no enrollment secret in ${JSON.stringify(Object.keys(begin))}`);
    r = await c.post(`/v1/auth/flows/${start.flow.id}/enroll/totp/confirm`, { code: totpNow(secret) }, { 'x-flow-token': begin.flowToken ?? r.flowToken });
  }
  if (!r.session?.token) throw new Error(`sign-in of ${email} did not complete: ${JSON.stringify(r.flow)}`);
  return { token: r.session.token, totpSecret: secret };
}
