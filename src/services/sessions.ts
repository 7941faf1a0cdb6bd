/**
 * Sessions: opaque 256-bit tokens stored as SHA-256, idle and absolute timeouts from policy, the
 * assurance level and methods recorded on the session.
 */
import { randomUUID } from 'node:crypto';
import { hashToken, newToken } from '../crypto/tokens.js';
import { permissionsFor, type Permission } from '../domain/permissions.js';
import { sessionRules, type Policy } from '../domain/policy.js';
import type { SessionRecord } from '../storage/repositories/sessions.js';
import { eventRecord, type EventInput } from './audit-log.js';
import type { Origin, Services } from './context.js';

export interface IssuedSession {
  id: string;
  token: string;
  aal: number;
  methods: string[];
  expiresAt: Date;
  idleTimeoutS: number;
}

/**
 * Issues a session. With `events` (a completed sign-in), the session, the user's last sign-in and
 * the audit events are written in one statement.
 */
export async function issueSession(
  s: Services,
  a: { tenantId: string; userId: string; methods: string[]; policy: Policy; origin: Origin; inGrace?: boolean; events?: (sessionId: string, aal: number) => EventInput[] },
): Promise<IssuedSession> {
  const now = s.clock();
  const rules = sessionRules(a.policy);
  const token = newToken();
  const id = randomUUID();
  const aal = s.methods.aalFor(a.methods);
  const expiresAt = new Date(now.getTime() + rules.absoluteMs);
  const idleTimeoutS = Math.round(rules.idleMs / 1000);
  const row = {
    id,
    tokenHash: hashToken(token),
    tenantId: a.tenantId,
    userId: a.userId,
    aal,
    methods: a.methods,
    authTime: now,
    now,
    idleTimeoutS,
    expiresAt,
    ip: a.origin.ip,
    userAgent: a.origin.userAgent?.slice(0, 512) ?? null,
  };
  if (a.events) await s.store.sessions.createForSignin(row, { inGrace: a.inGrace ?? false, events: a.events(id, aal).map((e) => eventRecord(s, e)) });
  else await s.store.sessions.create(row);
  return { id, token, aal, methods: a.methods, expiresAt, idleTimeoutS };
}

export interface Principal extends SessionRecord {
  permissions: Set<Permission>;
  isOperator: boolean;
}

const TOUCH_EVERY_MS = 60_000;

/**
 * The principal behind a session token, or undefined (unknown, revoked, idle, expired, disabled).
 * `touch: false` checks without counting as activity (a long-lived stream re-checking its session).
 */
export async function authenticate(s: Services, token: string, o: { touch?: boolean } = {}): Promise<Principal | undefined> {
  if (!token || token.length > 128) return undefined;
  const now = s.clock();
  // activity is recorded at most once a minute, in the same statement as the read
  const rec = await s.store.sessions.lookup(hashToken(token), now, o.touch === false ? undefined : new Date(now.getTime() - TOUCH_EVERY_MS));
  if (!rec) return undefined;
  const roles = rec.isPlatform ? rec.userRoles : rec.userRoles.filter((r) => r !== 'platform_operator');
  return { ...rec, permissions: permissionsFor(roles, rec.customPermissions), isOperator: rec.isPlatform && roles.includes('platform_operator') };
}
