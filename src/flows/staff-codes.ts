/**
 * Staff codes by SMS and voice call: NIST "restricted" authenticators, so only ever sent to a number
 * the user verified when enrolling it, and never enough for the top assurance level (their trait).
 *  - Enrolling a number (security page, fresh authentication): a flow of kind `enrollment` in state
 *    `verify_phone` holds the number sealed and a code sent to it; the right code binds the number
 *    (a `phone` credential, sealed) and replaces an earlier one in the same statement. A new number
 *    is a new enrollment, announced to the old number and to the user's email. The user is told the
 *    risk (SIM swap, interception) in the answer.
 *  - Signing in: after the password, `sendSigninCode` sends a code to the enrolled number (never to
 *    a number in the request), with the same limits as callers' codes: a resend cooldown, sends per
 *    destination per 10 minutes, per user and per address per minute, per tenant per minute.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { maskContact } from '../customers/masking.js';
import { normalizePhone } from '../customers/fields.js';
import { hashToken } from '../crypto/tokens.js';
import { AppError } from '../domain/errors.js';
import type { FlowRecord } from '../engine/flow.js';
import { OTP_SLOT, STAFF_PHONE, type CodeChannel, type OtpSlot } from '../methods/otp/index.js';
import { queueEmail, templates } from '../delivery/notices.js';
import { eventRecord } from '../services/audit-log.js';
import type { Origin, Services } from '../services/context.js';
import { currentPolicy } from '../services/policies.js';
import { requireFreshAuth } from '../services/self-service.js';
import type { Principal } from '../services/sessions.js';
import { renderFrom } from '../services/templates.js';
import { insertRows, writeChallenge } from '../storage/repositories/flow-records.js';
import { outboxValues } from '../storage/repositories/outbox.js';
import { enrollmentFlow, enrollmentHooks } from './enrollment-kind.js';

export const RESTRICTED_NOTICE =
  'Codes by text message or phone call are a restricted method: a SIM swap or an intercepted message can give them to someone else. Prefer a security key or an authenticator app; keep this as a backup.';

const numberAad = (flowId: string) => `phone-enrollment:${flowId}`;
const phoneAad = (credentialId: string) => `phone:${credentialId}`;
type PhoneChannel = Exclude<CodeChannel, 'email'>;

/** The code as an outbox row (sealed), rendered from the tenant's template. */
function codeMessage(s: Services, a: { tenantId: string; channel: PhoneChannel; to: string; code: string; minutes: number; expiresAt: Date; now: Date; template?: Parameters<typeof renderFrom>[0] }) {
  const text = renderFrom(a.template, { template: 'signin_code', channel: a.channel, vars: { code: a.channel === 'voice' ? a.code.split('').join(' ') : a.code, minutes: a.minutes } });
  return outboxValues({ id: randomUUID(), tenantId: a.tenantId, channel: a.channel, recipient: a.to, template: `signin_code_${a.channel}`, subject: text.subject, body: text.body, locale: text.locale, expiresAt: a.expiresAt, now: a.now }, s.aead);
}

function allowChannel(policy: { mfa: { allowedFactors: readonly string[] } }, channel: PhoneChannel): void {
  if (!policy.mfa.allowedFactors.includes(`otp_${channel}`)) throw new AppError('forbidden', undefined, `Codes by ${channel === 'sms' ? 'text message' : 'phone call'} are not allowed by your organization.`);
}

export async function beginPhoneEnrollment(s: Services, p: Principal, a: { number: string; channel: PhoneChannel; region?: string; origin: Origin }) {
  const { policy } = await currentPolicy(s, p.tenantId);
  await requireFreshAuth(s, p, policy);
  allowChannel(policy, a.channel);
  const number = normalizePhone(a.number, (a.region ?? 'US') as never);
  if (!number) throw new AppError('invalid_request', { field: 'number' }, 'That is not a valid phone number.');
  const now = s.clock();
  const id = randomUUID();
  const method = s.methods.get(`otp_${a.channel}`)!;
  const flowStub = { id } as FlowRecord;
  const challenge = method.challenge!({ flow: flowStub, policy, now, ceremony: undefined, loaded: {}, params: { contactId: 'enrolling' } });
  const masked = maskContact('phone', number);
  const flow = await s.store.flows.create(
    enrollmentFlow(p, {
      id,
      state: 'verify_phone',
      ceremony: { [OTP_SLOT]: challenge.ceremony },
      context: { number: s.aead.seal(Buffer.from(number), numberAad(id)).toString('base64'), masked, channel: a.channel },
      now,
      expiresAt: challenge.deliver!.expiresAt,
    }),
    [eventRecord(s, { tenantId: p.tenantId, type: 'factor.enrollment_started', outcome: 'info', actor: { type: 'user', id: p.userId }, target: { type: 'flow', id }, origin: a.origin, data: { kind: STAFF_PHONE, channel: a.channel, destination: masked } })],
  );
  const msg = codeMessage(s, { tenantId: p.tenantId, channel: a.channel, to: number, code: challenge.deliver!.secret, minutes: policy.verification.code.ttlMinutes, expiresAt: challenge.deliver!.expiresAt, now, template: await s.store.templates.forRender(p.tenantId, 'signin_code', a.channel) });
  await s.store.db.insertInto('outbox').values(msg).execute();
  return { enrollmentId: flow.id, destination: masked, expiresAt: flow.expires_at.toISOString(), warning: RESTRICTED_NOTICE };
}

