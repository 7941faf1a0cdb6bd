/**
 * Email through SMTP (nodemailer), from a connection URL `smtp://user:pass@host:port` (STARTTLS when
 * offered; `requireTls` insists on it) or `smtps://` (TLS from the start). Connections are pooled.
 * SMTP's own classes decide retries: 4xx replies and connection trouble are retried, 5xx refusals of a
 * recipient or message are permanent; authentication failures are retried (a configuration problem
 * the operator can fix, not a property of the message).
 */
import nodemailer from 'nodemailer';
import { DeliveryError, type OutgoingMessage, type Provider } from './provider.js';

export interface SmtpOptions {
  url: string;
  from: string;
  /** Refuse to send without STARTTLS (production on a non-loopback host). */
  requireTls?: boolean;
  timeoutMs?: number;
  maxConnections?: number;
}

interface SmtpFailure {
  code?: string;
  responseCode?: number;
  response?: string;
}

const AUTH_CODES = new Set(['EAUTH', 'ENOAUTH', 'EOAUTH2']);

/** A nodemailer failure -> retry later or give up; the reason holds codes and the server's reply line. */
export function classifySmtpError(err: unknown): DeliveryError {
  const e = (err ?? {}) as SmtpFailure;
  const reply = typeof e.response === 'string' ? `: ${e.response.slice(0, 120)}` : '';
  const reason = `smtp: ${e.code ?? 'error'}${e.responseCode ? ` ${e.responseCode}` : ''}${reply}`;
  if (e.code && AUTH_CODES.has(e.code)) return new DeliveryError('retryable', reason, e.responseCode);
  if (typeof e.responseCode === 'number' && e.responseCode >= 500) return new DeliveryError('permanent', reason, e.responseCode);
  if (typeof e.responseCode === 'number' && e.responseCode >= 400) return new DeliveryError('retryable', reason, e.responseCode);
  if (e.code === 'EENVELOPE') return new DeliveryError('permanent', reason);
  return new DeliveryError('retryable', reason);
}

/** The domain of the sender address, for Message-IDs. */
function senderDomain(from: string): string {
  return /@([^\s>]+)>?\s*$/.exec(from)?.[1] ?? 'callwarden.invalid';
}

export function smtpProvider(o: SmtpOptions): Provider {
  const timeout = o.timeoutMs ?? 10_000;
  const transport = nodemailer.createTransport({
    url: o.url,
    pool: true,
    maxConnections: o.maxConnections ?? 5,
    requireTLS: o.requireTls ?? false,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout * 3,
  });
  const domain = senderDomain(o.from);
  return {
    name: 'smtp',
    channels: ['email'],
    async send(msg: OutgoingMessage) {
      if (msg.channel !== 'email') throw new DeliveryError('permanent', `smtp: channel ${msg.channel} not supported`);
      try {
        const info = await transport.sendMail({
          from: o.from,
          to: msg.recipient,
          subject: msg.subject,
          text: msg.body,
          // Stable across retries, so a receiving system can recognise a repeat.
          messageId: `<${msg.id}@${domain}>`,
          headers: { 'Content-Language': msg.locale },
        });
        return { providerMessageId: String(info.messageId ?? `<${msg.id}@${domain}>`) };
      } catch (err) {
        throw classifySmtpError(err);
      }
    },
    close() {
      transport.close();
    },
  };
}
