/**
 * Message templates: what each message may say (its placeholders and channels), the built-in texts
 * ('en' for every message; 'es' and 'fr' for verification codes), validation of a tenant's own
 * wording, and rendering. Placeholders are `{{name}}`; values are inserted verbatim (no escaping):
 * every channel is plain text (SMS, speech, and text/plain email, never HTML), so there is nothing to
 * inject into. Subjects are single lines. Lookup order lives in src/services/templates.ts.
 */
export type TemplateChannel = 'sms' | 'voice' | 'email';
export interface TemplateText {
  subject: string;
  body: string;
}
interface TemplateDef {
  channels: readonly TemplateChannel[];
  placeholders: readonly string[];
  /** Placeholders the body must contain (the message is pointless without them). */
  required: readonly string[];
}

const notice = (placeholders: string[], required: string[] = []): TemplateDef => ({ channels: ['email'], placeholders: ['tenantName', ...placeholders], required });

export const templateDefs = {
  verification_code: { channels: ['sms', 'voice', 'email'], placeholders: ['code', 'minutes', 'tenantName'], required: ['code'] },
  signin_code: { channels: ['sms', 'voice'], placeholders: ['code', 'minutes', 'tenantName'], required: ['code'] },
  phone_replaced: { channels: ['sms'], placeholders: ['tenantName', 'number'], required: [] },
  invitation: notice(['link', 'hours'], ['link']),
  recovery_code_used: notice(['remaining']),
  factor_added: notice(['label']),
  factor_removed: notice(['label']),
  factor_suspended: notice(['label']),
  factor_resumed: notice(['label']),
  recovery_codes_regenerated: notice([]),
  password_changed: notice([]),
} as const satisfies Record<string, TemplateDef>;

export type TemplateName = keyof typeof templateDefs;
export const templateNames = Object.keys(templateDefs) as TemplateName[];
export const isTemplateName = (n: string): n is TemplateName => Object.hasOwn(templateDefs, n);

const codeText = (subject: string, body: string): TemplateText => ({ subject, body });
const sameForSmsAndEmail = (t: TemplateText, voice: TemplateText) => ({ sms: t, email: t, voice });
const security = (subject: string, body: string) => ({ email: { subject, body: `${body}\n\nIf this was not you, contact your administrator now.` } });

/** Built-in texts by template, locale and channel. */
export const builtinTemplates: Record<TemplateName, Record<string, Partial<Record<TemplateChannel, TemplateText>>>> = {
  verification_code: {
    en: sameForSmsAndEmail(
      codeText('Your {{tenantName}} verification code', 'Your {{tenantName}} verification code is {{code}}. It expires in {{minutes}} minutes. We only ask for it to verify your call; never share it otherwise.'),
      codeText('Verification call', 'This is {{tenantName}}. Your verification code is {{code}}. Again: {{code}}.'),
    ),
    es: sameForSmsAndEmail(
      codeText('Su código de verificación de {{tenantName}}', 'Su código de verificación de {{tenantName}} es {{code}}. Caduca en {{minutes}} minutos. Solo se lo pedimos para verificar su llamada; no lo comparta en ningún otro caso.'),
      codeText('Llamada de verificación', 'Le llamamos de {{tenantName}}. Su código de verificación es {{code}}. Repito: {{code}}.'),
    ),
    fr: sameForSmsAndEmail(
      codeText('Votre code de vérification {{tenantName}}', 'Votre code de vérification {{tenantName}} est {{code}}. Il expire dans {{minutes}} minutes. Nous ne le demandons que pour vérifier votre appel ; ne le communiquez jamais autrement.'),
      codeText('Appel de vérification', 'Ici {{tenantName}}. Votre code de vérification est {{code}}. Je répète : {{code}}.'),
    ),
  },
  signin_code: {
    en: {
      sms: codeText('Your {{tenantName}} sign-in code', 'Your {{tenantName}} sign-in code is {{code}}. It expires in {{minutes}} minutes. Nobody from {{tenantName}} will ever ask you for it.'),
      voice: codeText('Sign-in call', 'This is {{tenantName}}. Your sign-in code is {{code}}. Again: {{code}}.'),
    },
  },
  phone_replaced: {
    en: { sms: codeText('Phone number replaced', 'This number ({{number}}) no longer receives {{tenantName}} sign-in codes: another number was set up. If this was not you, contact your administrator now.') },
  },
  invitation: {
    en: {
      email: {
        subject: 'Set up your {{tenantName}} account',
        body: 'You have been invited to {{tenantName}} on Callwarden.\n\nChoose your password here (the link works once, for {{hours}} hours):\n{{link}}\n\nIf you did not expect this, ignore this message.',
      },
    },
  },
  recovery_code_used: { en: security('A recovery code was used to sign in', 'A recovery code was just used to sign in to your account. {{remaining}} unused codes remain.') },
  factor_added: { en: security('A sign-in method was added', 'The sign-in method "{{label}}" was added on your account.') },
  factor_removed: { en: security('A sign-in method was removed', 'The sign-in method "{{label}}" was removed on your account.') },
  factor_suspended: { en: security('A sign-in method was suspended', 'An administrator suspended the sign-in method "{{label}}" on your account; it cannot be used until it is resumed.') },
  factor_resumed: { en: security('A sign-in method was resumed', 'An administrator resumed the sign-in method "{{label}}" on your account.') },
  recovery_codes_regenerated: { en: security('New recovery codes were created', 'New recovery codes were created for your account; the old ones no longer work.') },
  password_changed: { en: security('Your password was changed', 'The password of your account was changed.') },
};

