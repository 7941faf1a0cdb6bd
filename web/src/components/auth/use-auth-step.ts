/**
 * One sign-in step at a time, for the sign-in page and the re-authentication prompt: progress while
 * it runs, the problem in words when it fails (with the wait a lockout or rate limit asks for), and
 * a restart when the flow is over.
 */
import { useState } from 'react';
import { ApiError } from '../../lib/api';
import { authProblem, type AuthProblem, type AuthStep } from './auth-errors';
import { useCooldown } from './use-cooldown';
import { isCeremonyAborted } from './webauthn';

export function useAuthStep(onRestartNeeded: () => void) {
  const [problem, setProblem] = useState<AuthProblem | null>(null);
  const [busy, setBusy] = useState(false);
  const cooldown = useCooldown();

  /** Runs one step; false when it failed (the problem is then set). */
  const run = async (kind: AuthStep, fn: () => Promise<void>): Promise<boolean> => {
    setBusy(true);
    setProblem(null);
    try {
      await fn();
      return true;
    } catch (e) {
      // a key prompt the console replaced or cancelled itself: nothing went wrong
      if (isCeremonyAborted(e)) return false;
      const p = authProblem(e, kind);
      setProblem(p);
      cooldown.start(p.retryAfterSeconds);
      if (p.restart) onRestartNeeded();
      return false;
    } finally {
      setBusy(false);
    }
  };

  /** The flow ended without a session (its attempt budget spent, or expired). */
  const flowOver = (state: string) => {
    setProblem(authProblem(state === 'failed' ? new ApiError(429, 'flow_failed', '') : new ApiError(410, 'flow_expired', ''), 'password'));
    onRestartNeeded();
  };

  return { problem, setProblem, busy, cooldown, run, flowOver };
}
