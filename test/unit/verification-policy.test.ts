import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { Aead } from '../../src/crypto/aead.js';
import { PasswordHasher } from '../../src/crypto/password-hash.js';
import { evaluateLevel as evaluate, verificationPolicySchema, type CallerMethod, type VerificationPolicy } from '../../src/domain/verification-policy.js';
import { registerMethods } from '../../src/methods/index.js';

// the categories come from the registered methods, as in the server
const { registry } = registerMethods({ aead: new Aead(randomBytes(32)), hasher: new PasswordHasher({ memoryKib: 19456, iterations: 2, parallelism: 1 }) });
const evaluateLevel = (p: VerificationPolicy, level: string, methods: CallerMethod[]) => evaluate(p, level, methods, registry.categoryOf);
const policy = verificationPolicySchema.parse({});
const ok = (level: string, methods: CallerMethod[]) => evaluateLevel(policy, level, methods).satisfied;

describe('verification levels', () => {
  it('standard: one possession factor, or PIN plus a question', () => {
    expect(ok('standard', ['otp_sms'])).toBe(true);
    expect(ok('standard', ['totp'])).toBe(true);
    expect(ok('standard', ['pin', 'question'])).toBe(true);
    expect(ok('standard', ['pin'])).toBe(false);
    expect(ok('standard', [])).toBe(false);
  });

  it('high: possession plus knowledge, each by a different method', () => {
    expect(ok('high', ['otp_sms', 'pin'])).toBe(true);
    expect(ok('high', ['otp_email', 'question'])).toBe(true);
    expect(ok('high', ['otp_sms', 'otp_email'])).toBe(false);
    expect(ok('high', ['pin', 'question'])).toBe(false);
  });

  it('questions alone never satisfy a level, and such a level cannot be saved', () => {
    const p = verificationPolicySchema.parse({ levels: { standard: { anyOf: [['knowledge']] }, high: { anyOf: [['possession', 'knowledge']] } } });
    expect(evaluateLevel(p, 'standard', ['question']).satisfied).toBe(false);
    expect(evaluateLevel(p, 'standard', ['pin']).satisfied).toBe(true);
    const bad = verificationPolicySchema.safeParse({ levels: { standard: { anyOf: [['question']] }, high: { anyOf: [['possession']] } } });
    expect(bad.success).toBe(false);
  });

  it('reports what is met and missing per alternative', () => {
    const s = evaluateLevel(policy, 'high', ['pin']);
    expect(s.alternatives).toEqual([{ requirements: ['possession', 'knowledge'], met: ['knowledge'], missing: ['possession'] }]);
    const st = evaluateLevel(policy, 'standard', ['question']);
    expect(st.alternatives[1]).toEqual({ requirements: ['pin', 'question'], met: ['question'], missing: ['pin'] });
  });

  it('a method counts for one requirement only', () => {
    const p = verificationPolicySchema.parse({ levels: { standard: { anyOf: [['knowledge', 'pin']] }, high: { anyOf: [['possession', 'knowledge']] } } });
    expect(evaluateLevel(p, 'standard', ['pin']).satisfied).toBe(false);
    expect(evaluateLevel(p, 'standard', ['pin', 'question']).satisfied).toBe(true);
  });

  it('refuses a policy naming an undefined level', () => {
    expect(verificationPolicySchema.safeParse({ defaultLevel: 'gold' }).success).toBe(false);
  });
});
