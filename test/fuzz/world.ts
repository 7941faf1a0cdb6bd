/**
 * The seeded world the fuzzer talks to: the operator, tenant `acme` with an administrator, an agent,
 * a supervisor and a user whose sign-in flows the fuzzer drives, a customer with contacts, PIN,
 * questions and a pending authenticator, a custom role, an IVR API key, verifications started by an
 * agent and by the IVR, a pending approval, and a sign-in flow with its token. The fuzzer disables
 * users, revokes sessions and keys and rewrites the policy; `restore()` puts the world back before
 * each operation so every route is reached with live credentials, not only with 401s.
 */
import { randomUUID } from 'node:crypto';
import { enableUser, unlockUser } from '../../src/services/users.js';
import { currentPolicy, savePolicy } from '../../src/services/policies.js';
import { api, invitationToken, json, OPERATOR, signIn, STRONG, testApp, type TestApp } from '../helpers/app.js';
import { callerFixture } from '../helpers/callers.js';

export const TWILIO_TOKEN = 'fuzz-twilio-auth-token';
export const PUBLIC_URL = 'https://callwarden.fuzz.test';
const SYSTEM = { ip: null, userAgent: null, requestId: null, channel: 'system' as const };

export interface Principal {
  email: string;
  tenant: string;
  roles: string[];
  id: string;
  token: string;
}

export type World = Awaited<ReturnType<typeof buildWorld>>;

