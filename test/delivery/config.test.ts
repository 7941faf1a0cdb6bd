/**
 * Delivery configuration: incomplete or unsafe provider settings are refused at start naming the
 * variable; a valid one builds the right providers, and the background worker delivers through them.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { providersFromConfig, startDelivery } from '../../src/delivery/setup.js';
import { testApp } from '../helpers/app.js';
import { httpPeer, queueMessage } from './peers.js';

const MEM = { CALLWARDEN_DATA_DIR: 'memory:' };
const KEY = Buffer.alloc(32, 7).toString('base64');
const SECRET = 'a-webhook-secret-of-at-least-32-chars!!';
const TWILIO = { CALLWARDEN_SMS_PROVIDER: 'twilio', CALLWARDEN_TWILIO_ACCOUNT_SID: 'AC1', CALLWARDEN_TWILIO_AUTH_TOKEN: 'tok', CALLWARDEN_TWILIO_FROM: '+15550199' };
const VONAGE = { CALLWARDEN_SMS_PROVIDER: 'vonage', CALLWARDEN_VONAGE_API_KEY: 'k', CALLWARDEN_VONAGE_API_SECRET: 's', CALLWARDEN_VONAGE_FROM: 'Callwarden' };

function refusedVariable(env: Record<string, string>): string {
  try {
    loadConfig({ ...MEM, ...env });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).message).toContain((e as ConfigError).variable);
    return (e as ConfigError).variable;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

describe('delivery configuration', () => {
  it('defaults: no provider, worker every second', () => {
    expect(loadConfig(MEM)).toMatchObject({ smtpUrl: '', mailFrom: '', smsProvider: 'none', twilioBaseUrl: 'https://api.twilio.com', vonageBaseUrl: 'https://rest.nexmo.com', deliveryIntervalMs: 1000 });
    expect(providersFromConfig(loadConfig(MEM))).toEqual([]);
  });

  it.each([
    [{ CALLWARDEN_SMTP_URL: 'http://mail.example.com' }, 'CALLWARDEN_SMTP_URL'],
    [{ CALLWARDEN_SMTP_URL: 'smtp://' }, 'CALLWARDEN_SMTP_URL'],
    [{ CALLWARDEN_SMTP_URL: 'smtp://u:p@mail.example.com:587' }, 'CALLWARDEN_MAIL_FROM'],
    [{ CALLWARDEN_MAIL_FROM: 'nobody' }, 'CALLWARDEN_MAIL_FROM'],
    [{ CALLWARDEN_SMS_PROVIDER: 'pigeon' }, 'CALLWARDEN_SMS_PROVIDER'],
    [{ CALLWARDEN_SMS_PROVIDER: 'twilio' }, 'CALLWARDEN_TWILIO_ACCOUNT_SID'],
    [{ ...TWILIO, CALLWARDEN_TWILIO_AUTH_TOKEN: '' }, 'CALLWARDEN_TWILIO_AUTH_TOKEN'],
    [{ ...TWILIO, CALLWARDEN_TWILIO_FROM: ' ' }, 'CALLWARDEN_TWILIO_FROM'],
    [{ ...TWILIO, CALLWARDEN_TWILIO_BASE_URL: 'api.twilio.com' }, 'CALLWARDEN_TWILIO_BASE_URL'],
    [{ ...VONAGE, CALLWARDEN_VONAGE_API_SECRET: '' }, 'CALLWARDEN_VONAGE_API_SECRET'],
    [{ CALLWARDEN_SMS_PROVIDER: 'webhook', CALLWARDEN_WEBHOOK_SECRET: SECRET }, 'CALLWARDEN_WEBHOOK_URL'],
    [{ CALLWARDEN_SMS_PROVIDER: 'webhook', CALLWARDEN_WEBHOOK_URL: 'https://hooks.example.com/sms' }, 'CALLWARDEN_WEBHOOK_SECRET'],
    [{ CALLWARDEN_WEBHOOK_SECRET: 'short' }, 'CALLWARDEN_WEBHOOK_SECRET'],
    [{ CALLWARDEN_WEBHOOK_URL: 'ftp://hooks.example.com' }, 'CALLWARDEN_WEBHOOK_URL'],
    [{ CALLWARDEN_DELIVERY_INTERVAL_MS: '' }, 'CALLWARDEN_DELIVERY_INTERVAL_MS'],
    [{ CALLWARDEN_DELIVERY_INTERVAL_MS: '-1' }, 'CALLWARDEN_DELIVERY_INTERVAL_MS'],
  ])('refuses %j naming %s', (env, variable) => {
    expect(refusedVariable(env)).toBe(variable);
  });

  it('production: provider URLs must be https unless on loopback', () => {
    const prod = { CALLWARDEN_MODE: 'production', CALLWARDEN_ENCRYPTION_KEY: KEY };
    const hook = { ...prod, CALLWARDEN_SMS_PROVIDER: 'webhook', CALLWARDEN_WEBHOOK_SECRET: SECRET };
    expect(refusedVariable({ ...hook, CALLWARDEN_WEBHOOK_URL: 'http://hooks.example.com/sms' })).toBe('CALLWARDEN_WEBHOOK_URL');
    expect(refusedVariable({ ...prod, ...TWILIO, CALLWARDEN_TWILIO_BASE_URL: 'http://twilio.internal' })).toBe('CALLWARDEN_TWILIO_BASE_URL');
    expect(loadConfig({ ...MEM, ...hook, CALLWARDEN_WEBHOOK_URL: 'http://127.0.0.1:8080/sms' }).webhookUrl).toBe('http://127.0.0.1:8080/sms');
    expect(loadConfig({ ...MEM, ...hook, CALLWARDEN_WEBHOOK_URL: 'https://hooks.example.com/sms' }).smsProvider).toBe('webhook');
    // dev mode allows plain http anywhere (local test peers)
    expect(loadConfig({ ...MEM, ...TWILIO, CALLWARDEN_TWILIO_BASE_URL: 'http://twilio.internal' }).twilioBaseUrl).toBe('http://twilio.internal');
  });

  it('builds the configured providers', () => {
    const smtp = { CALLWARDEN_SMTP_URL: 'smtp://u:p@127.0.0.1:2525', CALLWARDEN_MAIL_FROM: 'Callwarden <no-reply@example.com>' };
    const names = (env: Record<string, string>) => providersFromConfig(loadConfig({ ...MEM, ...env })).map((p) => [p.name, p.channels.join('+')]);
    expect(names({ ...smtp, ...TWILIO })).toEqual([['smtp', 'email'], ['twilio', 'sms+voice']]);
    expect(names(VONAGE)).toEqual([['vonage', 'sms']]);
    expect(names({ CALLWARDEN_SMS_PROVIDER: 'webhook', CALLWARDEN_WEBHOOK_URL: 'https://h.example.com', CALLWARDEN_WEBHOOK_SECRET: SECRET })).toEqual([['webhook', 'sms+voice']]);
  });

  it('the background worker started by the server delivers through the configured webhook', async () => {
    const peer = await httpPeer(() => ({ json: { id: 'rcv-1' } }));
    const t = await testApp({ env: { CALLWARDEN_SMS_PROVIDER: 'webhook', CALLWARDEN_WEBHOOK_URL: `${peer.url}/sms`, CALLWARDEN_WEBHOOK_SECRET: SECRET, CALLWARDEN_DELIVERY_INTERVAL_MS: '20' } });
    try {
      expect(startDelivery({ ...t.s, config: loadConfig(MEM) })).toBeUndefined();
      const { id } = await queueMessage(t.s.store, { now: t.clock.now() });
      const worker = startDelivery(t.s)!;
      for (let i = 0; i < 200 && (await t.s.store.outbox.get(id))?.status !== 'sent'; i++) await sleep(25);
      await worker.stop();
      expect(await t.s.store.outbox.get(id)).toMatchObject({ status: 'sent', provider: 'webhook', provider_message_id: 'rcv-1' });
      expect(peer.received.map((r) => r.path)).toEqual(['/sms']);
    } finally {
      await peer.close();
      await t.close();
    }
  });
});
