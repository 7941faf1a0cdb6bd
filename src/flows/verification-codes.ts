/**
 * One-time codes for callers, sent only to an on-file contact chosen by its id (the API never takes a
 * destination). The code goes to the customer through the outbox and is never returned, logged or
 * audited; it is stored as an HMAC bound to the flow. Limits: a contact changed within the policy
 * window is refused, a resend cooldown, sends per destination per 10 minutes, per agent and per
 * tenant per minute (exceeding those raises an alert event). A resend replaces the live code but
 * never restores the flow's attempt budget.
 */
import { randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import { hmac } from '../crypto/tokens.js';
import { AppError } from '../domain/errors.js';
import type { CallerMethod } from '../domain/verification-policy.js';
import { normalizeCode } from '../factors/factor.js';
import { audit, eventRecord } from '../services/audit-log.js';
import { renderMessage } from '../services/templates.js';
import type { Origin, Services } from '../services/context.js';
import { AuditRepo } from '../storage/repositories/audit.js';
import { OutboxRepo } from '../storage/repositories/outbox.js';
import { VerificationRepo } from '../storage/repositories/verifications.js';
import { maskContact } from '../customers/masking.js';
import { claimVerificationAttempt, completeMethodSpending, recentlyChanged, stepEvent, verificationPolicy, verificationState, type Actor } from './verification.js';

export type CodeChannel = 'sms' | 'voice' | 'email';

const codeHash = (s: Services, verificationId: string, code: string) => hmac(s.aead.derive('verification-codes'), `${verificationId}:${code}`);

function newCode(digits: number): string {
  let c = '';
  for (let i = 0; i < digits; i++) c += String(randomInt(10));
  return c;
}

/** The code message in the flow's locale (tenant wording first; src/services/templates.ts). A voice call reads the digits one by one. */
const message = (s: Services, v: { tenant_id: string; locale: string | null }, channel: CodeChannel, code: string, minutes: number) =>
  renderMessage(s, { tenantId: v.tenant_id, template: 'verification_code', channel, locale: v.locale, vars: { code: channel === 'voice' ? code.split('').join(' ') : code, minutes } });

export async function sendCode(s: Services, a: { tenantId: string; id: string; contactId: string; channel: CodeChannel; actor: Actor; origin: Origin }) {
  const now = s.clock();
  const v = await s.store.verifications.byId(a.tenantId, a.id);
  if (!v) throw new AppError('not_found');
  const state = verificationState(v, now);
  if (state !== 'pending') throw new AppError(state === 'expired' ? 'flow_expired' : 'flow_state', { state }, 'This verification is already over.');
  const policy = await verificationPolicy(s, a.tenantId);
  const contact = (await s.store.customers.contacts(v.customer_id)).find((c) => c.id === a.contactId);
  if (!contact) throw new AppError('not_found', { contactId: a.contactId }, 'That is not an on-file contact of this customer.');
  const wantKind = a.channel === 'email' ? 'email' : 'phone';
  if (contact.kind !== wantKind) throw new AppError('invalid_request', { channel: a.channel }, `A ${a.channel} code needs ${wantKind === 'email' ? 'an email address' : 'a phone number'}.`);
  const masked = maskContact(contact.kind as 'phone' | 'email', contact.value);
  const refuse = async (e: AppError, reason: string, alert = false) => {
    await audit(s, {
      tenantId: a.tenantId,
      type: alert ? 'verification.send_limit_alert' : 'verification.code_refused',
      outcome: 'denied',
      actor: a.actor,
      target: { type: 'verification', id: v.id },
      origin: a.origin,
      data: { reason, contactId: contact.id, destination: masked, channel: a.channel },
    });
    throw e;
  };
  const customer = await s.store.customers.byId(a.tenantId, v.customer_id);
  if (!customer || recentlyChanged(contact, customer.created_at, policy, now)) {
    await refuse(new AppError('contact_recently_changed', { contactId: contact.id, changedAt: contact.changed_at.toISOString() }), 'contact_recently_changed');
  }
  const last = await s.store.verifications.lastCode(v.id);
  const cooldownMs = policy.code.resendCooldownSeconds * 1000;
  if (last && now.getTime() - last.created_at.getTime() < cooldownMs) {
    const wait = Math.ceil((last.created_at.getTime() + cooldownMs - now.getTime()) / 1000);
    await refuse(new AppError('too_many_attempts', { retryAfterSeconds: wait, reason: 'resend_cooldown' }, 'Wait before sending another code.'), 'resend_cooldown');
  }
  const dest = await s.store.rateWindows.hit(`send:dest:${a.tenantId}:${contact.value}`, 10 * 60_000, now);
  if (dest.count > policy.code.sendsPerDestinationPer10Min) {
    await refuse(new AppError('rate_limited', { retryAfterSeconds: Math.ceil((dest.resetAt.getTime() - now.getTime()) / 1000), reason: 'destination_limit' }), 'destination_limit');
  }
  // the per-agent limit is for people; an IVR (API key, telephony webhook) serves many calls and
  // stays under the per-destination and per-tenant limits
  if (a.actor.type === 'user') {
    const agent = await s.store.rateWindows.hit(`send:user:${a.actor.id}`, 60_000, now);
    if (agent.count > policy.limits.sendsPerAgentPerMinute) {
      await refuse(new AppError('rate_limited', { retryAfterSeconds: Math.ceil((agent.resetAt.getTime() - now.getTime()) / 1000), reason: 'agent_limit' }), 'agent_limit', true);
    }
  }
  // every send of the tenant counts here: spread over 8 rows so concurrent sends do not queue on one
  const tenantWindow = await s.store.rateWindows.hitSharded(`send:tenant:${a.tenantId}`, 8, 60_000, now);
  if (tenantWindow.count > policy.limits.sendsPerTenantPerMinute) {
    await refuse(new AppError('rate_limited', { retryAfterSeconds: Math.ceil((tenantWindow.resetAt.getTime() - now.getTime()) / 1000), reason: 'tenant_limit' }), 'tenant_limit', true);
  }

  const code = newCode(policy.code.digits);
  const expiresAt = new Date(now.getTime() + policy.code.ttlMinutes * 60_000);
  const text = await message(s, v, a.channel, code, policy.code.ttlMinutes);
  const sent = eventRecord(s, {
    tenantId: a.tenantId,
    type: 'verification.code_sent',
    outcome: 'success',
    actor: a.actor,
    target: { type: 'verification', id: v.id },
    origin: a.origin,
    data: { contactId: contact.id, destination: masked, channel: a.channel, resend: last !== undefined },
  });
  // the code row, its message and its event are written together (transactional outbox): a crash
  // never leaves a code on its way to the customer that the audit log does not show
  await s.store.db.transaction().execute(async (trx) => {
    await new VerificationRepo(trx).putCode({ id: randomUUID(), verification_id: v.id, tenant_id: a.tenantId, contact_id: contact.id, channel: a.channel, code_hash: codeHash(s, v.id, code), created_at: now, expires_at: expiresAt });
    await new OutboxRepo(trx).add({ id: randomUUID(), tenantId: a.tenantId, channel: a.channel, recipient: contact.value, template: `verification_code_${a.channel}`, subject: text.subject, body: text.body, locale: text.locale, expiresAt, now });
    await new AuditRepo(trx).append(sent);
  });
  return { sent: true as const, channel: a.channel, contactId: contact.id, destination: masked, expiresAt: expiresAt.toISOString(), resendAvailableAt: new Date(now.getTime() + cooldownMs).toISOString() };
}

export async function checkCode(s: Services, a: { tenantId: string; id: string; code: string; actor: Actor; origin: Origin }) {
  const v = await claimVerificationAttempt(s, { ...a, method: 'otp' });
  const now = s.clock();
  const last = await s.store.verifications.lastCode(v.id);
  const method = last ? (`otp_${last.channel}` as CallerMethod) : 'otp_sms';
  const code = normalizeCode(a.code);
  const live = last && !last.consumed_at && !last.superseded_at && last.expires_at > now;
  const matches = live && /^\d{4,10}$/.test(code) && timingSafeEqual(codeHash(s, v.id, code), last.code_hash);
  // the code is spent in the transaction that records the method (and the verified state)
  const done = matches ? await completeMethodSpending(s, v, { ...a, method }, (trx) => new VerificationRepo(trx).consumeCode(last.id, now)) : undefined;
  if (!done) {
    const reason = !last ? 'no_code_sent' : !live ? (last.consumed_at ? 'code_used' : last.expires_at <= now ? 'code_expired' : 'code_replaced') : matches ? 'code_used' : 'wrong_code';
    await stepEvent(s, v, { ...a, method }, 'failure', { reason });
    throw new AppError('invalid_code', { attemptsLeft: Math.max(0, v.attempts_left), state: v.attempts_left <= 0 ? 'failed' : 'pending', reason });
  }
  return done;
}
