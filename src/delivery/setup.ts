/**
 * Builds the delivery providers the configuration asks for (SMTP for email; Twilio, Vonage or a webhook
 * for SMS and voice) and the worker that drives them. With none configured (dev) nothing is started and
 * every message stays pending in the outbox, where the dev reader shows it.
 */
import type { Config } from '../config/load.js';
import { isLoopbackUrl } from '../config/load.js';
import type { Services } from '../services/context.js';
import { bindOutboxSealing } from '../storage/repositories/outbox.js';
import type { Provider } from './provider.js';
import { smtpProvider } from './smtp.js';
import { twilioProvider } from './twilio.js';
import { vonageProvider } from './vonage.js';
import { webhookProvider } from './webhook.js';
import { DeliveryWorker } from './worker.js';

export function providersFromConfig(c: Config): Provider[] {
  const providers: Provider[] = [];
  if (c.smtpUrl) {
    // smtp:// to another host in production must upgrade with STARTTLS (smtps:// is TLS already).
    providers.push(smtpProvider({ url: c.smtpUrl, from: c.mailFrom, requireTls: c.mode === 'production' && c.smtpUrl.startsWith('smtp:') && !isLoopbackUrl(c.smtpUrl) }));
  }
  if (c.smsProvider === 'twilio') providers.push(twilioProvider({ baseUrl: c.twilioBaseUrl, accountSid: c.twilioAccountSid, authToken: c.twilioAuthToken, from: c.twilioFrom }));
  if (c.smsProvider === 'vonage') providers.push(vonageProvider({ baseUrl: c.vonageBaseUrl, apiKey: c.vonageApiKey, apiSecret: c.vonageApiSecret, from: c.vonageFrom }));
  if (c.smsProvider === 'webhook') providers.push(webhookProvider({ url: c.webhookUrl, secret: c.webhookSecret }));
  return providers;
}

/** Starts the background worker when a provider is configured; returns it (stop it on shutdown). */
export function startDelivery(s: Services, providers = providersFromConfig(s.config)): DeliveryWorker | undefined {
  if (providers.length === 0) {
    s.log.info('delivery: no provider configured; messages stay in the outbox');
    return undefined;
  }
  bindOutboxSealing(s.store.db, s.aead); // the worker opens sealed messages with the service key
  const worker = new DeliveryWorker({ outbox: s.store.outbox, providers, clock: s.clock, log: s.log.child({ component: 'delivery' }) });
  worker.start(s.config.deliveryIntervalMs);
  const fields = { providers: providers.map((p) => p.name), channels: worker.channels, intervalMs: s.config.deliveryIntervalMs };
  s.log.info(fields, s.config.deliveryIntervalMs > 0 ? 'delivery worker started' : 'delivery worker not scheduled (interval 0)');
  return worker;
}
