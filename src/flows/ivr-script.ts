/**
 * The IVR script: a small state machine over the caller-verification engine, shared by the JSON step
 * API, the Twilio voice webhooks and `callwarden ivr simulate`. Steps:
 *   pin    - the customer has a PIN that helps the level: "enter your PIN, then pound" (two tries,
 *            only before any code is sent; again later if possession is done and knowledge missing);
 *   choice - a possession factor is missing: "press 1 for a text message, 2 for a call, 3 for email"
 *            to the first eligible on-file contact of each kind (never a number the caller names);
 *   code   - a code is live: "enter the code we sent ..., or star for a new one";
 *   done   - verified, failed, expired, canceled, or `transfer` (nothing the keypad can still do:
 *            the flow stays pending and an agent carries on with the same interaction).
 * The step is derived from the stored verification on every request (no IVR state is kept), so any
 * instance can answer the next webhook. The code is never spoken back or returned.
 */
import { AppError } from '../domain/errors.js';
import { evaluateLevel, type CallerMethod } from '../domain/verification-policy.js';
import type { Origin, Services } from '../services/context.js';
import type { FlowRecord } from '../engine/flow.js';
import type { OtpSlot } from '../methods/otp/index.js';
import type { Claimed } from '../storage/repositories/flow-claims.js';
import { openRef, matches, sealRef, type StepRef } from './ivr-ref.js';
import { availableMethods, readVerification, verificationState, type Actor, type StepGuard, type StepObserver, type VerificationSnapshot } from './verification.js';
import { checkCode, sendCode, type CodeChannel } from './verification-codes.js';
import { checkPin } from './verification-knowledge.js';

export type IvrStep = 'pin' | 'choice' | 'code' | 'done';
export type IvrResult = 'verified' | 'failed' | 'expired' | 'canceled' | 'transfer';

/** Wrong PINs the script accepts before it moves on to a code. */
export const PIN_TRIES = 2;

export interface IvrPrompt {
  verificationId: string;
  step: IvrStep;
  /** The text to speak. */
  prompt: string;
  expect: 'pin' | 'code' | 'choice' | 'none';
  options?: Array<{ digit: string; label: string }>;
  /** The key that ends the entry (PIN and code). */
  finishOnKey?: '#';
  maxDigits?: number;
  done: boolean;
  result?: IvrResult;
  state: string;
  level: string;
  completedMethods: string[];
  attemptsLeft: number;
  /** The step this prompt asks for, to send back with the digits (see ./ivr-ref.ts): the step is then taken without reading the flow first. */
  ref?: string;
}

/** The answer to submitted digits: whether they were accepted, what to say first, and the next prompt. */
export interface IvrReply extends IvrPrompt {
  accepted: boolean;
  notice?: string;
  /** A code was sent (masked destination only). */
  sent?: { channel: CodeChannel; destination: string };
  /** The signed assertion, when these digits completed the verification. */
  assertion?: string;
}

interface Target {
  digit: string;
  channel: CodeChannel;
  contactId: string;
  spoken: string;
}
type Plan = { step: 'pin' } | { step: 'choice'; options: Target[] } | { step: 'code'; target: Target; digits: number } | { step: 'done'; result: IvrResult };

const CHANNELS: Array<[string, CodeChannel, CallerMethod]> = [['1', 'sms', 'otp_sms'], ['2', 'voice', 'otp_voice'], ['3', 'email', 'otp_email']];

/** How a destination is named to the caller: the last four digits of a phone, never an address. */
const spoken = (kind: 'phone' | 'email', masked: string) => (kind === 'phone' ? `your phone number ending in ${masked.slice(-4).split('').join(' ')}` : 'your email address');

