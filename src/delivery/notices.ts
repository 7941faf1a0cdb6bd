/**
 * Messages to people (setup links, security notices) go into the outbox table in the same place as
 * the action; the delivery worker (./worker.ts) sends them through the configured provider or, with
 * none configured (dev), they stay there for the outbox reader. Their wording comes from the tenant's
 * templates or the built-in texts (./templates.ts, src/services/templates.ts), in the tenant's
 * default locale.
 */
import { randomUUID } from 'node:crypto';
import type { Services } from '../services/context.js';
import { renderMessage } from '../services/templates.js';
import { OutboxRepo } from '../storage/repositories/outbox.js';
import type { TemplateName } from './templates.js';

export interface Notice {
  tenantId: string;
  to: string;
  template: TemplateName;
  vars: Record<string, string | number>;
}

export async function queueEmail(s: Services, n: Notice): Promise<void> {
  const text = await renderMessage(s, { tenantId: n.tenantId, template: n.template, channel: 'email', vars: n.vars });
  await new OutboxRepo(s.store.db, s.aead).add({ id: randomUUID(), tenantId: n.tenantId, channel: 'email', recipient: n.to, template: n.template, subject: text.subject, body: text.body, locale: text.locale, now: s.clock() });
}

/** The notices and their values (the texts are templates; see ./templates.ts). */
export const templates = {
  invitation: (a: { tenantName: string; link: string; hours: number }) => ({ template: 'invitation' as const, vars: a }),
  recoveryCodeUsed: (a: { remaining: number }) => ({ template: 'recovery_code_used' as const, vars: a }),
  factorChanged: (a: { action: 'added' | 'removed' | 'suspended' | 'resumed'; label: string }) => ({ template: `factor_${a.action}` as const, vars: { label: a.label } }),
  recoveryCodesRegenerated: () => ({ template: 'recovery_codes_regenerated' as const, vars: {} }),
  passwordChanged: () => ({ template: 'password_changed' as const, vars: {} }),
};
