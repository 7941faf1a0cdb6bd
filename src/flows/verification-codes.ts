/**
 * One-time codes for callers, sent only to an on-file contact chosen by its id (the API never takes a
 * destination). The code goes to the customer through the outbox and is never returned, logged or
 * audited; the flow keeps only its HMAC in the `otp` ceremony slot (src/methods/otp). Limits: a
 * contact changed within the policy window is refused, a resend cooldown, sends per destination per
 * 10 minutes, per agent and per tenant per minute (exceeding those raises an alert event). A resend
 * replaces the live code but never restores the flow's attempt budget.
 *
 * A send is two statements after the session: the claim (flow, policy, contacts, template, the
 * send counters), then the slot, the outbox message and the event together.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { maskContact } from '../customers/masking.js';
import { AppError } from '../domain/errors.js';
import { OTP_SLOT, type CodeChannel, type OtpSlot } from '../methods/otp/index.js';
import { audit, eventRecord } from '../services/audit-log.js';
import type { Origin, Services } from '../services/context.js';
import { renderFrom } from '../services/templates.js';
import { insertRows, writeChallenge } from '../storage/repositories/flow-records.js';
import { outboxValues } from '../storage/repositories/outbox.js';
import { recentlyChanged, rethrowing, verificationStep, type Actor, type StepGuard, type StepObserver } from './verification.js';

export type { CodeChannel };

export async function sendCode(s: Services, a: { tenantId: string; id: string; contactId: string; channel: CodeChannel; actor: Actor; origin: Origin; observe?: StepObserver; guard?: StepGuard }) {
  const now = s.clock();
  const isPerson = a.actor.type === 'user';
  // the per-destination key names the number or address itself (the same number on two customers
  // is one destination); it is read in the statement, never taken from the request
  const destKey = sql<string>`${`send:dest:${a.tenantId}:`} || coalesce((SELECT cc.value FROM customer_contacts cc WHERE cc.id = ${a.contactId}::uuid AND cc.customer_id = f.subject_id), 'none')`;
  // one statement reads the flow, the contacts, the template and counts this request on the send
  // limits (a request refused for its cooldown counts too: each is a try to send)
  const c = await rethrowing(
    s.engine.read({
      flowId: a.id,
      tenantId: a.tenantId,
      states: ['pending'],
      kindNeeds: ['customer'],
      template: { name: 'verification_code', channel: a.channel },
      rates: [
        { name: 'dest', key: destKey, windowMs: 10 * 60_000 },
        // the per-agent limit is for people; an IVR (API key, telephony webhook) serves many calls and
        // stays under the per-destination and per-tenant limits
        ...(isPerson ? [{ name: 'agent', key: sql<string>`${`send:user:${a.actor.id}`}`, windowMs: 60_000 }] : []),
        // every send of the tenant counts here: spread over 8 rows so concurrent sends do not queue on one
        { name: 'tenant', key: sql<string>`${`send:tenant:${a.tenantId}`}`, windowMs: 60_000, shards: 8 },
      ],
    }),
    'other',
  );
  a.guard?.(c);
  const contact = c.customer?.contacts.find((x) => x.id === a.contactId);
  if (!contact) throw new AppError('not_found', { contactId: a.contactId }, 'That is not an on-file contact of this customer.');
  const wantKind = a.channel === 'email' ? 'email' : 'phone';
  if (contact.kind !== wantKind) throw new AppError('invalid_request', { channel: a.channel }, `A ${a.channel} code needs ${wantKind === 'email' ? 'an email address' : 'a phone number'}.`);
  const policy = s.engine.policy(c);
  const vp = policy.verification;
  const v = c.flow;
  const masked = maskContact(contact.kind, contact.value);
  const refuse = async (e: AppError, reason: string, alert = false): Promise<never> => {
    a.observe?.({ flow: v, claimed: c }); // refused: the flow stays as it was
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
  if (!c.customer || recentlyChanged(contact, c.customer.createdAt, vp, now)) {
    await refuse(new AppError('contact_recently_changed', { contactId: contact.id, changedAt: contact.changedAt.toISOString() }), 'contact_recently_changed');
  }
  const last = v.ceremony[OTP_SLOT] as unknown as OtpSlot | undefined;
  const cooldownMs = vp.code.resendCooldownSeconds * 1000;
  if (last && now.getTime() - new Date(last.sentAt).getTime() < cooldownMs) {
    const wait = Math.ceil((new Date(last.sentAt).getTime() + cooldownMs - now.getTime()) / 1000);
    await refuse(new AppError('too_many_attempts', { retryAfterSeconds: wait, reason: 'resend_cooldown' }, 'Wait before sending another code.'), 'resend_cooldown');
  }
  const retry = (r: { resetAt: Date }) => Math.ceil((r.resetAt.getTime() - now.getTime()) / 1000);
  const dest = c.rates.dest!;
  if (dest.count > vp.code.sendsPerDestinationPer10Min) await refuse(new AppError('rate_limited', { retryAfterSeconds: retry(dest), reason: 'destination_limit' }), 'destination_limit');
  const agent = c.rates.agent;
  if (agent && agent.count > vp.limits.sendsPerAgentPerMinute) await refuse(new AppError('rate_limited', { retryAfterSeconds: retry(agent), reason: 'agent_limit' }), 'agent_limit', true);
  const tenant = c.rates.tenant!;
  if (tenant.count > vp.limits.sendsPerTenantPerMinute) await refuse(new AppError('rate_limited', { retryAfterSeconds: retry(tenant), reason: 'tenant_limit' }), 'tenant_limit', true);

  const challenge = s.methods.get(`otp_${a.channel}`)!.challenge!({ flow: v, policy, now, ceremony: last as unknown as Record<string, unknown> | undefined, loaded: c.loaded, params: { contactId: contact.id } });
  const slot = challenge.ceremony;
  const { secret: code, expiresAt } = challenge.deliver!;
  const locale = (v.context.locale as string | null | undefined) ?? null;
  const text = renderFrom(c.template, { template: 'verification_code', channel: a.channel, locale, vars: { code: a.channel === 'voice' ? code.split('').join(' ') : code, minutes: vp.code.ttlMinutes } });
  const sent = eventRecord(s, {
    tenantId: a.tenantId,
    type: 'verification.code_sent',
    outcome: 'success',
    actor: a.actor,
    target: { type: 'verification', id: v.id },
    origin: a.origin,
    data: { contactId: contact.id, destination: masked, channel: a.channel, resend: last !== undefined },
  });
  const message = outboxValues(
    { id: randomUUID(), tenantId: a.tenantId, channel: a.channel, recipient: contact.value, template: `verification_code_${a.channel}`, subject: text.subject, body: text.body, locale: text.locale, expiresAt, now },
    s.aead,
  );
  // the code's slot, its message and its event are written together (transactional outbox): a crash
  // never leaves a code on its way to the customer that the audit log does not show
  const ok = await writeChallenge(s.store.db, {
    flowId: v.id,
    states: ['pending'],
    setSlots: { [OTP_SLOT]: slot },
    events: [sent],
    extra: [{ name: 'msg', sql: sql`${insertRows('outbox', [message as unknown as Record<string, unknown>])} RETURNING 1` }],
    now,
  });
  if (!ok) throw new AppError('flow_state', { state: 'over' }, 'This verification is already over.');
  a.observe?.({ flow: { ...v, ceremony: { ...v.ceremony, [OTP_SLOT]: slot as unknown as Record<string, unknown> } }, claimed: c });
  return { sent: true as const, channel: a.channel, contactId: contact.id, destination: masked, expiresAt: expiresAt.toISOString(), resendAvailableAt: new Date(now.getTime() + cooldownMs).toISOString() };
}

export function checkCode(s: Services, a: { tenantId: string; id: string; code: string; actor: Actor; origin: Origin; observe?: StepObserver; guard?: StepGuard }) {
  // any of the code methods checks the slot; the method recorded is the slot's channel
  return verificationStep(s, { ...a, method: s.methods.get('otp_sms')!, answer: { code: a.code } });
}
