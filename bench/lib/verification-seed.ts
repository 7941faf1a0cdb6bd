/**
 * Agents straight through the repositories (active users with a session each, issued by the session
 * service), for bench/scale.ts; and, re-exported from lib/verification-api-seed.ts, the tenant, policy,
 * API agents and customers that bench/verification.ts seeds through the public API.
 */
import { randomUUID } from 'node:crypto';
import { normalizePassword } from '../../src/methods/password/rules.js';
import type { Services } from '../../src/services/context.js';
import { currentPolicy } from '../../src/services/policies.js';
import { issueSession } from '../../src/services/sessions.js';
import { UserRepo } from '../../src/storage/repositories/users.js';
import { PASSWORD, systemOrigin } from './common.js';

// The API-only part lives in lib/verification-api-seed.ts (bench/verification.ts imports only that one).
export { apiAgents, RAISED_LIMITS, seedCustomers, setupThroughApi, type ApiSetup } from './verification-api-seed.js';

/** `n` more agents: active users (one shared password hash) with one session each. */
export async function seedAgents(s: Services, tenantId: string, n: number): Promise<string[]> {
  const hash = await s.hasher.hash(normalizePassword(PASSWORD));
  const ids: string[] = [];
  await s.store.db.transaction().execute(async (trx) => {
    const users = new UserRepo(trx);
    for (let i = 0; i < n; i++) {
      const id = randomUUID();
      await users.create({ id, tenantId, email: `agent${String(i).padStart(4, '0')}@bench.test`, displayName: `Agent ${i}`, roles: ['agent'], status: 'active', passwordHash: hash, now: s.clock() });
      ids.push(id);
    }
  });
  const { policy } = await currentPolicy(s, tenantId);
  const tokens: string[] = [];
  for (const userId of ids) {
    const session = await issueSession(s, { tenantId, userId, methods: ['password'], policy, origin: systemOrigin });
    tokens.push(session.token);
  }
  return tokens;
}