export async function buildWorld() {
  const t: TestApp = await testApp({ env: { CALLWARDEN_TWILIO_AUTH_TOKEN: TWILIO_TOKEN, CALLWARDEN_PUBLIC_URL: PUBLIC_URL } });
  const a = api(t.app);
  const f = await callerFixture(t);
  const must = async (what: string, p: Promise<{ statusCode: number; body: string }>, ok = [200, 201, 202]) => {
    const r = await p;
    if (!ok.includes(r.statusCode)) throw new Error(`fuzz world: ${what}: ${r.statusCode} ${r.body}`);
    return JSON.parse(r.body) as Record<string, any>;
  };

  // more users: a supervisor and a user whose sign-in flows are fuzzed (so the others never lock out)
  const extra: Record<string, string[]> = { 'supervisor@acme.test': ['supervisor'], 'flow@acme.test': ['agent'] };
  const ids: Record<string, string> = {};
  for (const [email, roles] of Object.entries(extra)) {
    ids[email] = (await must(`invite ${email}`, a.post('/v1/tenants/acme/users', { token: f.admin, body: { email, roles } }))).id;
    await must(`accept ${email}`, a.post('/v1/invitations/accept', { body: { token: await invitationToken(t.s, email), password: STRONG } }));
  }
  const opMe = await must('operator me', a.get('/v1/me', { token: f.operatorToken }));
  const principals: Record<'operator' | 'admin' | 'agent' | 'supervisor', Principal> = {
    operator: { email: OPERATOR.email, tenant: 'platform', roles: opMe.roles as string[], id: opMe.userId as string, token: f.operatorToken },
    admin: { email: 'admin@acme.test', tenant: 'acme', roles: ['tenant_admin'], id: f.users['admin@acme.test']!.id, token: f.admin },
    agent: { email: 'agent@acme.test', tenant: 'acme', roles: ['agent'], id: f.users['agent@acme.test']!.id, token: f.agent },
    supervisor: { email: 'supervisor@acme.test', tenant: 'acme', roles: ['supervisor'], id: ids['supervisor@acme.test']!, token: '' },
  };
  principals.supervisor.token = (await signIn(t.app, 'acme', principals.supervisor.email, STRONG)).token!;

  await must('role', a.put('/v1/tenants/acme/roles/fuzz_role', { token: f.admin, body: { description: 'Fuzz', permissions: ['users.read'] } }));
  const key = await must('api key', a.post('/v1/tenants/acme/api-keys', { token: f.admin, body: { name: 'Fuzz IVR', scopes: ['ivr'] } }));
  const customerTotp = await must('customer totp', a.post(`/v1/tenants/acme/customers/${f.customerId}/totp`, { token: f.admin, body: {} }));
  const adminTotp = await must('admin totp', a.post('/v1/me/factors/totp', { token: f.admin }));
  const sessions = await must('sessions', a.get('/v1/me/sessions', { token: f.agent }));
  const approval = await a.post(`/v1/tenants/acme/users/${principals.agent.id}/reset-factors`, { token: f.admin, body: { reason: 'Lost phone, checked on video' } });
  const baseline = await currentPolicy(t.s, f.tenantId);
  let policyVersion = baseline.version;

  const state = {
    apiKey: key.key as string,
    apiKeyId: key.apiKey.id as string,
    interactionId: 'CALL-FUZZ-1',
    verificationId: '',
    ivrVerificationId: '',
    flowId: '',
    flowToken: '',
    flowUserId: ids['flow@acme.test']!,
    customerFactorId: customerTotp.factorId as string,
    adminFactorId: adminTotp.factorId as string,
    sessionId: (sessions.sessions?.[0]?.id as string | undefined) ?? randomUUID(),
    approvalId: approval.statusCode === 202 ? (json(approval).approval.id as string) : randomUUID(),
  };

  const world = {
    t,
    app: t.app,
    tenant: 'acme',
    tenantId: f.tenantId,
    customerId: f.customerId,
    phoneId: f.phoneId,
    emailId: f.emailId,
    principals,
    state,
    /** The tenant's policy as seeded (restored before each operation; mutated by the fuzzer). */
    baselinePolicy: baseline.policy as unknown as Record<string, unknown>,
    /** The version of the policy in force when restore() last ran. */
    policyVersion: () => policyVersion,
    /** A new sign-in flow (password step) for the flow user. */
    async newFlow() {
      const r = await must('flow', a.post('/v1/auth/flows', { body: { tenant: 'acme', identifier: 'flow@acme.test' } }), [201]);
      state.flowId = r.flow.id;
      state.flowToken = r.flowToken;
    },
    /** New verifications (agent and IVR) so the verification routes see pending ones. */
    async newVerifications() {
      state.interactionId = `CALL-FUZZ-${randomUUID().slice(0, 8)}`;
      const v = await must('verification', a.post('/v1/tenants/acme/verifications', { token: principals.agent.token, body: { customerId: f.customerId, interactionId: state.interactionId } }), [201]);
      state.verificationId = v.id;
      const iv = await must('ivr verification', t.app.inject({ method: 'POST', url: '/v1/ivr/verifications', headers: { authorization: `Bearer ${state.apiKey}` }, payload: { customerId: f.customerId, interactionId: `IVR-${randomUUID().slice(0, 8)}` } }), [201]);
      state.ivrVerificationId = iv.verification.id;
    },
    /**
     * Puts back what fuzzed requests may have changed: the policy, users' status, lockouts and
     * roles, sessions (signing in again), the API key. Cheap when nothing changed (one GET each).
     */
    async restore() {
      const now = await currentPolicy(t.s, f.tenantId);
      policyVersion = now.version;
      if (JSON.stringify(now.policy) !== JSON.stringify(baseline.policy)) policyVersion = (await savePolicy(t.s, { tenantId: f.tenantId, expectedVersion: now.version, input: baseline.policy, actorId: null, origin: SYSTEM })).version;
      for (const p of Object.values(principals)) {
        const tenant = (await t.s.store.tenants.bySlug(p.tenant))!;
        const user = await t.s.store.users.byId(tenant.id, p.id);
        if (!user) throw new Error(`fuzz world: ${p.email} is gone`);
        if (user.status === 'disabled') await enableUser(t.s, { tenantId: tenant.id, userId: user.id, actor: { type: 'system', id: null }, origin: SYSTEM });
        if (JSON.stringify(user.roles) !== JSON.stringify(p.roles)) await t.s.store.users.setRoles(tenant.id, user.id, p.roles);
        const me = await a.get('/v1/me', { token: p.token });
        if (me.statusCode === 200) continue;
        await unlockUser(t.s, { tenantId: tenant.id, userId: user.id, actor: { type: 'system', id: null }, origin: SYSTEM });
        const password = p === principals.operator ? OPERATOR.password : STRONG;
        let si = await signIn(t.app, p.tenant, p.email, password);
        if (!si.token) {
          // a fuzzed request gave the user a second factor (recovery codes): take it away again
          await t.s.store.credentials.removeAll({ type: 'user', id: user.id });
          si = await signIn(t.app, p.tenant, p.email, password);
        }
        if (!si.token) throw new Error(`fuzz world: cannot sign ${p.email} in again: ${si.res.statusCode} ${si.res.body}`);
        p.token = si.token;
      }
      const probe = await t.app.inject({ method: 'GET', url: `/v1/ivr/verifications/${randomUUID()}/prompt`, headers: { authorization: `Bearer ${state.apiKey}` } });
      if (probe.statusCode === 401) {
        const k = await must('api key', a.post('/v1/tenants/acme/api-keys', { token: principals.admin.token, body: { name: 'Fuzz IVR', scopes: ['ivr'] } }));
        state.apiKey = k.key;
        state.apiKeyId = k.apiKey.id;
      }
      await this.newFlow();
    },
    /** Real values by name, for path parameters and body properties. */
    realIds(): Record<string, string[]> {
      const p = principals;
      const userIds = [p.admin.id, p.agent.id, p.supervisor.id, state.flowUserId];
      const verifications = [state.verificationId, state.ivrVerificationId].filter(Boolean);
      return {
        tenant: ['acme', f.tenantId, 'ACME', 'platform'],
        userId: userIds,
        customerId: [f.customerId],
        contactId: [f.phoneId, f.emailId],
        factorId: [state.customerFactorId, state.adminFactorId],
        sessionId: [state.sessionId],
        keyId: [state.apiKeyId],
        name: ['fuzz_role', 'agent', 'tenant_admin'],
        interactionId: [state.interactionId],
        flowId: [state.flowId],
        verificationId: verifications,
        approvalId: [state.approvalId],
        identifier: ['flow@acme.test', 'nobody@acme.test'],
        email: ['new.user@acme.test', 'agent@acme.test'],
        externalId: ['CRM-7'],
        roles: ['agent', 'supervisor', 'fuzz_role'],
        level: ['default', 'high'],
        channel: ['sms', 'voice', 'email'],
        callerAni: ['+14155550134'],
        format: ['csv', 'jsonl'],
        recipient: ['dana@example.com', 'agent@acme.test'],
      };
    },
    close: () => t.close(),
  };
  await world.newVerifications();
  await world.newFlow();
  return world;
}
