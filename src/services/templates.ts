/**
 * Message wording per tenant and locale. A message is written from the first text found, in this
 * order: the tenant's own template in the wanted locale (es-MX, then es), in the tenant's default
 * locale, in 'en'; then the built-in text in the same order of locales. The wanted locale is the
 * verification's (given when it was started) or else the tenant's default. Administrators with
 * policy.write read and replace the tenant's templates (validated, audited without the texts).
 */
import { AppError } from '../domain/errors.js';
import {
  builtinTemplates, localeChain, normalizeLocale, render, templateDefs, validateTemplate,
  type TemplateChannel, type TemplateIssue, type TemplateName, type TemplateText,
} from '../delivery/templates.js';
import type { RenderSource, TemplateKey, TemplateWrite } from '../storage/repositories/message-templates.js';
import { eventRecord } from './audit-log.js';
import type { Origin, Services } from './context.js';
import type { Actor } from './users.js';

export interface RenderedMessage extends TemplateText {
  /** The locale of the text used (more specific when the wanted one shares its language). */
  locale: string;
  source: 'tenant' | 'builtin';
}

export async function renderMessage(
  s: Services,
  m: { tenantId: string; template: TemplateName; channel: TemplateChannel; locale?: string | null; vars: Record<string, string | number> },
): Promise<RenderedMessage> {
  return renderFrom(await s.store.templates.forRender(m.tenantId, m.template, m.channel), m);
}

/** The message from a template source already read (e.g. with a flow's claim). */
export function renderFrom(
  src: RenderSource | undefined,
  m: { template: TemplateName; channel: TemplateChannel; locale?: string | null; vars: Record<string, string | number> },
): RenderedMessage {
  const defaultLocale = src?.defaultLocale ?? 'en';
  const wanted = (m.locale && normalizeLocale(m.locale)) || defaultLocale;
  const chain = localeChain(wanted, defaultLocale, 'en');
  const vars = { tenantName: src?.tenantName ?? 'Callwarden', ...m.vars };
  const pick = (locale: string, source: RenderedMessage['source'], t: TemplateText) => ({ ...render(t, vars), locale: wanted.split('-')[0] === locale ? wanted : locale, source });
  for (const l of chain) {
    const own = src?.variants.find((v) => v.locale === l);
    if (own) return pick(l, 'tenant', own);
  }
  for (const l of chain) {
    const builtin = builtinTemplates[m.template][l]?.[m.channel];
    if (builtin) return pick(l, 'builtin', builtin);
  }
  throw new Error(`no built-in text for ${m.template} on ${m.channel}`);
}

const keyOf = (t: TemplateKey) => `${t.template}/${t.locale}/${t.channel}`;

/** The tenant's templates, the built-in texts and what each template may contain. */
export async function getTemplates(s: Services, tenantId: string) {
  const [rows, defaultLocale] = await Promise.all([s.store.templates.list(tenantId), s.store.templates.defaultLocale(tenantId)]);
  const builtin = Object.entries(builtinTemplates).flatMap(([template, locales]) =>
    Object.entries(locales).flatMap(([locale, channels]) => Object.entries(channels).map(([channel, t]) => ({ template, locale, channel, subject: t!.subject, body: t!.body }))),
  );
  return {
    defaultLocale,
    templates: rows.map((r) => ({ template: r.template, locale: r.locale, channel: r.channel, subject: r.subject, body: r.body, updatedAt: r.updated_at.toISOString() })),
    builtin,
    definitions: Object.entries(templateDefs).map(([template, d]) => ({ template, channels: [...d.channels], placeholders: [...d.placeholders], required: [...d.required] })),
  };
}

/**
 * Replaces the tenant's templates with the given set (a template not listed falls back to the
 * built-in text again) and, when given, its default locale. All or nothing: any invalid template
 * refuses the whole request with every issue listed.
 */
export async function putTemplates(s: Services, a: { tenantId: string; actor: Actor; origin: Origin; defaultLocale?: string; templates: TemplateWrite[] }) {
  const issues: TemplateIssue[] = [];
  const seen = new Set<string>();
  const wanted = a.templates.map((t, i) => {
    const locale = normalizeLocale(t.locale) ?? t.locale;
    const row = { ...t, locale };
    for (const issue of validateTemplate(row)) issues.push({ field: `templates[${i}].${issue.field}`, message: issue.message });
    if (seen.has(keyOf(row))) issues.push({ field: `templates[${i}]`, message: 'the same template, locale and channel twice' });
    seen.add(keyOf(row));
    return row;
  });
  const defaultLocale = a.defaultLocale === undefined ? undefined : normalizeLocale(a.defaultLocale);
  if (defaultLocale === null) issues.push({ field: 'defaultLocale', message: 'a language tag like en, es or fr-CA' });
  if (issues.length) throw new AppError('invalid_request', { issues }, 'The templates are not valid.');

  const before = new Map((await s.store.templates.list(a.tenantId)).map((r) => [keyOf(r), r]));
  const upsert = wanted.filter((t) => {
    const old = before.get(keyOf(t));
    return !old || old.subject !== t.subject || old.body !== t.body;
  });
  const remove = [...before.values()].filter((r) => !seen.has(keyOf(r))).map((r) => ({ template: r.template, locale: r.locale, channel: r.channel }));
  const oldDefault = await s.store.templates.defaultLocale(a.tenantId);
  const localeChanged = defaultLocale !== undefined && defaultLocale !== oldDefault;
  const events = upsert.length || remove.length || localeChanged
    ? [eventRecord(s, {
        tenantId: a.tenantId,
        type: 'templates.updated',
        outcome: 'success',
        actor: a.actor,
        target: { type: 'tenant', id: a.tenantId },
        origin: a.origin,
        data: { set: upsert.map(keyOf), removed: remove.map(keyOf), ...(localeChanged ? { defaultLocale: { from: oldDefault, to: defaultLocale } } : {}) },
      })]
    : [];
  await s.store.templates.apply(a.tenantId, { upsert, remove, ...(localeChanged && defaultLocale ? { defaultLocale } : {}), by: a.actor.type === 'user' ? a.actor.id : null, now: s.clock(), events });
  return getTemplates(s, a.tenantId);
}
