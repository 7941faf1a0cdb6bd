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

/** A sign-in started in the browser context and past the password, waiting for a second factor. */
async function pastPasswordIn(context: BrowserContext, tenant: string, email: string, password: string): Promise<{ id: string; token: string }> {
  const start = await context.request.post('/v1/auth/flows', { data: { tenant, identifier: email } });
  const s = (await start.json()) as StepBody;
  if (start.status() !== 201 || !s.flow || !s.flowToken) throw new Error(`sign-in start for ${email}: ${start.status()} ${s.code ?? ''}`);
  const pw = await context.request.post(`/v1/auth/flows/${s.flow.id}/password`, { data: { password }, headers: { 'x-flow-token': s.flowToken } });
  const step = (await pw.json()) as StepBody;
  if (pw.status() !== 200 || step.flow?.state !== 'second_factor') throw new Error(`password for ${email}: ${pw.status()} ${step.code ?? step.flow?.state ?? ''}`);
  return { id: s.flow.id, token: step.flowToken ?? '' };
}

/**
 * Like signInViaApi with TOTP, for an account whose current code may be spent already (each code
 * works once: enrolling, or an earlier sign-in in the same 30 s): tries the codes of this step,
 * the next and the previous one (all inside the server's match window), each in a new flow.
 */
export async function signInWithFreshTotp(context: BrowserContext, tenant: string, email: string, password: string, totpSecret: string): Promise<void> {
  let last = '';
  for (const offset of [0, 30_000, -30_000]) {
    const flow = await pastPasswordIn(context, tenant, email, password);
    const code = totpNow(totpSecret, new Date(Date.now() + offset));
    const f = await context.request.post(`/v1/auth/flows/${flow.id}/factor`, { data: { method: 'totp', code }, headers: { 'x-flow-token': flow.token } });
    const done = (await f.json()) as StepBody;
    if (f.status() === 200 && done.flow?.state === 'completed') return;
    last = `${f.status()} ${done.code ?? done.flow?.state ?? ''}`;
  }
  throw new Error(`second factor for ${email}: ${last}`);
}

/** Signs in with the password and one second-factor code of `method` (e.g. a recovery code). */
export async function signInWithCode(context: BrowserContext, tenant: string, email: string, password: string, method: string, code: string): Promise<void> {
  const flow = await pastPasswordIn(context, tenant, email, password);
  const f = await context.request.post(`/v1/auth/flows/${flow.id}/factor`, { data: { method, code }, headers: { 'x-flow-token': flow.token } });
  const done = (await f.json()) as StepBody;
  if (f.status() !== 200 || done.flow?.state !== 'completed') throw new Error(`${method} for ${email}: ${f.status()} ${done.code ?? done.flow?.state ?? ''}`);
}
