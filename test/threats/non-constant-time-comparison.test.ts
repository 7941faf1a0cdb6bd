/**
 * Threat: comparing secrets in non-constant time (a response time that grows with the number of
 * leading characters right lets an attacker recover a token or code byte by byte).
 * Requirement: ASVS 11.2.4 (constant-time comparison of secrets); the class named in the list of
 * advisories (e.g. the timing-unsafe `===` on signatures and tokens fixed across many auth libraries).
 *
 * No timing is measured (the handbook forbids timing assertions in tests). Instead, for every path on
 * which the server compares something an attacker presents with a secret, the attacker presents a
 * wrong value over HTTP and the test watches, through spies on the modules the server itself uses,
 * how it was compared:
 *  - by a constant-time primitive: `safeEqual` (src/crypto/tokens.ts, which hashes both sides and
 *    calls node:crypto `timingSafeEqual`), `timingSafeEqual` itself, otpauth's TOTP validation (which
 *    calls node:crypto `timingSafeEqual`, checked in its source below), or argon2 `verify`; or
 *  - by looking the value up by its digest (`hashToken` SHA-256 or a keyed `hmac`): the database then
 *    compares digests, which tells an attacker nothing about the secret's bytes; and in that case the
 *    raw value never reaches the database (every SQL parameter is watched).
 * Paths: flow tokens (read, step, enrollment), session tokens (bearer and cookie), setup-link tokens,
 * API keys, staff passwords, TOTP codes and recovery codes, caller codes, the customer's TOTP, PINs and
 * security answers, the Twilio request signature, and the delivery webhook's signature helper.
 *
 * A static scan then reads src/ for `===`, `!==`, `==` and `!=` with an operand named like a secret
 * (token, hash, code, secret, signature, pin, answer, password, otp, key, digest, hmac) and fails on
 * any that is not in the allow-list below, each entry with the reason it is not a secret comparison.
 *
 * Fails when: a path compares with `===` (e.g. `if (sig === expected)` in twiml.ts: safeEqual is then
 * not called, and the scan flags it); a token is looked up raw (it shows in the SQL parameters); a
 * new secret comparison is added to src/ without review.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { verifyWebhookSignature } from '../../src/delivery/webhook.js';
import { STRONG } from '../helpers/app.js';
import { callerFixture, lastCodeTo } from '../helpers/callers.js';
import { withTotp } from '../helpers/flows.js';
import { Attacker, totpCode, wrongCode } from './attacker.js';
import { sqlTaps, startTarget, type Target } from './server.js';

type Call = { fn: 'safeEqual' | 'timingSafeEqual' | 'hashToken' | 'hmac' | 'argon2.verify' | 'otpauth.validate'; args: unknown[] };
const rec = vi.hoisted(() => ({ calls: [] as Array<{ fn: string; args: unknown[] }> }));

vi.mock('node:crypto', async (importOriginal) => {
  const m = await importOriginal<typeof import('node:crypto')>();
  const timingSafeEqual = (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
    rec.calls.push({ fn: 'timingSafeEqual', args: [a, b] });
    return m.timingSafeEqual(a, b);
  };
  return { ...m, default: { ...m, timingSafeEqual }, timingSafeEqual };
});
vi.mock('../../src/crypto/tokens.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../src/crypto/tokens.js')>();
  return {
    ...m,
    safeEqual: (a: string | Buffer, b: string | Buffer) => {
      rec.calls.push({ fn: 'safeEqual', args: [a, b] });
      return m.safeEqual(a, b);
    },
    hashToken: (token: string) => {
      rec.calls.push({ fn: 'hashToken', args: [token] });
      return m.hashToken(token);
    },
    hmac: (key: Buffer, value: string) => {
      rec.calls.push({ fn: 'hmac', args: [value] });
      return m.hmac(key, value);
    },
  };
});
vi.mock('otpauth', async (importOriginal) => {
  const m = await importOriginal<typeof import('otpauth')>();
  const validate = m.TOTP.prototype.validate;
  m.TOTP.prototype.validate = function (this: InstanceType<typeof m.TOTP>, ...a: Parameters<typeof validate>) {
    rec.calls.push({ fn: 'otpauth.validate', args: [] });
    return validate.apply(this, a);
  };
  return m;
});
vi.mock('@node-rs/argon2', async (importOriginal) => {
  const m = await importOriginal<typeof import('@node-rs/argon2')>();
  return {
    ...m,
    verify: (hash: string, password: string | Buffer, ...rest: unknown[]) => {
      rec.calls.push({ fn: 'argon2.verify', args: [hash, password] });
      return (m.verify as (...a: unknown[]) => Promise<boolean>)(hash, password, ...rest);
    },
  };
});

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('secrets are compared in constant time', () => {
  let t: Target;
  let x: Attacker;
  let f: Awaited<ReturnType<typeof callerFixture>>;
  let staff: Awaited<ReturnType<typeof withTotp>>;
  let apiKey: string;
  let sqlParams: unknown[] = [];
  const tap = (_sql: string, params: readonly unknown[]) => void sqlParams.push(...params);

  beforeAll(async () => {
    t = await startTarget({ env: { CALLWARDEN_TWILIO_AUTH_TOKEN: 'twilio-auth-token-for-tests' } });
    x = new Attacker(t.url);
    f = await callerFixture(t);
    staff = await withTotp(t, f.agent);
    apiKey = (await x.post('/v1/tenants/acme/api-keys', { token: f.admin, body: { name: 'ivr', scopes: ['ivr'] } })).json.key;
    sqlTaps.add(tap);
  });
  afterAll(async () => {
    sqlTaps.delete(tap);
    x.close();
    await t.close();
  });

  /** Runs `attack` and returns the comparisons the server made meanwhile, and whether `secret` reached SQL. */
  async function watch(secret: string, attack: () => Promise<unknown>) {
    rec.calls.length = 0;
    sqlParams = [];
    await attack();
    const calls = [...rec.calls] as Call[];
    const fns = new Set(calls.map((c) => c.fn));
    const raw = sqlParams.some((p) => typeof p === 'string' && (secret.length >= 12 ? p.includes(secret) : p === secret));
    return { calls, fns, raw };
  }
  /** Every safeEqual went on to timingSafeEqual over two 32-byte digests. */
  const safeEqualIsConstantTime = (calls: Call[]) => {
    const safe = calls.filter((c) => c.fn === 'safeEqual').length;
    const tse = calls.filter((c) => c.fn === 'timingSafeEqual' && (c.args as Buffer[]).every((b) => b.length === 32)).length;
    expect(tse).toBeGreaterThanOrEqual(safe);
  };
  const digested = (calls: Call[], value: string) => calls.some((c) => (c.fn === 'hashToken' || c.fn === 'hmac') && typeof c.args[0] === 'string' && (c.args[0] as string).includes(value));

  it('flow tokens: looked up by digest, then compared with safeEqual (read, step, enrollment)', async () => {
    const { flow } = await x.startFlow('acme', 'agent@acme.test');
    const wrong = `${flow.token.slice(0, -4)}AAAA`; // right but for the last characters
    for (const attack of [
      () => x.get(`/v1/auth/flows/${flow.id}`, { flow: wrong }),
      () => x.password({ id: flow.id, token: wrong }, STRONG),
      () => x.post(`/v1/auth/flows/${flow.id}/enroll/totp`, { flow: wrong }),
    ]) {
      const w = await watch(wrong, attack);
      expect(digested(w.calls, wrong)).toBe(true);
      expect(w.fns.has('safeEqual')).toBe(true);
      safeEqualIsConstantTime(w.calls);
      expect(w.raw).toBe(false);
    }
  });

  it('session tokens, setup-link tokens and API keys: looked up by their SHA-256 only', async () => {
    const session = `${f.admin.slice(0, -4)}AAAA`;
    const key = `${apiKey.slice(0, -4)}AAAA`;
    const cases: Array<[string, string, () => Promise<unknown>]> = [
      ['session bearer', session, () => x.get('/v1/me', { token: session })],
      ['session cookie', session, () => x.get('/v1/me', { cookie: `cw_session=${session}` })],
      ['setup link', 'A'.repeat(43), () => x.post('/v1/invitations/inspect', { body: { token: 'A'.repeat(43) } })],
      ['setup link accept', 'B'.repeat(43), () => x.post('/v1/invitations/accept', { body: { token: 'B'.repeat(43), password: STRONG } })],
      ['API key', key, () => x.get(`/v1/ivr/verifications/${f.customerId}/prompt`, { token: key })],
    ];
    for (const [name, secret, attack] of cases) {
      const w = await watch(secret, attack);
      expect(digested(w.calls, secret), name).toBe(true);
      expect(w.raw, name).toBe(false);
    }
  });

  it('staff passwords, TOTP codes and recovery codes', async () => {
    const pw = await watch('not the password 12345', async () => x.password((await x.startFlow('acme', 'agent@acme.test')).flow, 'not the password 12345'));
    expect(pw.fns.has('argon2.verify')).toBe(true);
    expect(pw.raw).toBe(false);

    const flow = await x.pastPassword('acme', 'agent@acme.test', STRONG);
    const code = wrongCode(staff.secret, t.clock.now());
    const totp = await watch(code, () => x.factor(flow, 'totp', code));
    expect(totp.fns.has('otpauth.validate')).toBe(true);
    expect(totp.raw).toBe(false);

    const rc = 'abcd-efgh-jkmn';
    const recovery = await watch(rc, () => x.factor(flow, 'recovery_code', rc));
    expect(digested(recovery.calls, 'abcdefghjkmn')).toBe(true); // an HMAC under a server-side key, then a lookup
    expect(recovery.raw).toBe(false);
    expect(sqlParams.some((p) => p === 'abcdefghjkmn')).toBe(false);
  });

  it("caller codes, the customer's TOTP, PINs and security answers", async () => {
    const v = (await x.post('/v1/tenants/acme/verifications', { token: f.admin, body: { customerId: f.customerId, interactionId: 'call-ct', level: 'high' } })).json.id as string;
    expect((await x.post(`/v1/tenants/acme/verifications/${v}/codes`, { token: f.admin, body: { contactId: f.phoneId, channel: 'sms' } })).status).toBe(200);
    const right = await lastCodeTo(t, '+14155550134');
    const wrong = right === '999999' ? '999998' : `${right.slice(0, 5)}${(Number(right[5]) + 1) % 10}`;
    const code = await watch(wrong, () => x.post(`/v1/tenants/acme/verifications/${v}/codes/check`, { token: f.admin, body: { code: wrong } }));
    expect(code.fns.has('timingSafeEqual')).toBe(true);
    expect(digested(code.calls, `${v}:${wrong}`)).toBe(true); // the HMAC bound to the verification
    expect(code.raw).toBe(false);

    const bound = await x.post(`/v1/tenants/acme/customers/${f.customerId}/totp`, { token: f.admin, body: {} });
    await x.post(`/v1/tenants/acme/customers/${f.customerId}/totp/${bound.json.factorId}/confirm`, { token: f.admin, body: { code: totpCode(bound.json.secret, t.clock.now()) } });
    const ctotp = wrongCode(bound.json.secret, t.clock.now());
    const customerTotp = await watch(ctotp, () => x.post(`/v1/tenants/acme/verifications/${v}/totp`, { token: f.admin, body: { code: ctotp } }));
    expect(customerTotp.fns.has('otpauth.validate')).toBe(true);
    expect(customerTotp.raw).toBe(false);

    const pin = await watch('193746', () => x.post(`/v1/tenants/acme/verifications/${v}/pin`, { token: f.admin, body: { pin: '193746' } }));
    expect(pin.fns.has('argon2.verify')).toBe(true);
    expect(pin.raw).toBe(false);

    await x.post(`/v1/tenants/acme/verifications/${v}/question`, { token: f.admin });
    const answer = await watch('Not the answer at all', () => x.post(`/v1/tenants/acme/verifications/${v}/question/answer`, { token: f.admin, body: { answer: 'Not the answer at all' } }));
    expect(answer.fns.has('argon2.verify')).toBe(true);
    expect(answer.raw).toBe(false);
  });

  it('the Twilio request signature and the delivery webhook signature', async () => {
    const sig = 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=';
    const twilio = await watch(sig, () => x.post('/v1/ivr/twilio/acme/voice', { raw: 'CallSid=CA1&From=%2B14155550134', contentType: 'application/x-www-form-urlencoded', headers: { 'x-twilio-signature': sig } }));
    expect(twilio.calls.some((c) => c.fn === 'safeEqual' && c.args[0] === sig)).toBe(true);
    safeEqualIsConstantTime(twilio.calls);
    // the receiver-side helper for the signed delivery webhook (no inbound route: called directly)
    const body = '{"id":"1"}';
    const now = Date.now();
    const hook = await watch('0'.repeat(64), async () => verifyWebhookSignature({ secret: 's'.repeat(32), header: `t=${Math.floor(now / 1000)},v1=${'0'.repeat(64)}`, body, now }));
    expect(hook.fns.has('timingSafeEqual')).toBe(true);
  });

  it("otpauth compares codes with node:crypto's timingSafeEqual (its source, as installed)", () => {
    const src = readFileSync(join(ROOT, 'node_modules/otpauth/dist/otpauth.node.mjs'), 'utf8');
    expect(src).toMatch(/import \* as crypto from 'node:crypto'/);
    expect(src).toMatch(/const timingSafeEqual = \(a, b\)=>\{\s*if \(crypto\?\.timingSafeEqual\) \{\s*return crypto\.timingSafeEqual\(/);
    expect(src).toMatch(/if \(timingSafeEqual\(token, generatedToken\)\)/);
  });
});

/**
 * Comparisons in src/ whose operands are named like secrets but are not secret comparisons, by
 * "file: left op right" as the scan prints them, with the reason.
 */
const ALLOWED: Record<string, string> = {
  "src/methods/webauthn/index.ts: cred.status === 'suspended'": "a security key's status, not a secret",
  'src/methods/webauthn/index.ts: cred.subjectId !== subject.id': 'whose key it is (ids), not a secret',
  "src/methods/webauthn/index.ts: info.credentialDeviceType === 'multiDevice'": "the authenticator's device type (synced or not)",
  "src/methods/webauthn/registration.ts: a.keyKind === 'passkey'": 'which kind of key is being registered',
  "src/methods/webauthn/registration.ts: a.keyKind === 'security_key'": 'which kind of key is being registered',
  "src/methods/webauthn/registration.ts: slot.keyKind === 'passkey'": 'which kind of key is being registered',
  'src/storage/repositories/flow-claims.ts: r.credentialRef !== undefined': "whether an answer names a key (its public credential ID)",
  'src/audit/verify.ts: prevHash === expectedPrev': 'audit chain hashes: public integrity data, not secrets',
  'src/audit/verify.ts: safeHash(prevHash, fields) === hash': 'audit chain hashes: public integrity data, not secrets',
  'src/audit/verify.ts: head.last_hash !== last.hash': 'audit chain hashes: public integrity data, not secrets',
  'src/cli/main.ts: e.exitCode === 0': 'a process exit code',
  'src/customers/csv.ts: text.charCodeAt(0) === 0xfeff': 'a byte-order mark at the start of an import file',
  'src/crypto/aead.ts: key.length !== 32': 'the length of the key, which is public (32 bytes)',
  'src/customers/pin-rules.ts: pin.slice(0, n).repeat(pin.length / n) === pin': 'weak-PIN rule on a PIN being set, not a check of a stored one',
  'src/customers/pin-rules.ts: tail(p) === pin': 'weak-PIN rule on a PIN being set (not the phone number on file)',
  'src/customers/pin-rules.ts: tail(ctx.accountNumber) === pin': 'weak-PIN rule on a PIN being set (not the account number)',
  'src/customers/pin-rules.ts: ctx.cardLast4 === pin': 'weak-PIN rule on a PIN being set (not the last four of the card)',
  "src/delivery/smtp.ts: e.responseCode === 'number'": 'typeof of an SMTP reply code',
  "src/delivery/smtp.ts: e.code === 'EENVELOPE'": 'an error code',
  "src/delivery/webhook.ts: key === 't'": 'a parameter name of the signature header',
  "src/delivery/webhook.ts: key === 'v1'": 'a parameter name of the signature header',
  "src/flows/ivr-script.ts: e.code === 'invalid_factor'": 'an error code',
  "src/flows/ivr-script.ts: e.code === 'too_many_attempts'": 'an error code',
  "src/flows/ivr-script.ts: e.code === 'flow_failed'": 'an error code',
  "src/flows/ivr-script.ts: e.code === 'flow_state'": 'an error code',
  "src/flows/ivr-script.ts: e.code === 'flow_expired'": 'an error code',
  "src/http/error-handler.ts: err.statusCode === 'number'": 'typeof of an HTTP status',
  'src/http/error-handler.ts: err.statusCode === 413': 'an HTTP status',
  'src/http/error-handler.ts: err.statusCode === 415': 'an HTTP status',
  'src/http/error-handler.ts: err.statusCode === 429': 'an HTTP status',
  "src/http/error-handler.ts: err.code === 'FST_ERR_BAD_URL'": 'an error code',
  "src/http/error-handler.ts: err.code === 'FST_ERR_MAX_PARAM_LENGTH'": 'an error code',
  "src/http/error-handler.ts: code === 'internal'": 'an error code',
  "src/http/routes/twilio-voice.ts: sig === 'string'": 'typeof of the signature header (compared with safeEqual)',
  "src/services/customers.ts: err.code !== '23505'": 'a PostgreSQL error code',
  'src/services/customers.ts: pin !== null': 'whether a PIN is set',
  'src/services/customers.ts: totp !== undefined': 'whether an authenticator is bound',
  'src/services/users.ts: c.subject === passwordSubject(tenant.id, u.email)': 'an attempt-counter key (tenant and email), not a secret',
  "src/audit/checkpoint.ts: c.hash === 'string'": "typeof of a checkpoint's chain hash (public integrity data)",
  "src/audit/checkpoint.ts: c.keyId === 'string'": "typeof of a checkpoint's key id",
  "src/audit/checkpoint.ts: c.sig === 'string'": "typeof of a checkpoint's signature (checked with Ed25519, not compared)",
  'src/audit/mac.ts: row.mac_key_id === null': 'whether an event carries a MAC key id (an id, not a key)',
  'src/audit/seal.ts: head.keyed !== false': 'whether a chain head is keyed (a flag)',
  'src/audit/verify-swaps.ts: safeHash(a.prevHash, fields as unknown as EventFields) === a.hash': 'audit chain hashes: public integrity data, not secrets',
  'src/audit/verify.ts: at.hash !== cp.hash': 'audit chain hashes against a checkpoint: public integrity data, not secrets',
  'src/audit/verify.ts: safeHash(expectedPrev, fields) === hash': 'audit chain hashes: public integrity data, not secrets',
  "src/cli/commands/audit.ts: code !== 'ENOENT'": 'a file-system error code',
  "src/engine/engine.ts: e.code !== 'flow_invalid'": 'an error code',
  "src/engine/engine.ts: e.code !== 'not_found'": 'an error code',
  'src/engine/engine.ts: plan.secretHash !== undefined': 'whether a step sets a new flow-token hash (no comparison of its value)',
  "src/flows/signin.ts: e.code !== 'flow_invalid'": 'an error code',
  "src/flows/verification.ts: e.code === 'flow_expired'": 'an error code',
  "src/flows/verification.ts: e.code === 'flow_failed'": 'an error code',
  "src/flows/verification.ts: e.code === 'flow_invalid'": 'an error code',
  "src/flows/verification.ts: e.code === 'flow_state'": 'an error code',
  "src/http/routes/audit.ts: code === 'ENOENT'": 'a file-system error code',
  'src/http/routes/audit.ts: k.id === keys.signing.id': 'a public key id',
  "src/http/routes/twilio-voice.ts: token === 'string'": 'typeof of the idempotency token header',
  'src/http/routes/verifications.ts: caller.apiKey.tenantId === r.tenantId': "tenant ids (the API key's tenant), not secrets",
  "src/http/webhook-once.ts: answer === 'string'": 'typeof of a stored webhook answer',
  'src/http/webhook-once.ts: reply.statusCode === 200': 'an HTTP status',
  "src/methods/totp/index.ts: cred.status === 'pending'": "a credential's status",
  "src/storage/repositories/credentials.ts: code === '23505'": 'a PostgreSQL error code',
  'src/storage/repositories/flow-claims.ts: cred.material === null': 'whether a credential has material (no comparison of its value)',
  'src/storage/repositories/flow-records.ts: code === GUARD': "a PostgreSQL error code (the guard's division by zero)",
  'src/storage/repositories/flow-records.ts: t.secretHash !== undefined': 'whether an advance sets a new flow-token hash (no comparison of its value)',
};

const SECRET_NAME = /token|hash|code|secret|signature|\bsig\b|\bpin\b|answer|password|passw|otp|key|digest|hmac|cred/i;
const LEFT = /((?:[A-Za-z_$][\w$]*)(?:\??\.[A-Za-z_$][\w$]*|\[[^\]]*\]|\((?:[^()]|\([^()]*\))*\))*)\s*$/;
const RIGHT = /^\s*((?:[A-Za-z_$][\w$]*|'[^']*'|"[^"]*"|`[^`]*`|0x[0-9a-fA-F]+|\d+)(?:\??\.[A-Za-z_$][\w$]*|\[[^\]]*\]|\((?:[^()]|\([^()]*\))*\))*)/;

/** Every equality comparison in src/ with an operand named like a secret, as "file: left op right". */
function scan(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir)) {
      const p = join(dir, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) files.push(p);
    }
  };
  walk(join(ROOT, 'src'));
  const found: string[] = [];
  for (const file of files) {
    const rel = file.slice(ROOT.length);
    for (const raw of readFileSync(file, 'utf8').split('\n')) {
      if (/^\s*(\*|\/\*|\/\/)/.test(raw)) continue;
      const line = raw.replace(/\/\/.*$/, '');
      for (const m of line.matchAll(/(===|!==|==|!=)/g)) {
        const left = LEFT.exec(line.slice(0, m.index))?.[1] ?? '';
        const right = RIGHT.exec(line.slice(m.index! + m[0].length))?.[1] ?? '';
        const names = `${left} ${right}`.replace(/'[^']*'|"[^"]*"|`[^`]*`/g, '');
        if (SECRET_NAME.test(names)) found.push(`${rel}: ${left} ${m[0]} ${right}`);
      }
    }
  }
  return [...new Set(found)].sort();
}

describe('static scan of src/ for secret comparisons with ===', () => {
  it('finds no comparison of a secret-named operand outside the allow-list, and no stale allow-list entry', () => {
    const found = scan();
    expect(found.length).toBeGreaterThan(10); // the scan sees the code (the allow-listed ones at least)
    expect(found.filter((k) => !(k in ALLOWED))).toEqual([]);
    expect(Object.keys(ALLOWED).filter((k) => !found.includes(k))).toEqual([]);
  });

  it('would catch a timing-unsafe comparison (the scanner on a planted line)', () => {
    const planted = ['  if (signature === expected) return true;', '  return sessionToken == presented;', '  if (codeHash !== stored.code_hash) throw e;'];
    for (const line of planted) {
      const m = /(===|!==|==|!=)/.exec(line)!;
      const names = `${LEFT.exec(line.slice(0, m.index))?.[1]} ${RIGHT.exec(line.slice(m.index + m[0].length))?.[1]}`;
      expect(SECRET_NAME.test(names), line).toBe(true);
    }
  });
});
