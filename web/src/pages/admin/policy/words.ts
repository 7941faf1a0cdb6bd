/** Policy settings and values in words: field labels by path, requirement names, diff values. */
import { mfaModeWords, isMfaMode } from '../tenants/mfa-modes';
import type { Requirement } from './policy-api';
import { levelWords, stepUpActions, type StepUpAction } from './step-up-policy';

const labels: Record<string, string> = {
  'mfa.mode': 'MFA mode',
  'mfa.roles': 'MFA per role',
  'mfa.allowedFactors': 'Allowed second factors',
  'mfa.grace': 'Grace period',
  'mfa.grace.days': 'Grace period (days)',
  'mfa.grace.signins': 'Grace period (sign-ins)',
  webauthn: 'Security keys and passkeys',
  'webauthn.passwordless': 'Passwordless sign-in with a passkey',
  'webauthn.userVerification': 'Security key user verification',
  'webauthn.allowedModels': 'Allowed key models',
  'session.idleMinutes': 'Idle timeout (minutes)',
  'session.absoluteMinutes': 'Session lifetime (minutes)',
  'session.reauthMinutes': 'Re-authentication freshness (minutes)',
  'lockout.maxConsecutiveFailures': 'Disable a factor after (failures)',
  'lockout.backoffAfter': 'Slow down after (failures)',
  'lockout.backoffBaseSeconds': 'First wait (seconds)',
  'lockout.backoffMaxSeconds': 'Longest wait (seconds)',
  pciMode: 'PCI DSS mode',
  'verification.levels': 'Verification levels',
  'verification.defaultLevel': 'Default level',
  'verification.contactChangeWindowDays': 'Recently changed contacts (days)',
  'verification.code.digits': 'Code length (digits)',
  'verification.code.ttlMinutes': 'Code lifetime (minutes)',
  'verification.code.maxChecks': 'Checks per code',
  'verification.code.sendsPerDestinationPer10Min': 'Codes per destination per 10 minutes',
  'verification.code.resendCooldownSeconds': 'Resend cooldown (seconds)',
  'verification.limits.sendsPerAgentPerMinute': 'Codes per agent per minute',
  'verification.limits.sendsPerTenantPerMinute': 'Codes per tenant per minute',
  'verification.flowTtlMinutes': 'Verification lifetime (minutes)',
  'verification.attempts': 'Failed steps allowed',
  'verification.risk.stepUpAtScore': 'Step up at risk score',
  'verification.risk.highLevel': 'Step-up level',
};

/** A setting's name for people, from its dotted path. */
export function labelFor(path: string): string {
  if (labels[path]) return labels[path]!;
  if (path === '') return 'Policy';
  const su = /^stepUp\.(reveal|factorReset|policyChange)(?:\.(aal|phishingResistant|maxAgeMinutes))?$/.exec(path);
  if (su) return `${stepUpActions[su[1] as StepUpAction].label}: ${su[2] ? stepUpFieldWords[su[2]] : 'confirmation'}`;
  let m = /^mfa\.roles\.(.+)$/.exec(path);
  if (m) return `MFA for role "${m[1]}"`;
  m = /^verification\.levels\.([^.]+)(?:\.(description|anyOf)(?:\.(\d+))?)?/.exec(path);
  if (m) {
    const [, name, part, alt] = m;
    if (part === 'description') return `Level "${name}": description`;
    if (part === 'anyOf' && alt !== undefined) return `Level "${name}": option ${Number(alt) + 1}`;
    if (part === 'anyOf') return `Level "${name}": ways to satisfy it`;
    return `Level "${name}"`;
  }
  return path;
}

const stepUpFieldWords: Record<string, string> = { aal: 'sign-in level', phishingResistant: 'phishing-resistant method', maxAgeMinutes: 'signed in within (minutes)' };

export const requirementWords: Record<Requirement, string> = {
  possession: 'Any possession factor',
  knowledge: 'Any knowledge factor',
  otp_sms: 'SMS code',
  otp_voice: 'Voice call code',
  otp_email: 'Email code',
  totp: 'Authenticator app code',
  pin: 'PIN',
  question: 'Security question',
};

export const factorWords: Record<string, string> = { totp: 'Authenticator app (TOTP)', webauthn: 'Security keys and passkeys', recovery_code: 'Recovery codes' };

/** How strictly a security key must check its user (PIN or biometrics) when it is the second step. */
export const userVerificationWords: Record<string, { label: string; explain: string }> = {
  required: { label: 'Required', explain: 'Every key must check a PIN, fingerprint or face. Keys without one cannot be added or used.' },
  preferred: { label: 'Preferred', explain: 'Keys check a PIN or biometrics when they can; touch-only keys still work as a second step.' },
  discouraged: { label: 'Discouraged', explain: 'Keys are only touched, never asked for a PIN: fastest, but the key alone proves possession only.' },
};

/** A level's alternatives in one sentence: "Any possession factor, or PIN + Security question". */
export function alternativesWords(anyOf: unknown): string {
  if (!Array.isArray(anyOf)) return String(anyOf);
  return anyOf.map((alt) => (Array.isArray(alt) ? alt.map((r) => requirementWords[r as Requirement] ?? String(r)).join(' + ') : String(alt))).join(', or ');
}

/** A value in a policy diff, in words. */
export function valueWords(path: string, v: unknown): string {
  if (/^stepUp\.\w+\.aal$/.test(path) && levelWords[String(v)]) return levelWords[String(v)]!.label;
  if (path === 'webauthn.allowedModels' && Array.isArray(v) && v.length === 0) return 'Any model';
  if (v === null || v === undefined) {
    if (path.startsWith('mfa.grace')) return 'No limit';
    if (/^stepUp\.\w+\.maxAgeMinutes$/.test(path)) return 'Any age';
    if (path.startsWith('mfa.roles.')) return 'Tenant setting';
    return 'Not set';
  }
  if (typeof v === 'boolean') return v ? 'On' : 'Off';
  if (isMfaMode(v) && (path === 'mfa.mode' || path.startsWith('mfa.roles.'))) return mfaModeWords[v].label;
  if (path.endsWith('.anyOf')) return alternativesWords(v);
  if (path === 'webauthn.userVerification' && typeof v === 'string' && userVerificationWords[v]) return userVerificationWords[v]!.label;
  if (path === 'mfa.allowedFactors' && Array.isArray(v)) return v.map((f) => factorWords[String(f)] ?? String(f)).join(', ');
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(', ');
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (Array.isArray(o.anyOf)) return `${typeof o.description === 'string' && o.description ? o.description + ': ' : ''}${alternativesWords(o.anyOf)}`;
    return JSON.stringify(v);
  }
  if (v === '') return 'Empty';
  return String(v);
}

/** Changed settings between two policy documents, as dotted paths (arrays compare as a whole). */
export function diffPolicy(a: unknown, b: unknown, path = ''): Array<{ path: string; from: unknown; to: unknown }> {
  const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return keys.flatMap((k) => diffPolicy(a[k], b[k], path ? `${path}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [{ path, from: a ?? null, to: b ?? null }];
}
