/**
 * Every configuration option of Callwarden, in one place: its environment variable, its default and
 * what it does. `loadConfig` (./load.ts) reads them; docs/configuration.md is generated from this list
 * (`npm run docs:config`) and a test keeps the two in step.
 */
import { z } from 'zod';

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');
/** Whole numbers only: an empty value (PORT=) is refused, not read as 0; so are 1e3, 0x10 and 3.5. */
/** An absolute http(s) URL with a host. */
const httpUrl = z.url({ protocol: /^https?$/, hostname: /^.+$/, error: 'must be an http:// or https:// URL' });
const int = (min: number, max: number) => z.string().trim().regex(/^\d+$/, 'must be a whole number').pipe(z.coerce.number<string>().int().min(min).max(max));

/** Base64 key material of min..max bytes (strict base64, so a typo is not silently decoded). */
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const base64Key = (min: number, max: number) =>
  z.string().trim().refine((v) => BASE64.test(v) && Buffer.from(v, 'base64').length >= min && Buffer.from(v, 'base64').length <= max, min === max ? `must be ${min} bytes in base64` : `must be ${min} to ${max} bytes in base64`);
const base64KeyList = (min: number, max: number) =>
  z.string().trim().refine((v) => v.split(',').map((x) => x.trim()).filter(Boolean).every((x) => BASE64.test(x) && Buffer.from(x, 'base64').length >= min && Buffer.from(x, 'base64').length <= max), `must be comma-separated base64 values of ${min === max ? min : `${min} to ${max}`} bytes`);

