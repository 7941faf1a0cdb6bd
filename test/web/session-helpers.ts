/**
 * Signing a browser context in without the sign-in screen (which has its own tests): the flow API is
 * called through the context's request client, so the HttpOnly session cookie lands in the context
 * exactly as it does after a sign-in on the page.
 */
import type { BrowserContext } from 'playwright-core';
import { totpNow } from './harness.js';

interface StepBody {
  flow?: { id: string; state: string };
  flowToken?: string;
  code?: string;
  message?: string;
}

/** Signs `email` in to `tenant` in this browser context (password, then TOTP when a secret is given). */
export async function signInViaApi(context: BrowserContext, tenant: string, email: string, password: string, totpSecret?: string): Promise<void> {
  const start = await context.request.post('/v1/auth/flows', { data: { tenant, identifier: email } });
  const s = (await start.json()) as StepBody;
  if (start.status() !== 201 || !s.flow || !s.flowToken) throw new Error(`sign-in start for ${email}: ${start.status()} ${s.code ?? ''}`);
  const pw = await context.request.post(`/v1/auth/flows/${s.flow.id}/password`, { data: { password }, headers: { 'x-flow-token': s.flowToken } });
  let step = (await pw.json()) as StepBody;
  if (pw.status() !== 200) throw new Error(`password for ${email}: ${pw.status()} ${step.code ?? ''}`);
  if (step.flow?.state === 'second_factor' && totpSecret) {
    const f = await context.request.post(`/v1/auth/flows/${s.flow.id}/factor`, { data: { method: 'totp', code: totpNow(totpSecret) }, headers: { 'x-flow-token': step.flowToken ?? '' } });
    step = (await f.json()) as StepBody;
    if (f.status() !== 200) throw new Error(`second factor for ${email}: ${f.status()} ${step.code ?? ''}`);
  }
  if (step.flow?.state !== 'completed') throw new Error(`sign-in for ${email} stopped at ${step.flow?.state ?? 'unknown'}`);
  const cookies = await context.cookies();
  if (!cookies.some((c) => c.name === 'cw_session')) throw new Error(`no session cookie for ${email}`);
}
