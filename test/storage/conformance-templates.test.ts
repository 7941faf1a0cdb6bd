/**
 * Storage conformance, MessageTemplateRepo: the same contract on PGlite and PostgreSQL. A tenant's
 * templates round-trip per (template, locale, channel), are scoped by tenant, and `apply` writes
 * upserts, removals, the default locale and its audit events in one transaction (all or nothing).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/storage/repositories/audit.js';
import type { TemplateWrite } from '../../src/storage/repositories/message-templates.js';
import type { Store } from '../../src/storage/store.js';
import { backends, testStore } from '../helpers/db.js';
import { at, range, seedTenant, seedUser, uniq } from '../helpers/fixtures.js';

describe.each(await backends())('message templates conformance on %s', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await testStore(backend);
  });
  afterAll(() => store?.close());

  const now = new Date('2030-04-01T09:00:00Z');
  const code = (locale: string, body: string, channel: TemplateWrite['channel'] = 'sms'): TemplateWrite => ({ template: 'verification_code', locale, channel, subject: channel === 'email' ? `Subject ${locale}` : '', body });
  const plain = (rows: Array<{ template: string; locale: string; channel: string; subject: string; body: string }>) => rows.map((r) => `${r.template}/${r.locale}/${r.channel}: ${r.subject}|${r.body}`);
  /** An audit event for `apply` (the MAC fields are opaque to the repository). */
  const event = (tenantId: string, type: string): AuditEvent => ({ tenantId, type, outcome: 'success', actor: { type: 'system' }, target: { type: 'tenant', id: tenantId }, data: {}, at: now, nonce: uniq(), mac: '00'.repeat(32), macKeyId: 'test' }) as AuditEvent;

  it('a new tenant has no templates, the default locale en, and renders with its name only', async () => {
    const t = await seedTenant(store);
    expect(await store.templates.list(t.id)).toEqual([]);
    expect(await store.templates.defaultLocale(t.id)).toBe('en');
    expect(await store.templates.forRender(t.id, 'verification_code', 'sms')).toEqual({ tenantName: 'Test tenant', defaultLocale: 'en', variants: [] });
  });

  it('apply upserts and lists the variants; forRender returns those of one template and channel', async () => {
    const t = await seedTenant(store);
    await store.templates.apply(t.id, {
      upsert: [code('en', 'Your code is {{code}}'), code('fr', 'Votre code est {{code}}'), code('en', 'Code: {{code}}', 'email'), { template: 'invitation', locale: 'en', channel: 'email', subject: 'Welcome', body: 'Set up: {{link}}' }],
      remove: [],
      by: null,
      now,
      events: [],
    });
    const rows = await store.templates.list(t.id);
    expect(plain(rows)).toEqual([
      'invitation/en/email: Welcome|Set up: {{link}}',
      'verification_code/en/email: Subject en|Code: {{code}}',
      'verification_code/en/sms: |Your code is {{code}}',
      'verification_code/fr/sms: |Votre code est {{code}}',
    ]);
    expect(rows.every((r) => r.updated_at.getTime() === now.getTime() && r.updated_by === null)).toBe(true);
    const render = await store.templates.forRender(t.id, 'verification_code', 'sms');
    expect(render?.tenantName).toBe('Test tenant');
    expect(render?.variants.sort((a, b) => a.locale.localeCompare(b.locale))).toEqual([
      { locale: 'en', subject: '', body: 'Your code is {{code}}' },
      { locale: 'fr', subject: '', body: 'Votre code est {{code}}' },
    ]);
    expect((await store.templates.forRender(t.id, 'verification_code', 'email'))?.variants).toEqual([{ locale: 'en', subject: 'Subject en', body: 'Code: {{code}}' }]);
    expect((await store.templates.forRender(t.id, 'verification_code', 'voice'))?.variants).toEqual([]);
  });

  it('apply changes the wording of an existing variant in place, removes others, and sets the default locale', async () => {
    const t = await seedTenant(store);
    const admin = (await seedUser(store, t.id, { roles: ['tenant_admin'], now })).id;
    await store.templates.apply(t.id, { upsert: [code('en', 'one'), code('fr', 'un'), code('de', 'eins')], remove: [], by: null, now, events: [] });
    const later = at(now, 60);
    await store.templates.apply(t.id, { upsert: [code('en', 'two')], remove: [{ template: 'verification_code', locale: 'fr', channel: 'sms' }, { template: 'verification_code', locale: 'es', channel: 'sms' }], defaultLocale: 'de', by: admin, now: later, events: [] });
    const rows = await store.templates.list(t.id);
    expect(plain(rows)).toEqual(['verification_code/de/sms: |eins', 'verification_code/en/sms: |two']);
    const en = rows.find((r) => r.locale === 'en')!;
    expect([en.updated_at.getTime(), en.updated_by]).toEqual([later.getTime(), admin]);
    expect(rows.find((r) => r.locale === 'de')!.updated_at.getTime()).toBe(now.getTime());
    expect(await store.templates.defaultLocale(t.id)).toBe('de');
    expect((await store.templates.forRender(t.id, 'verification_code', 'sms'))?.defaultLocale).toBe('de');
  });

  it("a tenant's templates and removals never touch another tenant's", async () => {
    const a = await seedTenant(store);
    const b = await seedTenant(store);
    await store.templates.apply(a.id, { upsert: [code('en', 'A wording')], remove: [], by: null, now, events: [] });
    await store.templates.apply(b.id, { upsert: [code('en', 'B wording')], remove: [], defaultLocale: 'fr', by: null, now, events: [] });
    await store.templates.apply(a.id, { upsert: [], remove: [{ template: 'verification_code', locale: 'en', channel: 'sms' }], by: null, now, events: [] });
    expect(await store.templates.list(a.id)).toEqual([]);
    expect(plain(await store.templates.list(b.id))).toEqual(['verification_code/en/sms: |B wording']);
    expect(await store.templates.defaultLocale(a.id)).toBe('en');
    expect(await store.templates.defaultLocale(b.id)).toBe('fr');
    expect((await store.templates.forRender(a.id, 'verification_code', 'sms'))?.variants).toEqual([]);
  });

  it('apply writes its audit events with the change', async () => {
    const t = await seedTenant(store);
    await store.templates.apply(t.id, { upsert: [code('en', 'audited')], remove: [], by: null, now, events: [event(t.id, 'templates.updated')] });
    const ev = await store.db.selectFrom('audit_events').select(['type', 'target_id']).where('tenant_id', '=', t.id).where('type', '=', 'templates.updated').execute();
    expect(ev).toEqual([{ type: 'templates.updated', target_id: t.id }]);
  });

  it('apply is all or nothing: a refused variant rolls back the removals, the other upserts and the default locale', async () => {
    const t = await seedTenant(store);
    await store.templates.apply(t.id, { upsert: [code('en', 'kept'), code('fr', 'garde')], remove: [], by: null, now, events: [] });
    const bad = { ...code('de', 'nein'), channel: 'fax' } as unknown as TemplateWrite; // the channel CHECK refuses it
    await expect(
      store.templates.apply(t.id, { upsert: [code('en', 'changed'), bad], remove: [{ template: 'verification_code', locale: 'fr', channel: 'sms' }], defaultLocale: 'de', by: null, now: at(now, 5), events: [event(t.id, 'templates.rolled_back')] }),
    ).rejects.toThrow();
    expect(plain(await store.templates.list(t.id))).toEqual(['verification_code/en/sms: |kept', 'verification_code/fr/sms: |garde']);
    expect(await store.templates.defaultLocale(t.id)).toBe('en');
    expect(await store.db.selectFrom('audit_events').select('id').where('tenant_id', '=', t.id).where('type', '=', 'templates.rolled_back').execute()).toEqual([]);
  });

  it('parallel applies of the same variant leave one row with one of the wordings', async () => {
    const t = await seedTenant(store);
    const wordings = range(8).map((i) => `wording ${i}`);
    await Promise.all(wordings.map((w) => store.templates.apply(t.id, { upsert: [code('en', w)], remove: [], by: null, now, events: [] })));
    const rows = await store.templates.list(t.id);
    expect(rows).toHaveLength(1);
    expect(wordings).toContain(rows[0]!.body);
  });
});
