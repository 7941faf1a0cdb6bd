/** The tenant security policy: defaults, validation, MFA mode per role, grace period, session rules. */
import { verificationPolicySchema } from '../../src/domain/verification-policy.js';
import { describe, expect, it } from 'vitest';
import { defaultPolicy, inGrace, mfaModeFor, policySchema, sessionRules, type PolicyInput } from '../../src/domain/policy.js';

const policy = (input: PolicyInput) => policySchema.parse(input);
const DAY = 86_400_000;

describe('policySchema defaults', () => {
  it('fills every field from an empty object', () => {
    expect(defaultPolicy()).toEqual({
      mfa: { mode: 'optional', roles: {}, allowedFactors: ['totp', 'recovery_code'], grace: { days: null, signins: null } },
      session: { idleMinutes: 60, absoluteMinutes: 24 * 60, reauthMinutes: 10 },
      lockout: { maxConsecutiveFailures: 100, backoffAfter: 5, backoffBaseSeconds: 1, backoffMaxSeconds: 300 },
      pciMode: false,
      verification: verificationPolicySchema.parse({}),
      webauthn: { passwordless: true, userVerification: 'preferred', allowedModels: [] },
      stepUp: { reveal: { aal: 1, phishingResistant: false, maxAgeMinutes: null }, factorReset: { aal: 1, phishingResistant: false, maxAgeMinutes: null }, policyChange: { aal: 1, phishingResistant: false, maxAgeMinutes: null } },
    });
    expect(defaultPolicy().verification.code).toEqual({ digits: 6, ttlMinutes: 10, maxChecks: 5, sendsPerDestinationPer10Min: 5, resendCooldownSeconds: 60 });
  });

  it('fills nested defaults next to given values', () => {
    const p = policy({ mfa: { mode: 'required' }, session: { idleMinutes: 30 } });
    expect(p.mfa).toEqual({ mode: 'required', roles: {}, allowedFactors: ['totp', 'recovery_code'], grace: { days: null, signins: null } });
    expect(p.session).toEqual({ idleMinutes: 30, absoluteMinutes: 24 * 60, reauthMinutes: 10 });
  });

  it('keeps lockout on by default, capped at 100 failures (NIST)', () => {
    expect(defaultPolicy().lockout.maxConsecutiveFailures).toBeLessThanOrEqual(100);
    expect(policySchema.safeParse({ lockout: { maxConsecutiveFailures: 101 } }).success).toBe(false);
  });
});

describe('policySchema refuses invalid policies', () => {
  const refused: Array<[string, unknown, string]> = [
    ['an unknown top-level key', { mfaMode: 'required' }, ''],
    ['an unknown key in mfa', { mfa: { mode: 'required', enforce: true } }, 'mfa'],
    ['an unknown key in session', { session: { idleMinutes: 10, ttl: 5 } }, 'session'],
    ['an unknown key in lockout', { lockout: { lockAfter: 3 } }, 'lockout'],
    ['an unknown key in grace', { mfa: { grace: { weeks: 1 } } }, 'mfa.grace'],
    ['absolute timeout shorter than idle', { session: { idleMinutes: 120, absoluteMinutes: 60 } }, 'session.absoluteMinutes'],
    ['only recovery codes allowed', { mfa: { allowedFactors: ['recovery_code'] } }, 'mfa.allowedFactors'],
    ['no factor allowed', { mfa: { allowedFactors: [] } }, 'mfa.allowedFactors'],
    ['an unknown factor', { mfa: { allowedFactors: ['sms'] } }, 'mfa.allowedFactors.0'],
    ['a bad mode', { mfa: { mode: 'always' } }, 'mfa.mode'],
    ['a bad role override mode', { mfa: { roles: { agent: 'mandatory' } } }, 'mfa.roles.agent'],
    ['backoff cap below its base', { lockout: { backoffBaseSeconds: 10, backoffMaxSeconds: 5 } }, 'lockout.backoffMaxSeconds'],
    ['a fractional idle timeout', { session: { idleMinutes: 1.5 } }, 'session.idleMinutes'],
    ['too few lockout failures', { lockout: { maxConsecutiveFailures: 2 } }, 'lockout.maxConsecutiveFailures'],
    ['pciMode as a string', { pciMode: 'yes' }, 'pciMode'],
  ];
  it.each(refused)('%s', (_name, input, path) => {
    const r = policySchema.safeParse(input);
    expect(r.success).toBe(false);
    if (!r.success) expect(r.error.issues.map((i) => i.path.join('.'))).toContain(path);
  });

  it('accepts absolute equal to idle and totp alone', () => {
    expect(policySchema.safeParse({ session: { idleMinutes: 60, absoluteMinutes: 60 }, mfa: { allowedFactors: ['totp'] } }).success).toBe(true);
  });
});