export async function confirmPhoneEnrollment(s: Services, p: Principal, a: { enrollmentId: string; code: string; origin: Origin }) {
  const { policy } = await currentPolicy(s, p.tenantId);
  await requireFreshAuth(s, p, policy);
  const previous = await s.store.credentials.active({ type: 'user', id: p.userId }, STAFF_PHONE);
  let bound: { id: string; masked: string; number: string } | undefined;
  const hooks = enrollmentHooks<{ factorId: string; destination: string }>(p, { origin: a.origin, kind: STAFF_PHONE, state: 'verify_phone' }, {
    async plan(c) {
      const number = s.aead.open(Buffer.from(String(c.flow.context.number), 'base64'), numberAad(c.flow.id)).toString('utf8');
      const id = randomUUID();
      bound = { id, masked: String(c.flow.context.masked), number };
      const channel = String(c.flow.context.channel);
      return {
        state: 'completed',
        requireMethodAbsent: true,
        extra: [
          // a new number replaces the old one in the same statement (a number change is a new enrollment)
          { name: 'oldph', sql: sql`DELETE FROM credentials WHERE subject_type = 'user' AND subject_id = ${p.userId} AND kind = ${STAFF_PHONE} RETURNING 1` },
          {
            name: 'ph',
            required: true,
            sql: sql`INSERT INTO credentials (id, tenant_id, subject_type, subject_id, kind, label, status, material, meta, created_at, confirmed_at)
                     SELECT ${id}, ${p.tenantId}, 'user', ${p.userId}, ${STAFF_PHONE}, ${`Phone ${bound.masked}`}, 'active', ${s.aead.seal(Buffer.from(number), phoneAad(id))}, ${JSON.stringify({ destination: bound.masked, channel })}::jsonb, ${c.now}, ${c.now}
                     WHERE (SELECT count(*) FROM oldph) >= 0 RETURNING 1`,
          },
        ],
        events: [{ tenantId: p.tenantId, type: 'factor.enrolled', outcome: 'success', actor: { type: 'user', id: p.userId }, target: { type: 'factor', id }, origin: a.origin, data: { kind: STAFF_PHONE, destination: bound.masked, replaced: previous?.id ?? null } }],
      };
    },
    async done() {
      return { factorId: bound!.id, destination: bound!.masked };
    },
  });
  const r = await s.engine.attempt({ flowId: a.enrollmentId, tenantId: p.tenantId, states: ['verify_phone'], method: s.methods.get('otp_sms')!, answer: { code: a.code } }, hooks);
  await queueEmail(s, { tenantId: p.tenantId, to: p.userEmail, ...templates.factorChanged({ action: 'added', label: `Phone ${r.destination}` }) });
  if (previous?.material) {
    // the old number hears that it no longer receives this account's codes
    const old = s.aead.open(previous.material, phoneAad(previous.id)).toString('utf8');
    if (old !== bound!.number) {
      const text = renderFrom(await s.store.templates.forRender(p.tenantId, 'phone_replaced', 'sms'), { template: 'phone_replaced', channel: 'sms', vars: { number: maskContact('phone', old) } });
      await s.store.db.insertInto('outbox').values(outboxValues({ id: randomUUID(), tenantId: p.tenantId, channel: 'sms', recipient: old, template: 'phone_replaced', subject: text.subject, body: text.body, locale: text.locale, now: s.clock() }, s.aead)).execute();
    }
  }
  return { ...r, warning: RESTRICTED_NOTICE };
}

