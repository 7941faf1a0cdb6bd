/**
 * Security keys and passkeys in the browser (@simplewebauthn/browser): asking the key, and what went
 * wrong in words, both for the browser's refusals (cancelled, wrong address, already registered) and
 * for the server's reasons (details.reason of an API error). Only one ceremony runs at a time
 * (WebAuthnAbortService): a new one replaces a waiting autofill request, which ends quietly.
 */
import {
  browserSupportsWebAuthn,
  browserSupportsWebAuthnAutofill,
  startAuthentication,
  startRegistration,
  WebAuthnAbortService,
  WebAuthnError,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/browser';
import { ApiError } from '../../lib/api';
import type { AuthProblem } from './auth-errors';

export type RequestOptions = PublicKeyCredentialRequestOptionsJSON;
export type CreationOptions = PublicKeyCredentialCreationOptionsJSON;
export type Assertion = AuthenticationResponseJSON;
export type Attestation = RegistrationResponseJSON;

export const keysSupported = (): boolean => {
  try {
    return browserSupportsWebAuthn();
  } catch {
    return false;
  }
};

export const autofillSupported = (): Promise<boolean> => browserSupportsWebAuthnAutofill().catch(() => false);

/** Asks the browser for an assertion (a modal prompt, or the autofill list when `autofill`). */
export const askKey = (options: RequestOptions, autofill = false): Promise<Assertion> =>
  startAuthentication({ optionsJSON: options, useBrowserAutofill: autofill });

/** Asks the browser to create a credential (the key or the device prompts the user). */
export const createKey = (options: CreationOptions): Promise<Attestation> => startRegistration({ optionsJSON: options });

/** Ends the waiting ceremony, if any (an autofill request when the user goes on with a password). */
export const cancelKeyPrompt = (): void => WebAuthnAbortService.cancelCeremony();

/** True when the ceremony was replaced or cancelled by the console itself: nothing to tell the user. */
export function isCeremonyAborted(e: unknown): boolean {
  return (e instanceof WebAuthnError && e.code === 'ERROR_CEREMONY_ABORTED') || (e instanceof Error && e.name === 'AbortError');
}

export type KeyStep = 'key' | 'passkey' | 'register';

const GENERIC = 'That did not work';

/** The browser's refusal in words (null for errors that are not the browser's). */
function browserProblem(e: unknown, step: KeyStep): AuthProblem | null {
  if (!(e instanceof Error) || e instanceof ApiError) return null;
  const code = e instanceof WebAuthnError ? e.code : undefined;
  const what = step === 'passkey' ? 'passkey' : 'security key';
  if (/not supported in this browser/i.test(e.message)) return { title: 'Not available in this browser', message: 'This browser cannot use security keys or passkeys. Use another sign-in method or another browser.' };
  switch (code) {
    case 'ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED':
      return { title: 'Already added', message: 'This key is already one of your sign-in methods. Use a different key, or rename the one in the list.' };
    case 'ERROR_INVALID_DOMAIN':
    case 'ERROR_INVALID_RP_ID':
      return { title: 'Not available at this address', message: 'Security keys work only at the console’s configured address. Open the console from its usual link and try again.' };
    case 'ERROR_AUTHENTICATOR_MISSING_USER_VERIFICATION_SUPPORT':
      return { title: 'This key cannot verify you', message: 'Your organization requires a key that checks a PIN, fingerprint or face. Set a PIN on the key, or use another one.' };
    case 'ERROR_AUTHENTICATOR_MISSING_DISCOVERABLE_CREDENTIAL_SUPPORT':
      return { title: 'This key cannot hold a passkey', message: 'Use this device’s built-in passkey (fingerprint, face or screen lock) or add it as a security key instead.' };
    case 'ERROR_AUTHENTICATOR_NO_SUPPORTED_PUBKEYCREDPARAMS_ALG':
    case 'ERROR_AUTHENTICATOR_GENERAL_ERROR':
      return { title: GENERIC, message: `The ${what} could not answer. Try again, or use another ${what}.` };
  }
  if (e.name === 'NotAllowedError' || code === 'ERROR_PASSTHROUGH_SEE_CAUSE_PROPERTY') {
    return step === 'register'
      ? { title: 'Not added', message: 'The request was cancelled or timed out before the key answered. Try again and touch or unlock your key when it asks.' }
      : { title: 'Not completed', message: `The ${what} request was cancelled or timed out. Try again, and touch or unlock your ${what} when it asks.` };
  }
  if (e.name === 'SecurityError') return { title: 'Not available at this address', message: 'Security keys work only at the console’s configured address. Open the console from its usual link and try again.' };
  if (e.name === 'InvalidStateError') return { title: 'Already added', message: 'This key is already one of your sign-in methods.' };
  return { title: GENERIC, message: `The ${what} could not be used. Try again, or use another sign-in method.` };
}

/** The server's refusal of a key answer in words (null when it is not about keys). */
function serverProblem(e: ApiError, step: KeyStep): AuthProblem | null {
  const reason = typeof e.details?.reason === 'string' ? e.details.reason : '';
  const what = step === 'passkey' ? 'passkey' : 'security key';
  switch (reason) {
    case 'uv_required':
      return { title: 'Your PIN or fingerprint is needed', message: `Your organization requires the ${what} to check your PIN, fingerprint or face. Use a key that can, and unlock it when it asks.` };
    case 'wrong_origin':
    case 'wrong_rp_id':
      return { title: 'Wrong address', message: 'The key answered for a different web address. Open the console from its usual link and try again.' };
    case 'invalid_assertion':
      return step === 'passkey'
        ? { title: 'Passkey not recognized', message: 'That passkey is not one added for this organization. Choose another passkey, or sign in with your email and password.' }
        : { title: `${step === 'register' ? 'Key' : 'Security key'} not recognized`, message: step === 'register' ? 'The key’s answer could not be checked. Try again.' : 'That key is not one of your sign-in methods. Use a key you added to this account.' };
    case 'no_challenge':
    case 'challenge_expired':
    case 'wrong_challenge':
      return { title: 'The request expired', message: `The ${what} request is no longer valid (they last 5 minutes). Try again.` };
    case 'counter_regression':
      return { title: 'This key was flagged', message: 'The key reported a use count lower than before, which can mean it was copied. It was marked for review: use another sign-in method and tell your administrator.' };
    case 'credential_suspended':
      return { title: 'This key is suspended', message: 'Your administrator suspended this key. Use another sign-in method, or ask your administrator.' };
    case 'passwordless_off':
      return { title: 'Passkey sign-in is off', message: 'Your organization does not allow signing in with a passkey alone. Continue with your email and password.' };
    case 'webauthn_unavailable':
      return { title: 'Security keys are not set up', message: 'This server is not configured for security keys or passkeys. Use another sign-in method, or ask your administrator.' };
    case 'method_not_allowed':
      return { title: 'Not allowed', message: 'Your organization does not allow security keys for this account. Use another sign-in method.' };
  }
  // a passwordless flow is opened anew by each try: its end needs no "Start again"
  if (step === 'passkey' && ['flow_failed', 'flow_expired', 'flow_invalid', 'flow_state'].includes(e.code)) {
    return e.code === 'flow_failed'
      ? { title: 'Too many failed attempts', message: 'This passkey sign-in was stopped for your protection. Try again, or sign in with your email and password.' }
      : { title: 'This sign-in has expired', message: 'Passkey sign-in must be finished within a few minutes. Try again.' };
  }
  if (e.code === 'forbidden' && step === 'register') return { title: 'Not allowed', message: e.message || 'Security keys are not allowed by your organization.' };
  return null;
}

/** A key step's failure in words; null when the console cancelled it itself (say nothing). */
export function keyProblem(e: unknown, step: KeyStep): AuthProblem | null | undefined {
  if (isCeremonyAborted(e)) return null;
  if (e instanceof ApiError) return serverProblem(e, step) ?? undefined;
  return browserProblem(e, step) ?? undefined;
}
