/**
 * Security keys over the real HTTP API for tests: allowing them in a tenant's policy, registering a
 * software authenticator's key from the security page, and the sign-in steps (second factor and
 * passwordless). The server's default relying party in tests is localhost at http://localhost:3000.
 */
import { api, json, type TestApp } from './app.js';
import { SoftAuthenticator } from './soft-authenticator.js';
import { updatePolicy, type FlowHandle } from './flows.js';

export const ORIGIN = 'http://localhost:3000';

/** Lets the tenant's users use security keys (and passkeys alone, unless `passwordless` is false). */
export const allowKeys = (t: TestApp, adminToken: string, tenant: string, o: { passwordless?: boolean; userVerification?: 'required' | 'preferred' | 'discouraged' } = {}) =>
  updatePolicy(t, adminToken, tenant, (p) => ({
    ...p,
    mfa: { ...p.mfa, allowedFactors: [...new Set([...p.mfa.allowedFactors, 'webauthn'])] },
    webauthn: { ...p.webauthn, ...(o.passwordless !== undefined ? { passwordless: o.passwordless } : {}), ...(o.userVerification ? { userVerification: o.userVerification } : {}) },
  }));

/** Registers a key of `auth` for the signed-in user; returns the server's answer. */
export async function registerKey(t: TestApp, token: string, auth: SoftAuthenticator, o: { kind?: 'security_key' | 'passkey'; label?: string; origin?: string } = {}) {
  const a = api(t.app);
  const begin = await a.post('/v1/me/factors/webauthn', { token, body: { kind: o.kind ?? 'security_key' } });
  if (begin.statusCode !== 201) throw new Error(`begin: ${begin.body}`);
  const b = json(begin);
  const credential = await auth.register(b.options, { origin: o.origin ?? ORIGIN });
  const res = await a.post(`/v1/me/factors/webauthn/${b.registrationId}`, { token, body: { credential, ...(o.label ? { label: o.label } : {}) } });
  return { res, body: json(res), registrationId: b.registrationId as string, options: b.options };
}

/** A new challenge on a flow (second factor or passkey). */
export async function keyOptions(t: TestApp, f: FlowHandle) {
  const r = await api(t.app).post(`/v1/auth/flows/${f.id}/webauthn/options`, { flow: f.token });
  if (r.statusCode !== 200) throw new Error(`options: ${r.body}`);
  return json(r).options as { challenge: string; rpId: string; allowCredentials: Array<{ id: string }>; userVerification: string };
}

export const answerKey = (t: TestApp, f: FlowHandle, credential: unknown) => api(t.app).post(`/v1/auth/flows/${f.id}/webauthn`, { flow: f.token, body: { credential } });

/** Starts a passwordless sign-in; the flow and its options. */
export async function startPasskey(t: TestApp, tenant: string) {
  const r = await api(t.app).post('/v1/auth/passkey', { body: { tenant } });
  if (r.statusCode !== 201) throw new Error(`passkey: ${r.body}`);
  const b = json(r);
  return { flow: { id: b.flow.id as string, token: b.flowToken as string }, options: b.options as { challenge: string; rpId: string; allowCredentials: Array<{ id: string }> } };
}

export { SoftAuthenticator };

/** A tenant `acme` that allows security keys, its admin and agents (tokens), for the threat tests. */
export async function keysTenant(t: TestApp, agents: string[], o: { userVerification?: 'required' | 'preferred' | 'discouraged' } = {}) {
  const { seed } = await import('./app.js');
  const admin = 'ada@acme.test';
  const seeded = await seed(t, { users: [{ email: admin, roles: ['tenant_admin'] }, ...agents.map((email) => ({ email, roles: ['agent'] }))] });
  await allowKeys(t, seeded.users[admin]!.token!, 'acme', o);
  return { ...seeded, admin, token: (email: string) => seeded.users[email]!.token! };
}