/** A sign-in code to the enrolled number, after the password (state second_factor). */
export async function sendSigninCode(s: Services, a: { id: string; token: string; channel: PhoneChannel; origin: Origin }) {
  const now = s.clock();
  const c = await s.engine.read({
    flowId: a.id,
    secretHash: hashToken(a.token),
    states: ['second_factor'],
    kindNeeds: ['account', 'phone'],
    template: { name: 'signin_code', channel: a.channel },
    rates: [
      { name: 'dest', key: sql<string>`${'send:dest:'} || f.tenant_id || ':' || coalesce((SELECT cr.id::text FROM credentials cr WHERE cr.subject_type = 'user' AND cr.subject_id = f.subject_id AND cr.kind = 'phone' AND cr.status = 'active' LIMIT 1), 'none')`, windowMs: 10 * 60_000 },
      { name: 'user', key: sql<string>`${'send:staff:'} || f.subject_id`, windowMs: 60_000 },
      { name: 'ip', key: sql<string>`${`send:ip:${a.origin.ip ?? 'none'}`}`, windowMs: 60_000 },
      { name: 'tenant', key: sql<string>`${'send:tenant:'} || f.tenant_id`, windowMs: 60_000, shards: 8 },
    ],
  });
  const policy = s.engine.policy(c);
  const user = c.loaded.account;
  if (!user || user.id !== c.flow.subject_id) throw new AppError('flow_invalid');
  const phone = c.loaded.credential;
  const offered = (c.flow.context.stepUp as { methods?: string[] } | undefined)?.methods;
  if (!phone?.material || !policy.mfa.allowedFactors.includes(`otp_${a.channel}`) || (offered && !offered.includes(`otp_${a.channel}`))) {
    throw new AppError('invalid_request', { method: `otp_${a.channel}`, reason: 'method_not_allowed' }, 'That sign-in method is not available for this account.');
  }
  const vp = policy.verification;
  const last = c.flow.ceremony[OTP_SLOT] as unknown as OtpSlot | undefined;
  const cooldownMs = vp.code.resendCooldownSeconds * 1000;
  if (last && now.getTime() - new Date(last.sentAt).getTime() < cooldownMs) {
    throw new AppError('too_many_attempts', { retryAfterSeconds: Math.ceil((new Date(last.sentAt).getTime() + cooldownMs - now.getTime()) / 1000), reason: 'resend_cooldown' }, 'Wait before sending another code.');
  }
  const over = (name: string, limit: number, reason: 'destination_limit' | 'agent_limit' | 'tenant_limit') => {
    const r = c.rates[name]!;
    if (r.count > limit) throw new AppError('rate_limited', { retryAfterSeconds: Math.ceil((r.resetAt.getTime() - now.getTime()) / 1000), reason });
  };
  over('dest', vp.code.sendsPerDestinationPer10Min, 'destination_limit');
  over('user', vp.limits.sendsPerAgentPerMinute, 'agent_limit');
  over('ip', vp.limits.sendsPerAgentPerMinute, 'agent_limit');
  over('tenant', vp.limits.sendsPerTenantPerMinute, 'tenant_limit');
  const number = s.aead.open(phone.material, phoneAad(phone.id)).toString('utf8');
  const challenge = s.methods.get(`otp_${a.channel}`)!.challenge!({ flow: c.flow, policy, now, ceremony: last as never, loaded: c.loaded, params: { contactId: phone.id } });
  const masked = maskContact('phone', number);
  const msg = codeMessage(s, { tenantId: c.flow.tenant_id, channel: a.channel, to: number, code: challenge.deliver!.secret, minutes: vp.code.ttlMinutes, expiresAt: challenge.deliver!.expiresAt, now, ...(c.template ? { template: c.template } : {}) });
  const ok = await writeChallenge(s.store.db, {
    flowId: c.flow.id,
    states: ['second_factor'],
    setSlots: { [OTP_SLOT]: challenge.ceremony },
    events: [eventRecord(s, { tenantId: c.flow.tenant_id, type: 'auth.code_sent', outcome: 'success', actor: { type: 'user', id: user.id }, target: { type: 'flow', id: c.flow.id }, origin: a.origin, data: { channel: a.channel, destination: masked } })],
    extra: [{ name: 'msg', sql: sql`${insertRows('outbox', [msg as unknown as Record<string, unknown>])} RETURNING 1` }],
    now,
  });
  if (!ok) throw new AppError('flow_state', { reason: 'flow_state' });
  return { sent: true as const, channel: a.channel, destination: masked, expiresAt: challenge.deliver!.expiresAt.toISOString(), resendAvailableAt: new Date(now.getTime() + cooldownMs).toISOString() };
}
