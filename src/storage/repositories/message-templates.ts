/**
 * A tenant's own message templates (per template, locale and channel) and its default locale.
 * `forRender` is the one statement a message costs: the tenant's name and default locale with every
 * locale variant it has of the template. `apply` writes a change of the set (with its audit events)
 * in one transaction.
 */
import type { Selectable } from 'kysely';
import type { Db } from '../db.js';
import type { MessageTemplatesTable } from '../schema-customer-factors.js';
import { auditRow, type AuditEvent } from './audit.js';

export type MessageTemplateRow = Selectable<MessageTemplatesTable>;
export interface TemplateWrite {
  template: string;
  locale: string;
  channel: 'sms' | 'voice' | 'email';
  subject: string;
  body: string;
}
export type TemplateKey = Pick<TemplateWrite, 'template' | 'locale' | 'channel'>;
export interface RenderSource {
  tenantName: string;
  defaultLocale: string;
  /** The tenant's variants of the template on this channel, any locale. */
  variants: Array<{ locale: string; subject: string; body: string }>;
}

export class MessageTemplateRepo {
  constructor(private readonly db: Db) {}

  async forRender(tenantId: string, template: string, channel: string): Promise<RenderSource | undefined> {
    const rows = await this.db
      .selectFrom('tenants as t')
      .leftJoin('message_templates as m', (j) => j.onRef('m.tenant_id', '=', 't.id').on('m.template', '=', template).on('m.channel', '=', channel as TemplateWrite['channel']))
      .select(['t.name', 't.default_locale', 'm.locale', 'm.subject', 'm.body'])
      .where('t.id', '=', tenantId)
      .execute();
    const first = rows[0];
    if (!first) return undefined;
    const variants = rows.flatMap((r) => (r.locale !== null && r.body !== null ? [{ locale: r.locale, subject: r.subject ?? '', body: r.body }] : []));
    return { tenantName: first.name, defaultLocale: first.default_locale, variants };
  }

  list(tenantId: string): Promise<MessageTemplateRow[]> {
    return this.db.selectFrom('message_templates').selectAll().where('tenant_id', '=', tenantId).orderBy('template').orderBy('locale').orderBy('channel').execute();
  }

  async defaultLocale(tenantId: string): Promise<string> {
    const r = await this.db.selectFrom('tenants').select('default_locale').where('id', '=', tenantId).executeTakeFirst();
    return r?.default_locale ?? 'en';
  }

  /**
   * Applies a change to the tenant's templates: upserts (new or changed wording), removals, and, when
   * given, a new default locale, with the audit events, in one transaction.
   */
  async apply(tenantId: string, c: { upsert: TemplateWrite[]; remove: TemplateKey[]; defaultLocale?: string; by: string | null; now: Date; events: AuditEvent[] }): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      if (c.remove.length) {
        await trx
          .deleteFrom('message_templates')
          .where('tenant_id', '=', tenantId)
          .where((eb) => eb.or(c.remove.map((k) => eb.and([eb('template', '=', k.template), eb('locale', '=', k.locale), eb('channel', '=', k.channel)]))))
          .execute();
      }
      for (const r of c.upsert) {
        const set = { subject: r.subject, body: r.body, updated_at: c.now, updated_by: c.by };
        await trx
          .insertInto('message_templates')
          .values({ tenant_id: tenantId, template: r.template, locale: r.locale, channel: r.channel, ...set })
          .onConflict((oc) => oc.columns(['tenant_id', 'template', 'locale', 'channel']).doUpdateSet(set))
          .execute();
      }
      if (c.defaultLocale) await trx.updateTable('tenants').set({ default_locale: c.defaultLocale }).where('id', '=', tenantId).execute();
      if (c.events.length) await trx.insertInto('audit_events').values(c.events.map(auditRow)).execute();
    });
  }
}
