/**
 * Adding an authenticator app from the security screen: starts the enrollment (fresh authentication
 * first when the server asks), shows the QR code and setup key, confirms with a first code, and shows
 * recovery codes when this is the first second factor.
 */
import { Button, Modal, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useState } from 'react';
import { authProblem, type AuthProblem } from '../../components/auth/auth-errors';
import { isCanceled, useFreshAuth } from '../../components/auth/fresh-auth';
import type { TotpEnrollment } from '../../components/auth/flow';
import { ProblemAlert } from '../../components/auth/ProblemAlert';
import { api } from '../../lib/api';
import { TotpSetup } from '../../components/auth/TotpSetup';
import { useCooldown } from '../../components/auth/use-cooldown';
import { errorWords } from '../../lib/errors';
import { SavedCodesModal } from './SavedCodesModal';

export function AddAuthenticatorButton({ onAdded, variant = 'filled' }: { onAdded(): void; variant?: 'filled' | 'light' }) {
  const withFreshAuth = useFreshAuth();
  const [starting, setStarting] = useState(false);
  const [enrollment, setEnrollment] = useState<TotpEnrollment | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<AuthProblem | null>(null);
  const cooldown = useCooldown();

  const start = async () => {
    setStarting(true);
    try {
      const e = await withFreshAuth(() => api.post<TotpEnrollment>('/v1/me/factors/totp'), 'add an authenticator app');
      setProblem(null);
      setEnrollment(e);
    } catch (e) {
      if (!isCanceled(e)) notifications.show({ color: 'red', title: 'Could not start the setup', message: errorWords(e) });
    } finally {
      setStarting(false);
    }
  };

  const confirm = async (code: string): Promise<boolean> => {
    if (!enrollment) return false;
    setBusy(true);
    setProblem(null);
    try {
      const r = await withFreshAuth(
        () => api.post<{ factorId: string; recoveryCodes?: string[] }>(`/v1/me/factors/totp/${encodeURIComponent(enrollment.factorId)}/confirm`, { code }),
        'add an authenticator app',
      );
      setEnrollment(null);
      notifications.show({ color: 'teal', title: 'Authenticator app added', message: 'You will be asked for a code from it when you sign in.' });
      if (r.recoveryCodes?.length) setCodes(r.recoveryCodes);
      else onAdded();
      return true;
    } catch (e) {
      if (!isCanceled(e)) {
        const p = authProblem(e, 'enroll');
        setProblem(p);
        cooldown.start(p.retryAfterSeconds);
      }
      return false;
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <Button variant={variant} onClick={() => void start()} loading={starting}>Add authenticator app</Button>
      <Modal
        opened={!!enrollment}
        onClose={() => setEnrollment(null)}
        title={<Text fw={700} size="lg">Add an authenticator app</Text>}
        centered
        size={640}
        closeOnClickOutside={false}
      >
        {enrollment && (
          <TotpSetup
            enrollment={enrollment}
            onConfirm={confirm}
            busy={busy}
            disabled={cooldown.secondsLeft > 0}
            alert={<ProblemAlert problem={problem} secondsLeft={cooldown.secondsLeft} />}
            secondary={<Button variant="subtle" color="gray" onClick={() => setEnrollment(null)}>Cancel</Button>}
          />
        )}
      </Modal>
      <SavedCodesModal
        codes={codes}
        title="Save your recovery codes"
        intro="Your authenticator app is set up. If you lose your phone, each of these codes signs you in once."
        onDone={() => { setCodes(null); onAdded(); }}
      />
    </>
  );
}
