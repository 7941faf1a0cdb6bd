/**
 * The authenticator app (TOTP, RFC 6238) for staff and customers alike: ±1 step, each time step
 * accepted once per subject (the replay ledger, spent in the statement that records the success, so
 * of parallel submissions of one code exactly one wins), whitespace and other digit forms folded.
 * Secrets are sealed with AES-256-GCM, bound to their credential id. Enrollment: `begin` makes a
 * pending credential and what to show (URI, QR code); the first valid code confirms it.
 */
import type { Aead } from '../../crypto/aead.js';
import type { Method } from '../../engine/method.js';
import type { CredentialRepo } from '../../storage/repositories/credentials.js';
import { codeAnswer, normalizeCode, type CodeAnswer } from '../shared.js';
import { matchTotpStep, totpAad } from './core.js';
import { totpEnrollment, type TotpEnrollment } from './enrollment.js';

export { totpAad } from './core.js';

/** With `credentials`, the method can also bind new authenticators (its enrollment). */
export function totpMethod(deps: { aead: Aead; credentials?: CredentialRepo }): Method<CodeAnswer> & { enrollment?: TotpEnrollment } {
  return {
    kind: 'totp',
    traits: { category: 'possession', aal: 2, phishingResistant: false, restricted: false, label: 'Authenticator app' },
    subjects: ['user', 'customer'],
    answer: codeAnswer,
    counter: 'subject',
    needs: ['credential'],
    available: (f) => f.credentialKinds.includes('totp'),
    ...(deps.credentials ? { enrollment: totpEnrollment({ aead: deps.aead, credentials: deps.credentials }) } : {}),
    async verify({ subject, answer, loaded, now }) {
      const cred = loaded.credential;
      if (!cred?.material) return { ok: false, reason: subject.type === 'customer' ? 'no_totp' : 'not_enrolled' };
      const code = normalizeCode(answer.code);
      if (!/^\d{6}$/.test(code)) return { ok: false, reason: 'malformed' };
      const step = matchTotpStep(deps.aead.open(cred.material, totpAad(cred.id)), code, now);
      if (step === null) return { ok: false, reason: 'wrong_code' };
      // a code used before this attempt began is a replay: refused, not a guess (never on the failure
      // counter, so nobody is locked out by it), but it spends this flow's attempt; one spent by a
      // parallel request meanwhile loses the race in the record statement instead
      if (cred.usedSteps?.includes(step)) return { ok: false, reason: 'code_used', notCounted: true, spendsAttempt: true };
      const effects = [{ kind: 'totp_step' as const, subjectId: subject.id, step, credentialId: cred.id }];
      // confirming an enrollment activates the pending credential in the same statement
      if (cred.status === 'pending') effects.push({ kind: 'activate_credential', credentialId: cred.id, subjectId: subject.id } as never);
      return { ok: true, effects, detail: { credentialId: cred.id } };
    },
  };
}