describe('mfaModeFor', () => {
  const p = policy({ mfa: { mode: 'optional', roles: { tenant_admin: 'required', agent: 'off', auditor: 'optional' } } });

  it('uses the tenant mode for users with no overridden role', () => {
    expect(mfaModeFor(p, [])).toBe('optional');
    expect(mfaModeFor(p, ['supervisor'])).toBe('optional');
    expect(mfaModeFor(policy({ mfa: { mode: 'required' } }), ['agent'])).toBe('required');
  });

  it('uses the override of an overridden role, even when it is weaker than the tenant mode', () => {
    expect(mfaModeFor(p, ['agent'])).toBe('off');
    expect(mfaModeFor(p, ['tenant_admin'])).toBe('required');
  });

  it('takes the strictest of several overridden roles, whatever their order', () => {
    expect(mfaModeFor(p, ['agent', 'tenant_admin'])).toBe('required');
    expect(mfaModeFor(p, ['tenant_admin', 'agent'])).toBe('required');
    expect(mfaModeFor(p, ['agent', 'auditor'])).toBe('optional');
    expect(mfaModeFor(p, ['auditor', 'agent', 'supervisor'])).toBe('optional');
  });

  it('ignores roles without an override when another role has one', () => {
    expect(mfaModeFor(p, ['supervisor', 'agent'])).toBe('off');
  });

  it('does not read inherited object properties as roles', () => {
    // custom role names may be "constructor" (/^[a-z][a-z0-9_]{1,39}$/): it must not cancel a required override
    expect(mfaModeFor(p, ['constructor', 'toString'])).toBe('optional');
    expect(mfaModeFor(p, ['constructor', 'tenant_admin'])).toBe('required');
  });
});

describe('inGrace', () => {
  const now = new Date('2025-06-10T12:00:00Z');
  const ago = (days: number) => new Date(now.getTime() - days * DAY);

  it('is never in grace when no grace is configured', () => {
    expect(inGrace(defaultPolicy(), ago(0), 0, now)).toBe(false);
  });

  it('by days: inside the window only', () => {
    const p = policy({ mfa: { grace: { days: 7 } } });
    expect(inGrace(p, ago(6.9), 100, now)).toBe(true);
    expect(inGrace(p, ago(7), 0, now)).toBe(false);
    expect(inGrace(p, ago(30), 0, now)).toBe(false);
    expect(inGrace(p, null, 0, now)).toBe(true); // the grace starts now
  });

  it('by sign-ins: fewer than the allowance only', () => {
    const p = policy({ mfa: { grace: { signins: 3 } } });
    expect(inGrace(p, ago(365), 0, now)).toBe(true);
    expect(inGrace(p, ago(365), 2, now)).toBe(true);
    expect(inGrace(p, ago(0), 3, now)).toBe(false);
  });

  it('with both limits, whichever runs out first ends it', () => {
    const p = policy({ mfa: { grace: { days: 7, signins: 3 } } });
    expect(inGrace(p, ago(1), 1, now)).toBe(true);
    expect(inGrace(p, ago(8), 1, now)).toBe(false);
    expect(inGrace(p, ago(1), 3, now)).toBe(false);
  });

  it('zero days or zero sign-ins means no grace', () => {
    expect(inGrace(policy({ mfa: { grace: { days: 0 } } }), null, 0, now)).toBe(false);
    expect(inGrace(policy({ mfa: { grace: { signins: 0 } } }), null, 0, now)).toBe(false);
  });
});

describe('sessionRules', () => {
  it('converts minutes to milliseconds', () => {
    expect(sessionRules(defaultPolicy())).toEqual({ idleMs: 60 * 60_000, absoluteMs: 24 * 60 * 60_000, reauthMs: 10 * 60_000 });
  });

  it('clamps the idle timeout to 15 minutes in PCI mode', () => {
    expect(sessionRules(policy({ pciMode: true })).idleMs).toBe(15 * 60_000);
    expect(sessionRules(policy({ pciMode: true, session: { idleMinutes: 240, absoluteMinutes: 480 } })).idleMs).toBe(15 * 60_000);
    expect(sessionRules(policy({ pciMode: true, session: { idleMinutes: 5 } })).idleMs).toBe(5 * 60_000);
    expect(sessionRules(policy({ session: { idleMinutes: 240, absoluteMinutes: 480 } })).idleMs).toBe(240 * 60_000);
  });
});
