/**
 * SMTP provider against a real SMTP server (smtp-server on 127.0.0.1:0, with AUTH): the message
 * arrives with its subject and body; SMTP replies are classified (4xx later, 5xx never, bad
 * credentials later); and the worker delivers an outbox email through it.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryError, OutgoingMessage } from '../../src/delivery/provider.js';
import { smtpProvider } from '../../src/delivery/smtp.js';
import { DeliveryWorker } from '../../src/delivery/worker.js';
import { testStore } from '../helpers/db.js';
import { manualClock, queueMessage } from './peers.js';

interface Mail {
  from: string;
  to: string[];
  user: unknown;
  raw: string;
}

const mails: Mail[] = [];
let server: SMTPServer;
let port: number;

const smtpError = (message: string, responseCode: number) => Object.assign(new Error(message), { responseCode });

beforeAll(async () => {
  server = new SMTPServer({
    logger: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authOptional: false,
    onAuth(auth, _session, cb) {
      if (auth.username === 'mailer' && auth.password === 'p@ss word') cb(null, { user: 'mailer' });
      else cb(new Error('Invalid username or password'));
    },
    onRcptTo(address, _session, cb) {
      if (address.address.startsWith('nobody@')) return cb(smtpError('No such user', 550));
      if (address.address.startsWith('greylisted@')) return cb(smtpError('Try again later', 451));
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), user: session.user, raw: Buffer.concat(chunks).toString('utf8') });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const url = (password = 'p@ss word') => `smtp://mailer:${encodeURIComponent(password)}@127.0.0.1:${port}`;
const email = (o: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
  id: '0b7d4c1e-8a3f-4f6e-9a57-1a2b3c4d5e6f', channel: 'email', recipient: 'agent@example.com', subject: 'Set up your Acme account',
  body: 'Choose your password here:\nhttps://mfa.example.com/setup#token=abc', locale: 'en', ...o,
});
const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a failure'); }, (e: unknown) => e as DeliveryError);
/** The raw message with quoted-printable soft breaks undone. */
const plain = (raw: string) => raw.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));

describe('smtp provider', () => {
  it('delivers the message with subject, body, sender and a Message-ID made of the outbox id', async () => {
    const p = smtpProvider({ url: url(), from: 'Callwarden <no-reply@mfa.example.com>' });
    try {
      const before = mails.length;
      const r = await p.send(email());
      expect(r.providerMessageId).toBe('<0b7d4c1e-8a3f-4f6e-9a57-1a2b3c4d5e6f@mfa.example.com>');
      const m = mails[before]!;
      expect(m).toMatchObject({ from: 'no-reply@mfa.example.com', to: ['agent@example.com'], user: 'mailer' });
      const raw = plain(m.raw);
      expect(raw).toMatch(/^Subject: Set up your Acme account\r$/m);
      expect(raw).toMatch(/^From: Callwarden <no-reply@mfa\.example\.com>\r$/m);
      expect(raw).toMatch(/^Message-ID: <0b7d4c1e-8a3f-4f6e-9a57-1a2b3c4d5e6f@mfa\.example\.com>\r$/m);
      expect(raw).toMatch(/^Content-Language: en\r$/m);
      expect(raw).toContain('Choose your password here:\r\nhttps://mfa.example.com/setup#token=abc');
    } finally {
      await p.close?.();
    }
  });

  it('classifies failures: 550 permanent, 451 retryable, bad credentials and no server retryable', async () => {
    const p = smtpProvider({ url: url(), from: 'no-reply@mfa.example.com' });
    const wrongPassword = smtpProvider({ url: url('wrong'), from: 'no-reply@mfa.example.com' });
    const closed = smtpProvider({ url: 'smtp://127.0.0.1:1', from: 'no-reply@mfa.example.com', timeoutMs: 2_000 });
    try {
      const rejected = await failure(p.send(email({ recipient: 'nobody@example.com' })));
      expect(rejected).toMatchObject({ kind: 'permanent', status: 550 });
      expect(rejected.message).toMatch(/^smtp: EENVELOPE 550/);
      expect(await failure(p.send(email({ recipient: 'greylisted@example.com' })))).toMatchObject({ kind: 'retryable', status: 451 });
      expect(await failure(wrongPassword.send(email()))).toMatchObject({ kind: 'retryable', message: expect.stringMatching(/^smtp: EAUTH/) });
      expect(await failure(closed.send(email()))).toMatchObject({ kind: 'retryable' });
    } finally {
      for (const x of [p, wrongPassword, closed]) await x.close?.();
    }
  });

  it('the worker sends a queued outbox email and records it as sent', async () => {
    const store = await testStore('pglite');
    const clock = manualClock();
    const worker = new DeliveryWorker({ outbox: store.outbox, providers: [smtpProvider({ url: url(), from: 'no-reply@mfa.example.com' })], clock: clock.now });
    try {
      const { id } = await queueMessage(store, { channel: 'email', recipient: 'lead@example.com', subject: 'A sign-in method was added', body: 'The sign-in method "Phone" was added.', now: clock.now() });
      expect(await worker.drain()).toEqual({ claimed: 1, sent: 1, retried: 0, failed: 0 });
      expect(await store.outbox.get(id)).toMatchObject({ status: 'sent', attempts: 1, provider: 'smtp', provider_message_id: `<${id}@mfa.example.com>`, sent_at: clock.now() });
      const m = mails.find((x) => x.to.includes('lead@example.com'))!;
      expect(plain(m.raw)).toMatch(/^Subject: A sign-in method was added\r$/m);
    } finally {
      await worker.stop();
      await store.close();
    }
  });
});
