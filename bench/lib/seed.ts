/**
 * Users for the run: one through the documented API walk (operator -> tenant -> invite -> accept ->
 * sign in -> TOTP), the load users straight through the repositories (same rows, much faster).
 */
import { randomUUID } from 'node:crypto';
import { Secret } from 'otpauth';
import { normalizePassword } from '../../src/methods/password/rules.js';
import { hotp, newTotpSecret } from '../../src/methods/totp/core.js';
import type { Running } from '../../src/server.js';
import type { Services } from '../../src/services/context.js';
import { createOperator } from '../../src/services/tenants.js';
import { CredentialRepo } from '../../src/storage/repositories/credentials.js';
import { UserRepo } from '../../src/storage/repositories/users.js';
import { fail, OPERATOR, PASSWORD, STEP_MS, systemOrigin, TENANT } from './common.js';

export interface WalkedUser {
  email: string;
  secret: Buffer;
  confirmedStep: number;
}
export interface LoadUser {
  email: string;
  secretHex: string;
}

async function http(base: string, method: string, path: string, o: { token?: string; flow?: string; body?: unknown } = {}) {
  const headers: Record<string, string> = {};
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  if (o.flow) headers['x-flow-token'] = o.flow;
  const res = await fetch(base + path, { method, headers, ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}) });
  const json = (await res.json().catch(() => ({}))) as Record<string, any>;
  return { status: res.status, json };
}

async function passwordSignIn(base: string, tenant: string, email: string, password: string): Promise<string> {
  const start = await http(base, 'POST', '/v1/auth/flows', { body: { tenant, identifier: email } });
  const pw = await http(base, 'POST', `/v1/auth/flows/${start.json.flow?.id}/password`, { flow: start.json.flowToken, body: { password } });
  const token = pw.json.session?.token;
  if (typeof token !== 'string') throw new Error(`sign-in of ${email}: ${pw.status} ${JSON.stringify(pw.json)}`);
  return token;
}

const expect = (r: { status: number; json: unknown }, status: number, what: string) => {
  if (r.status !== status) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json as Record<string, any>;
};

/** The documented walk, over HTTP: operator -> tenant -> invite -> accept -> sign in -> TOTP. */
export async function seedThroughApi(running: Running): Promise<WalkedUser> {
  const s = running.services;
  const base = running.url;
  await createOperator(s, { ...OPERATOR, origin: systemOrigin });
  const op = await passwordSignIn(base, 'platform', OPERATOR.email, OPERATOR.password);
  expect(await http(base, 'POST', '/v1/tenants', { token: op, body: { slug: TENANT, name: 'Bench Contact Center', mfaMode: 'optional' } }), 201, 'create tenant');
  const email = 'walk@bench.test';
  expect(await http(base, 'POST', `/v1/tenants/${TENANT}/users`, { token: op, body: { email, roles: ['agent'] } }), 201, 'invite');
  const [mail] = (await s.store.outbox.list({ recipient: email, limit: 10 })).filter((m) => m.template === 'invitation');
  const setup = /#token=([\w-]+)/.exec(mail?.body ?? '')?.[1] ?? fail('no invitation in the outbox');
  expect(await http(base, 'POST', '/v1/invitations/accept', { body: { token: setup, password: PASSWORD } }), 200, 'accept');
  const session = await passwordSignIn(base, TENANT, email, PASSWORD);
  const begun = expect(await http(base, 'POST', '/v1/me/factors/totp', { token: session }), 201, 'begin TOTP');
  const secret = Buffer.from(Secret.fromBase32(begun.secret as string).buffer);
  const step = Math.floor(Date.now() / STEP_MS);
  expect(await http(base, 'POST', `/v1/me/factors/totp/${begun.factorId}/confirm`, { token: session, body: { code: hotp(secret, step) } }), 200, 'confirm TOTP');
  return { email, secret, confirmedStep: step };
}

/**
 * The load users, straight through the repositories: active, one shared password hash, one TOTP
 * factor each; 250 users per transaction (repositories over the transaction), which is much faster
 * than one commit per statement, above all on PGlite.
 */
export async function seedDirect(s: Services, n: number): Promise<LoadUser[]> {
  const tenant = (await s.store.tenants.bySlug(TENANT)) ?? fail('bench tenant missing');
  const hash = await s.hasher.hash(normalizePassword(PASSWORD));
  const users: LoadUser[] = [];
  const BATCH = 250;
  for (let from = 0; from < n; from += BATCH) {
    await s.store.db.transaction().execute(async (trx) => {
      const usersRepo = new UserRepo(trx);
      const credentials = new CredentialRepo(trx);
      for (let i = from; i < Math.min(n, from + BATCH); i++) {
        const now = s.clock();
        const userId = randomUUID();
        const email = `agent${String(i).padStart(5, '0')}@bench.test`;
        await usersRepo.create({ id: userId, tenantId: tenant.id, email, displayName: `Agent ${i}`, roles: ['agent'], status: 'active', passwordHash: hash, now });
        const factorId = randomUUID();
        const secret = newTotpSecret();
        // Sealed as src/factors/totp.ts seals it (AAD "totp:<factor id>"); the sanity login below checks it.
        await credentials.createPending({ id: factorId, tenantId: tenant.id, subject: { type: 'user', id: userId }, kind: 'totp', label: 'Authenticator app', material: s.aead.seal(secret, `totp:${factorId}`), now });
        if (!(await credentials.activate({ type: 'user', id: userId }, factorId, now))) throw new Error(`activate factor of ${email}`);
        users[i] = { email, secretHex: secret.toString('hex') };
      }
    });
  }
  return users;
}
