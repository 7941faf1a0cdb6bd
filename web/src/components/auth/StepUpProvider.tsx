/**
 * Step-up for every API call: when a sensitive action (revealing a customer field, approving a factor
 * reset, saving the policy) answers `step_up_required`, a dialog opens by itself saying what is
 * needed in plain words, opens a step-up flow (POST /v1/me/step-up with the error's `need`) and asks
 * for one of the methods it offers. Once the flow completes (the server refreshes the session
 * cookie) the API client sends the original request once more and the caller goes on as if nothing
 * happened. Cancelling rejects the request with StepUpCanceled; when no method of the account can
 * give what is asked (409 step_up_unavailable), the dialog points to the security page.
 */
import { Alert, Button, Group, Loader, Modal, Stack, Text } from '@mantine/core';
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { api, ApiError, setStepUpHandler } from '../../lib/api';
import { navigate } from '../../lib/router';
import { useSession } from '../../lib/session';
import { ErrorAlert } from '../ErrorAlert';
import { ConfirmFlow } from './ConfirmFlow';
import type { StepResult } from './flow';
import { askExplain, askLines, needsKey, purposeOf, stepUpAsk, type StepUpAsk } from './step-up-words';
import { cancelKeyPrompt } from './webauthn';

/** The user closed the step-up dialog: the action was not done. */
export class StepUpCanceled extends ApiError {
  constructor() {
    super(401, 'step_up_canceled', 'Not done: this needs you to confirm it’s you first. Try again when you are ready.');
  }
}

export const isStepUpUnavailable = (e: unknown) => e instanceof ApiError && e.status === 409 && e.details?.reason === 'step_up_unavailable';

// Escape cancels only the step-up dialog, not a dialog under it (each Mantine modal listens on the
// window): this listener is registered before any modal's, and stops the event when the step-up is open.
let escapeCancel: (() => void) | null = null;
if (typeof window !== 'undefined') {
  window.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape' || !escapeCancel || e.isComposing) return;
    e.stopImmediatePropagation();
    escapeCancel();
  }, { capture: true });
}

interface Open {
  id: number;
  ask: StepUpAsk;
  purpose: string;
}

export function StepUpProvider({ children }: { children: ReactNode }) {
  const { refresh } = useSession();
  const [open, setOpen] = useState<Open | null>(null);
  // every request waiting for this step-up (two refused at once share one dialog)
  const waiters = useRef<Array<{ resolve(): void; reject(e: unknown): void }>>([]);
  const counter = useRef(0);

  useEffect(() => {
    setStepUpHandler(
      (error, req) =>
        new Promise<void>((resolve, reject) => {
          waiters.current.push({ resolve, reject });
          if (waiters.current.length === 1) setOpen({ id: ++counter.current, ask: stepUpAsk(error), purpose: purposeOf(req.method, req.path) });
        }),
    );
    return () => setStepUpHandler(undefined);
  }, []);

  const settle = useCallback(
    (outcome: 'done' | unknown) => {
      const ws = waiters.current;
      waiters.current = [];
      setOpen(null);
      if (outcome === 'done') {
        for (const w of ws) w.resolve();
        void refresh(); // the session's level and methods changed
      } else {
        cancelKeyPrompt();
        for (const w of ws) w.reject(outcome);
      }
    },
    [refresh],
  );

  const cancel = useCallback(() => settle(new StepUpCanceled()), [settle]);
  useEffect(() => {
    escapeCancel = open ? cancel : null;
    return () => void (escapeCancel = null);
  }, [open, cancel]);

  return (
    <>
      {children}
      <Modal
        opened={!!open}
        onClose={cancel}
        title={<Text fw={700} size="lg">Confirm it’s you</Text>}
        centered
        size="md"
        zIndex={400}
        closeOnClickOutside={false}
        closeOnEscape={false}
        closeButtonProps={{ 'aria-label': 'Cancel' }}
      >
        {open && <StepUpBody key={open.id} ask={open.ask} purpose={open.purpose} onDone={() => settle('done')} onCancel={cancel} onGiveUp={(e) => settle(e)} />}
      </Modal>
    </>
  );
}

function StepUpBody({ ask, purpose, onDone, onCancel, onGiveUp }: { ask: StepUpAsk; purpose: string; onDone(): void; onCancel(): void; onGiveUp(e: unknown): void }) {
  const [attempt, setAttempt] = useState(0);
  const [started, setStarted] = useState<{ attempt: number; result?: StepResult; error?: unknown } | null>(null);
  useEffect(() => {
    let live = true;
    api.post<StepResult>('/v1/me/step-up', ask.need, { stepUp: false }).then(
      (result) => live && setStarted({ attempt, result }),
      (error) => live && setStarted({ attempt, error }),
    );
    return () => void (live = false);
  }, [ask, attempt]);

  const key = needsKey(ask);
  const current = started?.attempt === attempt ? started : null;
  let body: ReactNode;
  if (!current) {
    body = (
      <Group gap="xs" role="status">
        <Loader size="sm" aria-hidden />
        <Text size="sm">Getting the confirmation ready…</Text>
      </Group>
    );
  } else if (current.error && isStepUpUnavailable(current.error)) {
    body = (
      <Stack gap="sm">
        <Alert color="orange" variant="light" title="None of your sign-in methods can confirm this" role="alert">
          {key
            ? 'Add a security key or passkey on your security page, then try again.'
            : 'Add a security key or an authenticator app on your security page, then try again.'}
        </Alert>
        <Group justify="flex-end" gap="sm">
          <Button variant="default" onClick={onCancel}>Cancel</Button>
          <Button onClick={() => { onGiveUp(current.error); navigate('/security'); }}>Open security page</Button>
        </Group>
      </Stack>
    );
  } else if (current.error || !current.result) {
    body = (
      <Stack gap="sm">
        <ErrorAlert error={current.error} title="The confirmation could not start" />
        <Group justify="flex-end" gap="sm">
          <Button variant="default" onClick={onCancel}>Cancel</Button>
          <Button onClick={() => setAttempt((a) => a + 1)}>Try again</Button>
        </Group>
      </Stack>
    );
  } else {
    body = (
      <ConfirmFlow
        key={attempt}
        initial={current.result}
        passwordIntro="Enter your password again to confirm it’s you."
        factorIntro={key ? null : 'Confirm with one of your second sign-in methods.'}
        onRestart={() => setAttempt((a) => a + 1)}
        onDone={onDone}
        onCancel={onCancel}
      />
    );
  }
  return (
    <Stack gap="md" data-testid="step-up">
      <Stack gap={4}>
        {askLines(ask).map((line) => <Text key={line} fw={600}>{line}</Text>)}
        <Text size="sm" c="dimmed">{askExplain(ask, purpose)}</Text>
      </Stack>
      {body}
    </Stack>
  );
}
