/**
 * "Confirm it's you": a re-authentication flow (POST /v1/me/reauth, then the same password and
 * second-factor steps as sign-in) that refreshes the current session's authentication time.
 */
import { Button, Group, Modal, PasswordInput, Stack, Text } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { api } from '../../lib/api';
import { useSession } from '../../lib/session';
import { answerWithKey, flowApi, type FlowView, type StepResult } from './flow';
import { ProblemAlert } from './ProblemAlert';
import { SecondFactorForm } from './SecondFactorForm';
import { useAuthStep } from './use-auth-step';

type Step = { step: 'password'; flow?: FlowView; token?: string } | { step: 'factor'; flow: FlowView; token: string } | { step: 'restart' };

export function ReauthModal({ opened, purpose, onDone, onCancel }: { opened: boolean; purpose: string; onDone(): void; onCancel(): void }) {
  return (
    <Modal opened={opened} onClose={onCancel} title={<Text fw={700} size="lg">Confirm it’s you</Text>} centered size="md" closeOnClickOutside={false}>
      {opened && <ReauthBody purpose={purpose} onDone={onDone} onCancel={onCancel} />}
    </Modal>
  );
}

function ReauthBody({ purpose, onDone, onCancel }: { purpose: string; onDone(): void; onCancel(): void }) {
  const { me } = useSession();
  const [step, setStep] = useState<Step>({ step: 'password' });
  const [password, setPassword] = useState('');
  const { problem, setProblem, busy, cooldown, run, flowOver } = useAuthStep(() => setStep({ step: 'restart' }));

  const advance = (r: StepResult, token: string) => {
    if (r.session || r.flow.state === 'completed') return onDone();
    if (r.flow.state === 'second_factor') return setStep({ step: 'factor', flow: r.flow, token: r.flowToken ?? token });
    flowOver(r.flow.state);
  };


  const submitPassword = (e: FormEvent) => {
    e.preventDefault();
    if (!password || busy || step.step !== 'password') return;
    void run('password', async () => {
      let { flow, token } = step;
      if (!flow || !token) {
        const started = await api.post<StepResult>('/v1/me/reauth');
        flow = started.flow;
        token = started.flowToken ?? '';
        setStep({ step: 'password', flow, token });
      }
      try {
        advance(await flowApi.password(flow.id, token, password), token);
      } finally {
        setPassword('');
      }
    });
  };

  const restart = () => {
    setProblem(null);
    setPassword('');
    setStep({ step: 'password' });
  };

  const alert = <ProblemAlert problem={problem} secondsLeft={cooldown.secondsLeft} onRestart={restart} />;
  const waiting = cooldown.secondsLeft > 0;

  if (step.step === 'factor') {
    return (
      <Stack gap="md">
        <Text size="sm">Now confirm with your second sign-in method.</Text>
        <SecondFactorForm
          options={step.flow.options ?? []}
          busy={busy}
          disabled={waiting}
          alert={alert}
          submitLabel="Confirm"
          onSubmit={(method, code) => run('code', async () => advance(await flowApi.factor(step.flow.id, step.token, method, code), step.token))}
          onKey={() => run('key', async () => advance(await answerWithKey(step.flow.id, step.token), step.token))}
          secondary={<Button variant="subtle" color="gray" onClick={onCancel}>Cancel</Button>}
        />
      </Stack>
    );
  }
  if (step.step === 'restart') {
    return (
      <Stack gap="md">
        {alert}
        <Group justify="flex-end"><Button variant="default" onClick={onCancel}>Cancel</Button></Group>
      </Stack>
    );
  }
  return (
    <form onSubmit={submitPassword} noValidate>
      <Stack gap="md">
        <Text size="sm">For your security, enter your password to {purpose}.</Text>
        <input type="text" name="username" autoComplete="username" value={me?.email ?? ''} readOnly hidden />
        {alert}
        <PasswordInput label="Your password" value={password} onChange={(e) => setPassword(e.currentTarget.value)} autoComplete="current-password" required withAsterisk={false} autoFocus data-autofocus />
        <Group justify="flex-end" gap="sm">
          <Button variant="default" onClick={onCancel}>Cancel</Button>
          <Button type="submit" loading={busy} disabled={waiting || !password}>Confirm</Button>
        </Group>
      </Stack>
    </form>
  );
}
