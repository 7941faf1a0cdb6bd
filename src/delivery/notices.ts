/**
 * Messages to people (setup links, security notices) go into the outbox table in the same place as
 * the action; the delivery worker (./worker.ts) sends them through the configured provider or, with
 * none configured (dev), they stay there for the outbox reader.
 */
import { randomUUID } from 'node:crypto';
import type { Services } from '../services/context.js';

export interface Notice {
  tenantId: string;
  to: string;
  template: string;
  subject: string;
  body: string;
}

export async function queueEmail(s: Services, n: Notice): Promise<void> {
  await s.store.outbox.add({ id: randomUUID(), tenantId: n.tenantId, channel: 'email', recipient: n.to, template: n.template, subject: n.subject, body: n.body, now: s.clock() });
}

export const templates = {
  invitation: (a: { tenantName: string; link: string; hours: number }) => ({
    template: 'invitation',
    subject: `Set up your ${a.tenantName} account`,
    body: `You have been invited to ${a.tenantName} on Callwarden.\n\nChoose your password here (the link works once, for ${a.hours} hours):\n${a.link}\n\nIf you did not expect this, ignore this message.`,
  }),
  recoveryCodeUsed: (a: { remaining: number }) => ({
    template: 'recovery_code_used',
    subject: 'A recovery code was used to sign in',
    body: `A recovery code was just used to sign in to your account. ${a.remaining} unused codes remain.\n\nIf this was not you, contact your administrator now.`,
  }),
  factorChanged: (a: { action: 'added' | 'removed'; label: string }) => ({
    template: `factor_${a.action}`,
    subject: `A sign-in method was ${a.action}`,
    body: `The sign-in method "${a.label}" was ${a.action} on your account.\n\nIf this was not you, contact your administrator now.`,
  }),
  recoveryCodesRegenerated: () => ({
    template: 'recovery_codes_regenerated',
    subject: 'New recovery codes were created',
    body: 'New recovery codes were created for your account; the old ones no longer work.\n\nIf this was not you, contact your administrator now.',
  }),
  passwordChanged: () => ({
    template: 'password_changed',
    subject: 'Your password was changed',
    body: 'The password of your account was changed.\n\nIf this was not you, contact your administrator now.',
  }),
};