export const options = {
  mode: {
    env: 'CALLWARDEN_MODE',
    default: 'dev',
    schema: z.enum(['dev', 'production']),
    doc: 'dev: an encryption key is generated in the data directory, cookies are not Secure, the outbox API is on. production: CALLWARDEN_ENCRYPTION_KEY is required and cookies are Secure.',
  },
  host: { env: 'CALLWARDEN_HOST', default: '127.0.0.1', schema: z.string().min(1), doc: 'Address the HTTP server listens on.' },
  port: { env: 'PORT', default: '3000', schema: int(0, 65535), doc: 'TCP port of the HTTP server (0 picks a free one).' },
  publicUrl: {
    env: 'CALLWARDEN_PUBLIC_URL',
    default: '',
    schema: z.union([z.literal(''), z.url()]),
    doc: 'Base URL users reach the server at, used in setup links. Empty: http://HOST:PORT.',
  },
  webauthnRpId: {
    env: 'CALLWARDEN_WEBAUTHN_RP_ID',
    default: '',
    schema: z.union([z.literal(''), z.string().trim().toLowerCase().regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/, 'must be a host name (no scheme, port or path)')]),
    doc: 'WebAuthn relying party ID: the host name security keys and passkeys are bound to (e.g. example.com for console.example.com). Empty: the host of CALLWARDEN_PUBLIC_URL. It must be that host or a parent domain of it, and of every allowed origin.',
  },
  webauthnOrigins: {
    env: 'CALLWARDEN_WEBAUTHN_ORIGINS',
    default: '',
    schema: z.string().trim(),
    doc: 'Comma-separated origins (scheme://host[:port]) a WebAuthn ceremony may come from. Empty: the origin of CALLWARDEN_PUBLIC_URL. Each must be https (or http on localhost) and inside the RP ID.',
  },
  fidoMdsRoots: {
    env: 'CALLWARDEN_FIDO_MDS_ROOTS',
    default: '',
    schema: z.string().trim(),
    doc: "PEM file of the root certificate(s) a FIDO Metadata Service BLOB must chain to. Empty: the FIDO Alliance's MDS root (as @simplewebauthn/server bundles it).",
  },
  consoleDir: {
    env: 'CALLWARDEN_CONSOLE_DIR',
    default: '',
    schema: z.string(),
    doc: 'Directory of the built web console (index.html and assets/). Empty: dist/web of this installation. The console is served at /.',
  },
  databaseUrl: {
    env: 'DATABASE_URL',
    default: '',
    schema: z.union([z.literal(''), z.string().regex(/^postgres(ql)?:\/\//, 'must start with postgres://')]),
    doc: 'PostgreSQL connection string. Empty: the embedded store (PGlite) in CALLWARDEN_DATA_DIR.',
  },
  dataDir: { env: 'CALLWARDEN_DATA_DIR', default: './data', schema: z.string().min(1), doc: 'Directory of the embedded store and, in dev mode, the generated key. "memory:" keeps the embedded store in memory.' },
  redisUrl: {
    env: 'REDIS_URL',
    default: '',
    schema: z.union([z.literal(''), z.string().regex(/^rediss?:\/\//, 'must start with redis://')]),
    doc: 'Redis connection string. When set, per-IP rate limits are shared by every instance through Redis.',
  },
  encryptionKey: {
    env: 'CALLWARDEN_ENCRYPTION_KEY',
    default: '',
    schema: z.union([z.literal(''), z.string().refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes in base64 (openssl rand -base64 32)')]),
    doc: 'AES-256-GCM key (32 bytes, base64) encrypting TOTP secrets and other sensitive fields. Required in production mode.',
  },
  bootstrapAdminEmail: { env: 'CALLWARDEN_BOOTSTRAP_ADMIN_EMAIL', default: '', schema: z.union([z.literal(''), z.email()]), doc: 'On an empty store, create the platform operator with this email.' },
  bootstrapAdminPassword: { env: 'CALLWARDEN_BOOTSTRAP_ADMIN_PASSWORD', default: '', schema: z.string(), doc: 'Password of the bootstrapped operator (checked against the password rules).' },
  argon2MemoryKib: { env: 'CALLWARDEN_ARGON2_MEMORY_KIB', default: '19456', schema: int(8192, 4_194_304), doc: 'argon2id memory cost in KiB (OWASP: 19 MiB).' },
  argon2Iterations: { env: 'CALLWARDEN_ARGON2_ITERATIONS', default: '2', schema: int(1, 20), doc: 'argon2id time cost.' },
  argon2Parallelism: { env: 'CALLWARDEN_ARGON2_PARALLELISM', default: '1', schema: int(1, 16), doc: 'argon2id parallelism.' },
  logLevel: { env: 'CALLWARDEN_LOG_LEVEL', default: 'info', schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), doc: 'pino log level.' },
  trustProxy: { env: 'CALLWARDEN_TRUST_PROXY', default: 'false', schema: bool, doc: 'Take the client address from X-Forwarded-For (only behind your own proxy).' },
  ipAttemptsPerMinute: { env: 'CALLWARDEN_IP_ATTEMPTS_PER_MINUTE', default: '300', schema: int(1, 1_000_000), doc: 'Sign-in and verification attempts allowed per client address (IPv6 counted per /64) per minute.' },
  identifierAttemptsPerMinute: { env: 'CALLWARDEN_IDENTIFIER_ATTEMPTS_PER_MINUTE', default: '30', schema: int(1, 1_000_000), doc: 'Sign-in flows started per normalized identifier per minute.' },
  flowTtlSeconds: { env: 'CALLWARDEN_FLOW_TTL_SECONDS', default: '600', schema: int(30, 86_400), doc: 'How long a sign-in flow lives.' },
  flowAttemptBudget: { env: 'CALLWARDEN_FLOW_ATTEMPTS', default: '5', schema: int(1, 100), doc: 'Failed steps a single sign-in flow allows before it fails (the per-factor counters keep counting across flows).' },
  inviteTtlHours: { env: 'CALLWARDEN_INVITE_TTL_HOURS', default: '72', schema: int(1, 720), doc: 'How long an invitation (setup) link is valid.' },
  auditSealIntervalMs: { env: 'CALLWARDEN_AUDIT_SEAL_INTERVAL_MS', default: '1000', schema: int(0, 3_600_000), doc: 'How often the server seals new audit events into the hash chain (0: never in the background).' },
  auditMacKey: {
    env: 'CALLWARDEN_AUDIT_MAC_KEY',
    default: '',
    schema: z.union([z.literal(''), base64Key(32, 64)]),
    doc: 'Key of the HMAC-SHA256 each audit event carries (32 to 64 bytes, base64; openssl rand -base64 32). Never stored in the database. Empty: derived from CALLWARDEN_ENCRYPTION_KEY. Every instance must use the same key.',
  },
  auditMacPreviousKeys: {
    env: 'CALLWARDEN_AUDIT_MAC_PREVIOUS_KEYS',
    default: '',
    schema: base64KeyList(32, 64),
    doc: 'Earlier audit MAC keys, comma-separated base64: they only verify the events written under them (each event names its key id), so a rotated key keeps old events verifiable.',
  },
  auditSigningKey: {
    env: 'CALLWARDEN_AUDIT_SIGNING_KEY',
    default: '',
    schema: z.union([z.literal(''), base64Key(32, 32)]),
    doc: 'Ed25519 private key (its 32-byte seed, base64; openssl rand -base64 32) signing the audit chain head at each seal (the checkpoints). Empty: derived from CALLWARDEN_ENCRYPTION_KEY. The public key is served at /v1/audit/keys.',
  },
  auditSigningPreviousKeys: {
    env: 'CALLWARDEN_AUDIT_SIGNING_PREVIOUS_KEYS',
    default: '',
    schema: base64KeyList(32, 32),
    doc: 'Public keys (32 bytes, base64, comma-separated; publicKey in /v1/audit/keys) of earlier checkpoint signing keys: they verify the checkpoints signed before a rotation.',
  },
  auditCheckpoints: {
    env: 'CALLWARDEN_AUDIT_CHECKPOINTS',
    default: '',
    schema: z.string().trim().refine((v) => !v.includes('\0'), 'must be a path'),
    doc: 'File (or directory, then audit-checkpoints.jsonl in it) the sealer appends each signed checkpoint to as a JSON line, a copy of the chain heads outside the database for `callwarden audit verify --checkpoints`. Checkpoints also go to the log. Empty: the log only.',
  },
  sweepIntervalMs: { env: 'CALLWARDEN_SWEEP_INTERVAL_MS', default: '600000', schema: int(0, 86_400_000), doc: 'How often expired flows, sessions, invitations, replay-ledger entries and idle counters are removed (0: never).' },
  devOutboxApi: { env: 'CALLWARDEN_DEV_OUTBOX_API', default: '', schema: z.union([z.literal(''), bool]), doc: 'Serve the outbox reader API (messages with their links). Empty: on in dev mode, off in production.' },
  smtpUrl: {
    env: 'CALLWARDEN_SMTP_URL',
    default: '',
    schema: z.union([z.literal(''), z.url({ protocol: /^smtps?$/, hostname: /^.+$/, error: 'must be smtp://user:pass@host:port or smtps://…' })]),
    doc: 'SMTP server for email (smtp://user:pass@host:port, STARTTLS when offered and required in production except on loopback; smtps:// for TLS from the start). Empty: email stays in the outbox (dev).',
  },
  mailFrom: {
    env: 'CALLWARDEN_MAIL_FROM',
    default: '',
    schema: z.union([z.literal(''), z.string().trim().regex(/^[^<>]*<[^\s<>@]+@[^\s<>@]+>$|^[^\s<>@]+@[^\s<>@]+$/, 'must be an address or "Name <address>"')]),
    doc: 'Sender of email, e.g. "Callwarden <no-reply@example.com>". Required with CALLWARDEN_SMTP_URL.',
  },
  smsProvider: {
    env: 'CALLWARDEN_SMS_PROVIDER',
    default: 'none',
    schema: z.enum(['none', 'twilio', 'vonage', 'webhook']),
    doc: 'Who delivers SMS and voice messages: twilio (SMS and voice), vonage (SMS only), webhook (SMS and voice as signed JSON to CALLWARDEN_WEBHOOK_URL). none: they stay in the outbox (dev).',
  },
  twilioBaseUrl: { env: 'CALLWARDEN_TWILIO_BASE_URL', default: 'https://api.twilio.com', schema: httpUrl, doc: 'Base URL of the Twilio-style API (…/2010-04-01/Accounts/{sid}/Messages.json and Calls.json). Must be https in production except on loopback.' },
  twilioAccountSid: { env: 'CALLWARDEN_TWILIO_ACCOUNT_SID', default: '', schema: z.string().trim(), doc: 'Twilio account SID. Required when CALLWARDEN_SMS_PROVIDER=twilio.' },
  twilioAuthToken: { env: 'CALLWARDEN_TWILIO_AUTH_TOKEN', default: '', schema: z.string().trim(), doc: 'Twilio auth token: HTTP basic auth with the SID for SMS and calls (required when CALLWARDEN_SMS_PROVIDER=twilio), and the key that checks X-Twilio-Signature on the voice webhook (/v1/ivr/twilio/{tenant}/voice).' },
  twilioFrom: { env: 'CALLWARDEN_TWILIO_FROM', default: '', schema: z.string().trim(), doc: 'Twilio sender number (E.164) for SMS and calls. Required when CALLWARDEN_SMS_PROVIDER=twilio.' },
  vonageBaseUrl: { env: 'CALLWARDEN_VONAGE_BASE_URL', default: 'https://rest.nexmo.com', schema: httpUrl, doc: 'Base URL of the Vonage-style SMS API ({base}/sms/json). Must be https in production except on loopback.' },
  vonageApiKey: { env: 'CALLWARDEN_VONAGE_API_KEY', default: '', schema: z.string().trim(), doc: 'Vonage API key. Required when CALLWARDEN_SMS_PROVIDER=vonage.' },
  vonageApiSecret: { env: 'CALLWARDEN_VONAGE_API_SECRET', default: '', schema: z.string().trim(), doc: 'Vonage API secret. Required when CALLWARDEN_SMS_PROVIDER=vonage.' },
  vonageFrom: { env: 'CALLWARDEN_VONAGE_FROM', default: '', schema: z.string().trim(), doc: 'Vonage sender (number or alphanumeric ID). Required when CALLWARDEN_SMS_PROVIDER=vonage.' },
  webhookUrl: {
    env: 'CALLWARDEN_WEBHOOK_URL',
    default: '',
    schema: z.union([z.literal(''), httpUrl]),
    doc: 'Where the webhook provider POSTs messages (JSON, signed in x-callwarden-signature). Required when CALLWARDEN_SMS_PROVIDER=webhook; https in production except on loopback.',
  },
  webhookSecret: {
    env: 'CALLWARDEN_WEBHOOK_SECRET',
    default: '',
    schema: z.union([z.literal(''), z.string().min(32, 'must be at least 32 characters (openssl rand -hex 32)')]),
    doc: 'Shared secret of the webhook signature (HMAC-SHA256, at least 32 characters). Required when CALLWARDEN_SMS_PROVIDER=webhook.',
  },
  deliveryIntervalMs: { env: 'CALLWARDEN_DELIVERY_INTERVAL_MS', default: '1000', schema: int(0, 3_600_000), doc: 'How often the delivery worker looks for due outbox messages (0: never in the background).' },
} as const;

export type OptionKey = keyof typeof options;
