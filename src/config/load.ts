import { mkdirSync, readFileSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { randomBytes, X509Certificate } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { options, type OptionKey } from './defaults.js';

type Parsed = { [K in OptionKey]: z.output<(typeof options)[K]['schema']> };

export interface Config extends Omit<Parsed, 'encryptionKey' | 'devOutboxApi' | 'publicUrl' | 'webauthnOrigins'> {
  /** WebAuthn: the RP ID and the origins ceremonies may come from (checked against each other at start). */
  webauthnOrigins: string[];
  encryptionKey: Buffer;
  devOutboxApi: boolean;
  publicUrl: string;
  /** True when the key was generated for dev mode rather than configured. */
  generatedKey: boolean;
}

export class ConfigError extends Error {
  constructor(readonly variable: string, detail: string) {
    super(`invalid configuration: ${variable}: ${detail}`);
  }
}

/** Reads and validates configuration; throws ConfigError naming the variable on the first bad value. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = {} as Record<string, unknown>;
  for (const [key, opt] of Object.entries(options)) {
    const raw = env[opt.env] ?? opt.default;
    const result = (opt.schema as z.ZodType).safeParse(raw);
    if (!result.success) throw new ConfigError(opt.env, result.error.issues.map((i) => i.message).join('; '));
    parsed[key] = result.data;
  }
  const p = parsed as Parsed;
  if (p.bootstrapAdminEmail && !p.bootstrapAdminPassword) {
    throw new ConfigError('CALLWARDEN_BOOTSTRAP_ADMIN_PASSWORD', 'required when CALLWARDEN_BOOTSTRAP_ADMIN_EMAIL is set');
  }
  checkDelivery(p);
  checkAudit(p);
  checkMdsRoots(p);
  let key: Buffer;
  let generatedKey = false;
  if (p.encryptionKey) key = Buffer.from(p.encryptionKey, 'base64');
  else if (p.mode === 'production') throw new ConfigError('CALLWARDEN_ENCRYPTION_KEY', 'required in production mode (openssl rand -base64 32)');
  else {
    key = devKey(p.dataDir);
    generatedKey = true;
  }
  const publicUrl = (p.publicUrl || `http://${p.host === '0.0.0.0' ? 'localhost' : p.host}:${p.port}`).replace(/\/$/, '');
  return {
    ...p,
    encryptionKey: key,
    generatedKey,
    devOutboxApi: p.devOutboxApi === '' ? p.mode === 'dev' : p.devOutboxApi,
    publicUrl,
    ...webauthnRelyingParty(p, publicUrl),
  };
}

/**
 * The WebAuthn RP ID and allowed origins: each origin's host must be the RP ID or inside it (a
 * registrable-suffix match), https unless it is localhost; refused at start otherwise, since every
 * ceremony would fail (or, worse, bind keys to the wrong site).
 */
function webauthnRelyingParty(p: Parsed, publicUrl: string): { webauthnRpId: string; webauthnOrigins: string[] } {
  const pub = new URL(publicUrl);
  const publicHost = pub.hostname.toLowerCase();
  if (!p.webauthnRpId && !p.webauthnOrigins) {
    // nothing configured: the public URL's own host, when a browser accepts it as an RP ID; on a
    // loopback address (the default 127.0.0.1) keys work at http://localhost:PORT; otherwise (an IP
    // address, or plain http elsewhere) WebAuthn is off until configured (an empty RP ID)
    if (isLoopbackHost(publicHost)) return { webauthnRpId: 'localhost', webauthnOrigins: [`${pub.protocol}//localhost${pub.port ? `:${pub.port}` : ''}`] };
    if (/^[\d.]+$|:/.test(publicHost) || pub.protocol !== 'https:') return { webauthnRpId: '', webauthnOrigins: [] };
    return { webauthnRpId: publicHost, webauthnOrigins: [pub.origin] };
  }
  const rpId = p.webauthnRpId || publicHost;
  const listed = p.webauthnOrigins ? p.webauthnOrigins.split(',').map((o) => o.trim()).filter(Boolean) : [pub.origin];
  const origins: string[] = [];
  for (const raw of listed) {
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      throw new ConfigError(options.webauthnOrigins.env, `${raw} is not an origin (scheme://host[:port])`);
    }
    if (u.origin !== raw.replace(/\/$/, '')) throw new ConfigError(options.webauthnOrigins.env, `${raw} is not an origin (no path, query or credentials)`);
    const host = u.hostname.toLowerCase();
    const local = host === 'localhost' || host.endsWith('.localhost');
    if (u.protocol !== 'https:' && !(u.protocol === 'http:' && local)) throw new ConfigError(options.webauthnOrigins.env, `${raw} must be https (http only on localhost)`);
    const variable = p.webauthnOrigins ? options.webauthnOrigins.env : options.webauthnRpId.env;
    if (host !== rpId && !host.endsWith(`.${rpId}`)) throw new ConfigError(variable, `the RP ID ${rpId} does not fit the origin ${u.origin} (it must be its host or a parent domain)`);
    origins.push(u.origin);
  }
  return { webauthnRpId: rpId, webauthnOrigins: origins };
}