/** `es-mx` -> `es-MX`, `FR` -> `fr`; null when it is not a language tag we handle (language[-region]). */
export function normalizeLocale(raw: string): string | null {
  const m = /^([a-zA-Z]{2,3})(?:[-_]([a-zA-Z]{2}|\d{3}))?$/.exec(raw.trim());
  if (!m) return null;
  return m[2] ? `${m[1]!.toLowerCase()}-${m[2].toUpperCase()}` : m[1]!.toLowerCase();
}

/** The locales to try for a wanted one, most specific first: es-MX -> es-MX, es; then the fallbacks. */
export function localeChain(wanted: string, ...fallbacks: string[]): string[] {
  const out: string[] = [];
  for (const l of [wanted, ...fallbacks]) {
    const n = normalizeLocale(l);
    if (!n) continue;
    for (const c of [n, n.split('-')[0]!]) if (!out.includes(c)) out.push(c);
  }
  return out;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}/g;

/** Fills the placeholders; a subject is kept on one line. */
export function render(t: TemplateText, vars: Record<string, string | number>): TemplateText {
  const fill = (text: string) => text.replace(PLACEHOLDER, (_, name: string) => String(vars[name] ?? ''));
  return { subject: fill(t.subject).replace(/[\r\n]+/g, ' ').trim(), body: fill(t.body) };
}

export const BODY_MAX: Record<TemplateChannel, number> = { sms: 640, voice: 1000, email: 5000 };
export const SUBJECT_MAX = 200;

export interface TemplateIssue {
  field: string;
  message: string;
}

/** What is wrong with a tenant's template (empty when it can be saved). */
export function validateTemplate(t: { template: string; locale: string; channel: TemplateChannel; subject: string; body: string }): TemplateIssue[] {
  const issues: TemplateIssue[] = [];
  if (!isTemplateName(t.template)) return [{ field: 'template', message: `unknown template; known: ${templateNames.join(', ')}` }];
  const def: TemplateDef = templateDefs[t.template];
  if (!def.channels.includes(t.channel)) issues.push({ field: 'channel', message: `${t.template} is sent by ${def.channels.join(', ')} only` });
  if (normalizeLocale(t.locale) !== t.locale) issues.push({ field: 'locale', message: 'a language tag like en, es or fr-CA' });
  for (const field of ['subject', 'body'] as const) {
    const text = t[field];
    for (const m of text.matchAll(PLACEHOLDER)) {
      if (!def.placeholders.includes(m[1]!)) issues.push({ field, message: `unknown placeholder {{${m[1]}}}; ${t.template} knows ${def.placeholders.map((p) => `{{${p}}}`).join(', ')}` });
    }
    if (/\{\{|\}\}/.test(text.replace(PLACEHOLDER, ''))) issues.push({ field, message: 'a placeholder is malformed; write {{name}}' });
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)) issues.push({ field, message: 'control characters are not allowed' });
  }
  if (/[\r\n]/.test(t.subject)) issues.push({ field: 'subject', message: 'one line only' });
  if (t.subject.length > SUBJECT_MAX) issues.push({ field: 'subject', message: `at most ${SUBJECT_MAX} characters` });
  if (t.channel === 'email' && t.subject.trim() === '') issues.push({ field: 'subject', message: 'an email needs a subject' });
  if (t.body.trim() === '') issues.push({ field: 'body', message: 'must not be empty' });
  if (t.body.length > BODY_MAX[t.channel]) issues.push({ field: 'body', message: `at most ${BODY_MAX[t.channel]} characters for ${t.channel}` });
  const used = new Set([...t.body.matchAll(PLACEHOLDER)].map((m) => m[1]));
  for (const r of def.required) if (!used.has(r)) issues.push({ field: 'body', message: `must contain {{${r}}}` });
  return issues;
}
