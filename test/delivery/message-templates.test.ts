/**
 * The template module on its own: locale tags and the order locales are tried in, rendering
 * (placeholders filled verbatim, `$` patterns not interpreted, subjects kept on one line), every
 * built-in text passing the validation tenants' texts must pass, and a rendered email leaving as
 * text/plain only through the SMTP provider, so a value with markup is never HTML.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smtpProvider } from '../../src/delivery/smtp.js';
import { builtinTemplates, localeChain, normalizeLocale, render, validateTemplate, type TemplateChannel } from '../../src/delivery/templates.js';

describe('message templates', () => {
  it('normalizes locale tags and tries the most specific first', () => {
    expect(['es-mx', 'FR', 'pt_br', 'es-419', 'en-', 'english', ''].map(normalizeLocale)).toEqual(['es-MX', 'fr', 'pt-BR', 'es-419', null, null, null]);
    expect(localeChain('es-MX', 'fr', 'en')).toEqual(['es-MX', 'es', 'fr', 'en']);
    expect(localeChain('en-GB', 'en', 'en')).toEqual(['en-GB', 'en']);
  });

  it('fills placeholders verbatim and keeps the subject on one line', () => {
    const out = render({ subject: '{{tenantName}} code', body: 'Code {{ code }} for {{tenantName}} ({{minutes}} min)' }, { tenantName: 'A$&B <b>\nCo', code: '012345', minutes: 10 });
    expect(out.body).toBe('Code 012345 for A$&B <b>\nCo (10 min)');
    expect(out.subject).toBe('A$&B <b> Co code');
  });

  it('every built-in text passes the rules tenant texts must pass', () => {
    for (const [template, locales] of Object.entries(builtinTemplates)) {
      for (const [locale, channels] of Object.entries(locales)) {
        for (const [channel, t] of Object.entries(channels)) {
          expect(validateTemplate({ template, locale, channel: channel as TemplateChannel, ...t! }), `${template}/${locale}/${channel}`).toEqual([]);
        }
      }
    }
  });

  it('refuses control characters, empty bodies, oversize SMS and an email without subject', () => {
    const issues = (t: Partial<Parameters<typeof validateTemplate>[0]>) =>
      validateTemplate({ template: 'verification_code', locale: 'en', channel: 'sms', subject: '', body: '{{code}}', ...t }).map((i) => `${i.field}: ${i.message}`);
    expect(issues({ body: '{{code}}\u0007' })).toEqual(['body: control characters are not allowed']);
    expect(issues({ body: '   ' })).toEqual(['body: must not be empty', 'body: must contain {{code}}']);
    expect(issues({ body: `{{code}} ${'x'.repeat(640)}` })).toEqual(['body: at most 640 characters for sms']);
    expect(issues({ channel: 'email' })).toEqual(['subject: an email needs a subject']);
    expect(issues({ body: 'Line one\nLine two {{code}}\n' })).toEqual([]);
  });

  describe('email is plain text', () => {
    let server: SMTPServer;
    const raw: string[] = [];
    beforeAll(async () => {
      server = new SMTPServer({
        logger: false,
        disabledCommands: ['STARTTLS'],
        authOptional: true,
        onData(stream, _s, cb) {
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            raw.push(Buffer.concat(chunks).toString('utf8'));
            cb();
          });
        },
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('a value with markup arrives as text in a text/plain message, with no HTML part', async () => {
      const text = render(builtinTemplates.verification_code.en!.email!, { tenantName: '<img src=x onerror=alert(1)>', code: '493817', minutes: 10 });
      const smtp = smtpProvider({ url: `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`, from: 'Acme <no-reply@acme.test>' });
      try {
        await smtp.send({ id: '3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d', channel: 'email', recipient: 'dana@example.com', subject: text.subject, body: text.body, locale: 'en' });
      } finally {
        await smtp.close?.();
      }
      const mail = raw.at(-1)!;
      expect(mail).toMatch(/^Content-Type: text\/plain; charset=utf-8$/im);
      expect(mail).not.toMatch(/text\/html/i);
      expect(mail).toContain('<img src=x onerror=alert(1)>');
    });
  });
});