const isLoopbackHost = (h: string) => h === 'localhost' || h === '[::1]' || h === '::1' || /^127\./.test(h);

/** What each SMS provider needs; its URLs must be https in production unless they point at loopback. */
const deliveryNeeds = {
  none: [],
  twilio: ['twilioBaseUrl', 'twilioAccountSid', 'twilioAuthToken', 'twilioFrom'],
  vonage: ['vonageBaseUrl', 'vonageApiKey', 'vonageApiSecret', 'vonageFrom'],
  webhook: ['webhookUrl', 'webhookSecret'],
} as const satisfies Record<Parsed['smsProvider'], readonly OptionKey[]>;

function checkDelivery(p: Parsed): void {
  if (p.smtpUrl && !p.mailFrom) throw new ConfigError('CALLWARDEN_MAIL_FROM', 'required when CALLWARDEN_SMTP_URL is set');
  for (const k of deliveryNeeds[p.smsProvider]) {
    const value = p[k];
    if (!value) throw new ConfigError(options[k].env, `required when CALLWARDEN_SMS_PROVIDER=${p.smsProvider}`);
    if (k.endsWith('Url') && p.mode === 'production' && !value.startsWith('https:') && !isLoopbackUrl(value)) {
      throw new ConfigError(options[k].env, 'must be https in production (plain http only to a loopback address)');
    }
  }
}

/** The MDS roots file must hold at least one PEM certificate that parses. */
function checkMdsRoots(p: Parsed): void {
  if (!p.fidoMdsRoots) return;
  let text: string;
  try {
    text = readFileSync(p.fidoMdsRoots, 'utf8');
  } catch {
    throw new ConfigError(options.fidoMdsRoots.env, `${p.fidoMdsRoots} cannot be read`);
  }
  const pems = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  try {
    if (!pems.length) throw new Error('none');
    for (const pem of pems) new X509Certificate(pem);
  } catch {
    throw new ConfigError(options.fidoMdsRoots.env, `${p.fidoMdsRoots} holds no PEM certificate that parses`);
  }
}

/** The PEM certificates of a file (checked at start by loadConfig). */
export const pemCertificates = (path: string): string[] => readFileSync(path, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];

/**
 * The audit checkpoint path must name an existing directory, an existing file, or a new file in an
 * existing directory (so a typo is refused at start, not found at the first seal).
 */
function checkAudit(p: Parsed): void {
  const path = p.auditCheckpoints;
  if (!path) return;
  const env = options.auditCheckpoints.env;
  if (existsSync(path)) {
    const st = statSync(path);
    if (!st.isDirectory() && !st.isFile()) throw new ConfigError(env, 'must be a regular file or a directory');
    return;
  }
  const dir = dirname(resolve(path));
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ConfigError(env, `directory ${dir} does not exist`);
}

/** True for URLs whose host is localhost, 127.0.0.0/8 or ::1. */
export function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Dev mode only: a key generated once and kept in the data directory so restarts can decrypt. */
function devKey(dataDir: string): Buffer {
  if (dataDir.startsWith('memory:')) return randomBytes(32);
  const file = join(dataDir, 'dev-encryption.key');
  if (existsSync(file)) return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600 });
  return key;
}
