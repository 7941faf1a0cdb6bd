/**
 * /signin: organization and email, password, then a second factor chosen among the user's enrolled
 * ones (a code, or a security key the browser asks), or a forced authenticator enrollment (QR code,
 * setup key, first code, recovery codes shown once). A passkey can replace email, password and
 * second factor: the "Sign in with a passkey" button or the email field's autofill. The flow token
 * stays in memory. On success the session is reloaded and the user goes to `?next=` (same-site
 * paths only) or `/`.
 */
import { Alert, Center, Loader, Stack, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { AuthLayout, StepHeading } from '../components/auth/AuthLayout';
import { answerWithKey, flowApi, totpEnrollment, type FlowView, type StepResult, type TotpEnrollment } from '../components/auth/flow';
import { ProblemAlert } from '../components/auth/ProblemAlert';
import { SecondFactorForm } from '../components/auth/SecondFactorForm';
import { useAuthStep } from '../components/auth/use-auth-step';
import { askKey, cancelKeyPrompt, keysSupported, type Assertion } from '../components/auth/webauthn';
import { navigate, useLocation } from '../lib/router';
import { useSession } from '../lib/session';
import { EnrollStep } from './signin/EnrollStep';
import { IdentifyStep } from './signin/IdentifyStep';
import { IdentityChip } from './signin/IdentityChip';
import type { PasskeyStart } from './signin/passkey-autofill';
import { PasswordStep } from './signin/PasswordStep';
import { lastTenant, safeNext } from './signin/safe-next';
import { SavedCodesStep } from './signin/SavedCodesStep';

type Stage =
  | { step: 'identify' }
  | { step: 'password'; flow: FlowView; token: string }
  | { step: 'second_factor'; flow: FlowView; token: string }
  | { step: 'enroll'; flow: FlowView; token: string; enrollment?: TotpEnrollment }
  | { step: 'codes'; codes: string[]; result: StepResult }
  | { step: 'restart' }
  | { step: 'done' };

export function SignInPage() {
  const { search } = useLocation();
  const { me, loading, ended, refresh } = useSession();
  const [tenant, setTenant] = useState(() => search.get('tenant')?.trim().toLowerCase() || lastTenant.get());
  const [email, setEmail] = useState(() => search.get('email') ?? '');
  const [stage, setStage] = useState<Stage>({ step: 'identify' });
  const { problem, setProblem, busy, cooldown, run, flowOver } = useAuthStep(() => setStage({ step: 'restart' }));
  const next = search.get('next');
  const arrivedSignedIn = useRef<boolean | null>(null);
  const passkeys = useMemo(keysSupported, []);

  // someone already signed in who opens /signin goes straight on
  useEffect(() => {
    if (loading || arrivedSignedIn.current !== null) return;
    arrivedSignedIn.current = !!me;
    if (me) navigate(safeNext(next), { replace: true });
  }, [loading, me, next]);

  const finish = useCallback(async (r: StepResult) => {
    setStage({ step: 'done' });
    const due = !!r.session?.enrollmentDue;
    if (due) {
      notifications.show({ color: 'orange', title: 'Set up two-step verification', message: 'Your organization will soon require an authenticator app when you sign in. Add one now under Sign-in & security.', autoClose: 12_000 });
    }
    await refresh();
    navigate(safeNext(next, due ? '/security' : '/'), { replace: true });
  }, [next, refresh]);

  /** Moves to the screen the server's answer asks for. */
  const advance = useCallback(async (r: StepResult, token?: string) => {
    const t = r.flowToken ?? token ?? '';
    if (r.session) {
      if (r.recoveryCodes?.length) setStage({ step: 'codes', codes: r.recoveryCodes, result: r });
      else await finish(r);
      return;
    }
    switch (r.flow.state) {
      case 'password':
      case 'second_factor':
        setStage({ step: r.flow.state, flow: r.flow, token: t });
        return;
      case 'enroll':
        setStage({ step: 'enroll', flow: r.flow, token: t, enrollment: totpEnrollment(r) });
        return;
      default:
        flowOver(r.flow.state);
    }
  }, [finish]);


  const start = (t: string, e: string) =>
    run('identify', async () => {
      cancelKeyPrompt(); // going on with a password: the waiting passkey autofill ends
      const r = await flowApi.start(t, e);
      setTenant(t);
      setEmail(e);
      lastTenant.set(t);
      await advance(r);
    });

  /** A passwordless sign-in: the passkey's answer completes the flow (it names the user). */
  const withPasskey = (t: string, answer: (started: PasskeyStart) => Promise<Assertion>, started?: PasskeyStart) =>
    run('passkey', async () => {
      const flow = started ?? (await flowApi.passkey(t));
      setTenant(t);
      lastTenant.set(t);
      const credential = await answer(flow);
      await advance(await flowApi.key(flow.flow.id, flow.flowToken, credential), flow.flowToken);
    });

  const backToStart = () => {
    setProblem(null);
    cooldown.clear(); // waits apply to the account that was tried, not to the next one
    setStage({ step: 'identify' });
  };

  const alert = <ProblemAlert problem={problem} secondsLeft={cooldown.secondsLeft} onRestart={() => void start(tenant, email)} restarting={busy} />;
  const waiting = cooldown.secondsLeft > 0;
  const chip = <IdentityChip email={email} tenant={tenant} onChange={backToStart} />;
  const notice = search.get('ended') === '1' || ended
    ? <Alert color="blue" variant="light" title="Your session ended" role="status">Your session ended. Sign in again.</Alert>
    : search.get('setup') === '1'
      ? <Alert color="teal" variant="light" title="Your password is set" role="status">Sign in to finish setting up your account.</Alert>
      : null;

  switch (stage.step) {
    case 'identify':
      return (
        <AuthLayout title="Sign in">
          <StepHeading title="Sign in">Use the organization and email your administrator set up for you.</StepHeading>
          <IdentifyStep
            tenant={tenant}
            email={email}
            passkeys={passkeys}
            onSubmit={(t, e) => void start(t, e)}
            onPasskey={(t) => void withPasskey(t, (f) => askKey(f.options))}
            onAutofill={(t, flow, credential) => void withPasskey(t, async () => credential, flow)}
            busy={busy}
            disabled={waiting}
            alert={<>{!problem && notice}{alert}</>}
          />
        </AuthLayout>
      );
    case 'password':
      return (
        <AuthLayout title="Sign in">
          <StepHeading title="Enter your password" />
          {chip}
          <PasswordStep
            email={email}
            busy={busy}
            disabled={waiting}
            alert={alert}
            onSubmit={(password) => run('password', async () => advance(await flowApi.password(stage.flow.id, stage.token, password), stage.token))}
          />
        </AuthLayout>
      );
    case 'second_factor':
      return (
        <AuthLayout title="Two-step verification">
          <StepHeading title="Two-step verification" />
          {chip}
          <SecondFactorForm
            options={stage.flow.options ?? []}
            busy={busy}
            disabled={waiting}
            alert={alert}
            onSubmit={(method, code) => run('code', async () => advance(await flowApi.factor(stage.flow.id, stage.token, method, code), stage.token))}
            onKey={() => run('key', async () => advance(await answerWithKey(stage.flow.id, stage.token), stage.token))}
          />
        </AuthLayout>
      );
    case 'enroll':
      return (
        <AuthLayout title="Set up two-step verification" width={640}>
          <StepHeading title="Set up two-step verification">Your organization requires a second step at sign-in. Add an authenticator app to continue.</StepHeading>
          <EnrollStep
            enrollment={stage.enrollment}
            busy={busy}
            disabled={waiting}
            alert={alert}
            onBegin={async () => {
              await run('enroll', async () => {
                const r = await flowApi.beginEnrollment(stage.flow.id, stage.token);
                const enrollment = totpEnrollment(r);
                if (!enrollment) throw new Error('enrollment missing');
                setStage({ ...stage, enrollment });
              });
            }}
            onConfirm={(code) => run('enroll', async () => advance(await flowApi.confirmEnrollment(stage.flow.id, stage.token, code), stage.token))}
          />
        </AuthLayout>
      );
    case 'codes':
      return (
        <AuthLayout title="Save your recovery codes" width={480}>
          <StepHeading title="Save your recovery codes">Your authenticator app is set up. If you lose your phone, each code below signs you in once. They are shown only now.</StepHeading>
          <SavedCodesStep codes={stage.codes} who={{ email, tenant }} busy={busy} onContinue={() => void run('enroll', () => finish(stage.result))} />
        </AuthLayout>
      );
    case 'restart':
      return (
        <AuthLayout title="Sign in">
          <StepHeading title="Sign in again" />
          {chip}
          {alert}
        </AuthLayout>
      );
    case 'done':
      return (
        <AuthLayout title="Signing in">
          <Center py="lg">
            <Stack align="center" gap="xs">
              <Loader aria-label="Signing you in" />
              <Text size="sm" c="dimmed">Signing you in…</Text>
            </Stack>
          </Center>
        </AuthLayout>
      );
  }
}
