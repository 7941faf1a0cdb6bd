/**
 * Sign-in steps over real HTTP that the threat files share, on top of `Attacker` (./attacker.ts):
 * the same checks the in-process helpers of test/helpers/flows.ts make (a flow really at the second
 * factor, a re-authentication really completed), so a test moved from app.inject to the listening
 * server keeps what it proved.
 */
import { STRONG } from '../helpers/app.js';
import { Attacker, totpCode, type FlowHandle, type SendOptions } from './attacker.js';
import type { Target } from './server.js';

/** A new flow past the password step, in state `second_factor` (throws otherwise). */
export async function atSecondFactor(x: Attacker, tenant: string, email: string, password = STRONG, o: SendOptions = {}): Promise<FlowHandle> {
  const { flow } = await x.startFlow(tenant, email, o);
  const pw = await x.password(flow, password, o);
  if (pw.res.status !== 200 || pw.res.json?.flow?.state !== 'second_factor') throw new Error(`password step: ${pw.res.status} ${pw.res.text}`);
  return pw.next;
}

/** A full sign-in with the password and the TOTP code of `secret` at the server's clock; returns the session token. */
export function signInTotp(x: Attacker, t: Target, tenant: string, email: string, secret: string): Promise<string> {
  return x.signIn(tenant, email, STRONG, { secret, at: t.clock.now() });
}

/** Re-authenticates a session over HTTP (password, then TOTP when a secret is given); returns the new session token. */
export async function reauthenticate(x: Attacker, t: Target, token: string, secret?: string): Promise<string> {
  const start = await x.post('/v1/me/reauth', { token });
  if (start.status !== 201) throw new Error(`reauth: ${start.status} ${start.text}`);
  const pw = await x.password({ id: start.json.flow.id, token: start.json.flowToken }, STRONG);
  if (pw.res.status !== 200) throw new Error(`reauth password: ${pw.res.status} ${pw.res.text}`);
  if (!secret) return pw.res.json.session.token as string;
  const f = await x.factor(pw.next, 'totp', totpCode(secret, t.clock.now()));
  if (f.status !== 200) throw new Error(`reauth totp: ${f.status} ${f.text}`);
  return f.json.session.token as string;
}
