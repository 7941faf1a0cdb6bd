/**
 * Passkeys in the browser's autofill (conditional UI): while the first step is on screen and the
 * organization is known, a passwordless flow waits for the user to pick a passkey from the email
 * field's suggestions (`autocomplete="username webauthn"`). Going on with a password, pressing
 * "Sign in with a passkey" or leaving the step cancels the waiting request, which ends quietly;
 * it is renewed before its challenge expires (5 minutes).
 */
import { useEffect, useRef, useState } from 'react';
import { flowApi, type PasskeyStart } from '../../components/auth/flow';
import { askKey, autofillSupported, cancelKeyPrompt, type Assertion } from '../../components/auth/webauthn';
import { ApiError } from '../../lib/api';

export type { PasskeyStart };

const RENEW_MS = 270_000;
const SETTLE_MS = 400;

/** Arms autofill for `tenant` while `enabled`; `onAnswer` gets the flow and the chosen passkey's answer. False when this server has no security keys. */
export function usePasskeyAutofill(tenant: string, enabled: boolean, onAnswer: (flow: PasskeyStart, credential: Assertion) => void): { available: boolean } {
  const [available, setAvailable] = useState(true);
  const [round, setRound] = useState(0);
  const answer = useRef(onAnswer);
  answer.current = onAnswer;

  useEffect(() => {
    const slug = tenant.trim().toLowerCase();
    if (!enabled || !available || !/^[a-z0-9][a-z0-9_-]{0,63}$/.test(slug)) return;
    let live = true;
    let waiting = false;
    const requests = new AbortController();
    let renew: ReturnType<typeof setTimeout> | undefined;
    // typing the organization: wait until it settles before opening a flow
    const settle = setTimeout(() => void arm(), SETTLE_MS);

    async function arm() {
      if (!(await autofillSupported()) || !live) return;
      let started: PasskeyStart;
      try {
        started = await flowApi.passkey(slug, requests.signal);
      } catch (e) {
        // an unknown organization or a busy server: the form works as usual without autofill
        if (e instanceof ApiError && e.details?.reason === 'webauthn_unavailable') setAvailable(false);
        return;
      }
      if (!live) return;
      renew = setTimeout(() => setRound((r) => r + 1), RENEW_MS);
      waiting = true;
      try {
        const credential = await askKey(started.options, true);
        waiting = false;
        if (live) answer.current(started, credential);
      } catch {
        // cancelled by the console, replaced by another prompt, or not available here: nothing to say
        waiting = false;
      }
    }

    return () => {
      live = false;
      clearTimeout(settle);
      clearTimeout(renew);
      requests.abort();
      if (waiting) cancelKeyPrompt();
    };
  }, [tenant, enabled, available, round]);

  return { available };
}