function plan(s: Services, c: VerificationSnapshot): Plan {
  const now = s.clock();
  const v = c.flow;
  const state = verificationState(v, now);
  if (state !== 'pending') return { step: 'done', result: state };
  const policy = s.engine.policy(c).verification;
  const completed = v.completed_methods as CallerMethod[];
  if (!policy.levels[v.required_level]) return { step: 'done', result: 'transfer' };
  const before = evaluateLevel(policy, v.required_level, completed, s.methods.categoryOf);
  if (before.satisfied) return { step: 'done', result: 'verified' };
  // a method helps when it meets one more requirement of some alternative of the level
  const helps = (m: CallerMethod) => !completed.includes(m) && evaluateLevel(policy, v.required_level, [...completed, m], s.methods.categoryOf).alternatives.some((a, i) => a.met.length > before.alternatives[i]!.met.length);
  const available = availableMethods(s.methods, c.customer, policy, now);
  const contactOf = (m: CallerMethod) => available.find((a) => a.method === m)?.contacts?.find((x) => x.eligible);

  const last = v.ceremony.otp as unknown as OtpSlot | undefined;
  if (last && !last.consumedAt && new Date(last.expiresAt) > now) {
    const x = available.flatMap((a) => a.contacts ?? []).find((y) => y.id === last.contactId);
    const target = { digit: '*', channel: last.channel, contactId: last.contactId, spoken: x ? spoken(x.kind, x.masked) : 'you' };
    return { step: 'code', target, digits: policy.code.digits };
  }
  const pinHelps = available.some((a) => a.method === 'pin') && helps('pin');
  // PIN tries so far, from the flow's own initial budget
  if (pinHelps && !last && v.attempts_initial - v.attempts_left < PIN_TRIES) return { step: 'pin' };
  const options = CHANNELS.flatMap(([digit, channel, method]) => {
    const x = helps(method) ? contactOf(method) : undefined;
    return x ? [{ digit, channel, contactId: x.id, spoken: spoken(x.kind, x.masked) }] : [];
  });
  if (options.length) return { step: 'choice', options };
  if (pinHelps) return { step: 'pin' };
  return { step: 'done', result: 'transfer' };
}

const label = (t: Target) => (t.channel === 'sms' ? `a text message to ${t.spoken}` : t.channel === 'voice' ? `a phone call to ${t.spoken}` : `an email to ${t.spoken}`);

const DONE_TEXT: Record<IvrResult, string> = {
  verified: 'Thank you. Your identity is verified.',
  failed: 'We could not verify your identity.',
  expired: 'This verification has timed out.',
  canceled: 'This verification was canceled.',
  transfer: 'We could not finish verifying you by phone. An agent will help you.',
};

/** What a plan's digits mean, for the prompt's ref. */
function refOf(id: string, p: Plan): StepRef | undefined {
  if (p.step === 'pin') return { id, step: 'pin' };
  if (p.step === 'choice') return { id, step: 'choice', options: p.options.map((o) => ({ digit: o.digit, channel: o.channel, contactId: o.contactId })) };
  if (p.step === 'code') return { id, step: 'code', target: { channel: p.target.channel, contactId: p.target.contactId } };
  return undefined;
}

/** The plan a ref names (what its digits mean; the texts are said from the stored flow afterwards). */
function planOfRef(r: StepRef): Plan {
  if (r.step === 'choice') return { step: 'choice', options: (r.options ?? []).map((o) => ({ ...o, spoken: '' })) };
  if (r.step === 'code') return { step: 'code', target: { digit: '*', channel: r.target!.channel, contactId: r.target!.contactId, spoken: '' }, digits: 0 };
  return { step: 'pin' };
}

function render(s: Services, v: FlowRecord, p: Plan, now: Date): IvrPrompt {
  const r = refOf(v.id, p);
  const base = { verificationId: v.id, state: verificationState(v, now), level: v.required_level, completedMethods: v.completed_methods, attemptsLeft: Math.max(0, v.attempts_left), ...(r ? { ref: sealRef(s.aead, r) } : {}) };
  switch (p.step) {
    case 'pin':
      return { ...base, step: 'pin', prompt: 'Please enter your PIN, followed by the pound key.', expect: 'pin', finishOnKey: '#', maxDigits: 8, done: false };
    case 'choice':
      return {
        ...base,
        step: 'choice',
        prompt: `We will send you a verification code. ${p.options.map((o) => `For ${label(o)}, press ${o.digit}.`).join(' ')}`,
        expect: 'choice',
        options: p.options.map((o) => ({ digit: o.digit, label: label(o) })),
        maxDigits: 1,
        done: false,
      };
    case 'code':
      return {
        ...base,
        step: 'code',
        prompt: `Please enter the ${p.digits}-digit code we sent to ${p.target.spoken}, followed by the pound key. For a new code, press star, then pound.`,
        expect: 'code',
        finishOnKey: '#',
        maxDigits: p.digits,
        done: false,
      };
    case 'done':
      return { ...base, step: 'done', prompt: DONE_TEXT[p.result], expect: 'none', done: true, result: p.result };
  }
}

/** The prompt for the current step of a verification of the tenant. */
export async function ivrPrompt(s: Services, a: { tenantId: string; id: string; read?: VerificationSnapshot }): Promise<IvrPrompt> {
  const c = a.read ?? (await readVerification(s, a.tenantId, a.id));
  return render(s, c.flow, plan(s, c), s.clock());
}

