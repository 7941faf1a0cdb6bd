/**
 * The steps of a re-authentication flow of the signed-in user (a re-authentication before changing
 * sign-in methods, a step-up before a sensitive action): the password when the flow asks for it,
 * then one of the offered second factors (a code, or the security key through the browser). The
 * flow is either already open (`initial`) or opened by `begin` when the password is sent.
 */
import { Button, Group, PasswordInput, Stack, Text } from '@mantine/core';
import { useState, type FormEvent, type ReactNode } from 'react';
import { useSession } from '../../lib/session';
import { answerWithKey, flowApi, type FlowView, type StepResult } from './flow';
import { ProblemAlert } from './ProblemAlert';
import { SecondFactorForm } from './SecondFactorForm';
import { useAuthStep } from './use-auth-step';

type Step = { step: 'password'; flow?: FlowView; token?: string } | { step: 'factor'; flow: FlowView; token: string } | { step: 'restart' };

export interface ConfirmFlowProps {
  /** Above the password field. */
  passwordIntro: ReactNode;
  /** Above the second-factor choice (null: nothing). */
  factorIntro?: ReactNode;
  /** An open flow (its first answer); without it, `begin` opens one when the password is sent. */
  initial?: StepResult;
  begin?(): Promise<StepResult>;
  /** "Start again" after the flow ended; by default back to the password. */
  onRestart?(): void;
  onDone(): void;
  onCancel(): void;
}

function firstStep(r: StepResult | undefined): Step {
  if (r?.flow.state === 'second_factor') return { step: 'factor', flow: r.flow, token: r.flowToken ?? '' };
  return { step: 'password', flow: r?.flow, token: r?.flowToken };
}

export function ConfirmFlow({ passwordIntro, factorIntro = 'Now confirm with your second sign-in method.', initial, begin, onRestart, onDone, onCancel }: ConfirmFlowProps) {
  const { me } = useSession();
  const [step, setStep] = useState<Step>(() => firstStep(initial));
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
        if (!begin) throw new Error('no flow');
        const started = await begin();
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
    if (onRestart) onRestart();
    else setStep({ step: 'password' });
  };

  const alert = <ProblemAlert problem={problem} secondsLeft={cooldown.secondsLeft} onRestart={restart} />;
  const waiting = cooldown.secondsLeft > 0;

  if (step.step === 'factor') {
    return (
      <Stack gap="md">
        {factorIntro !== null && <Text size="sm">{factorIntro}</Text>}
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
        <Text size="sm">{passwordIntro}</Text>
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