/** What to tell the caller when a step was refused (never a detail an attacker could use). */
function noticeFor(e: AppError, step: IvrStep): string | undefined {
  const reason = e.detail?.reason;
  if (e.code === 'invalid_factor') return step === 'pin' ? 'That PIN is not correct.' : 'That code is not correct.';
  if (e.code === 'too_many_attempts' && reason === 'resend_cooldown') return 'Please wait a moment before asking for a new code.';
  if (e.code === 'flow_failed') return 'That is not correct.';
  if (e.code === 'flow_state' || e.code === 'flow_expired') return undefined;
  if (step === 'pin') return 'Your PIN cannot be used right now.';
  if (step === 'choice' || step === 'code') return 'We cannot send a code right now.';
  return undefined;
}

/**
 * Applies keyed digits to the current step: a PIN (pound and star ignored), a menu choice (sends a
 * code to the chosen on-file contact), a code, or star for a new code. Returns the next prompt.
 * `read`: the verification as the caller already read it (the Twilio webhook reads it by its
 * CallSid); `ref`: the ref of the prompt these digits answer, which saves that read (the step's claim
 * checks the flow still asks for that step; otherwise nothing is counted and the current prompt is said).
 */
export async function ivrDigits(s: Services, a: { tenantId: string; id: string; digits: string; actor: Actor; origin: Origin; read?: Claimed; ref?: string }): Promise<IvrReply> {
  const opened = a.ref ? openRef(s.aead, a.ref) : undefined;
  const ref = opened && opened.id === a.id ? opened : undefined;
  const read = ref ? undefined : (a.read ?? (await readVerification(s, a.tenantId, a.id)));
  const p = ref ? planOfRef(ref) : plan(s, read!);
  // the verification as the step left it (the step's own statements say it): no second read for the
  // next prompt, except when a step was refused before its claim (the flow over, or a race lost)
  let after: Claimed | undefined = p.step === 'done' ? read : undefined;
  const observe: StepObserver = (o) => {
    after = { ...o.claimed, flow: o.flow };
  };
  // with a ref, the step's claim checks that the flow still asks for it (an attempt's claim has
  // spent one of the budget by then, given back when refused)
  const guard = (spent: boolean): StepGuard | undefined =>
    ref &&
    ((c) => {
      const flow = spent ? { ...c.flow, attempts_left: c.flow.attempts_left + 1 } : c.flow;
      const current = plan(s, { ...c, flow });
      if (matches(ref, { step: current.step, ...(current.step === 'choice' ? { options: current.options } : {}), ...(current.step === 'code' ? { target: current.target } : {}) })) return;
      observe({ flow, claimed: c });
      throw new AppError('flow_state', { reason: 'flow_state' }, 'This step is not expected now.');
    });
  const keyed = a.digits.replace(/[^0-9*#]/g, '');
  const digits = keyed.replace(/[#*]/g, '');
  const ctx = { tenantId: a.tenantId, id: read?.flow.id ?? a.id, actor: a.actor, origin: a.origin, observe };
  let accepted = false;
  let notice: string | undefined;
  let sent: IvrReply['sent'];
  let assertion: string | undefined;
  const send = async (t: Target, again: boolean) => {
    const r = await sendCode(s, { ...ctx, contactId: t.contactId, channel: t.channel, guard: guard(false) });
    sent = { channel: t.channel, destination: r.destination };
    notice = again ? 'We have sent a new code.' : 'Thank you.';
    accepted = true;
  };
  const check = async (fn: () => Promise<{ assertion?: string }>) => {
    assertion = (await fn()).assertion;
    accepted = true;
  };
  try {
    if (p.step === 'pin') {
      if (!digits) {
        notice = 'We did not get your PIN.';
        after = read;
      }
      else await check(() => checkPin(s, { ...ctx, pin: digits, guard: guard(true) }));
    } else if (p.step === 'choice') {
      const o = p.options.find((x) => x.digit === digits);
      if (!o) {
        notice = 'That is not one of the choices.';
        after = read;
      }
      else await send(o, false);
    } else if (p.step === 'code') {
      if (keyed.startsWith('*') && !digits) await send(p.target, true);
      else if (!digits) {
        notice = 'We did not get the code.';
        after = read;
      }
      else await check(() => checkCode(s, { ...ctx, code: digits, guard: guard(true) }));
    }
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    notice = noticeFor(e, p.step);
  }
  const now = s.clock();
  const next = after ? render(s, after.flow, plan(s, after), now) : await ivrPrompt(s, { tenantId: a.tenantId, id: a.id });
  return {
    ...next,
    prompt: notice ? `${notice} ${next.prompt}` : next.prompt,
    accepted,
    ...(notice ? { notice } : {}),
    ...(sent ? { sent } : {}),
    ...(assertion ? { assertion } : {}),
  };
}
