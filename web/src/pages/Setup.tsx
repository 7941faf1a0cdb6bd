/**
 * /setup#token=...: accepting an invitation. The token (kept in the URL fragment, so it never reaches
 * server logs) is inspected to show the organization, the email and the password rules; the chosen
 * password is sent once and the user continues to /signin with both prefilled.
 */
import { Alert, Button, List, Skeleton, Stack, Text, TextInput } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { AuthLayout, StepHeading } from '../components/auth/AuthLayout';
import { NewPasswordFields } from '../components/auth/PasswordFields';
import { minLength, weakPasswordReasons } from '../components/auth/password-rules';
import { ErrorAlert } from '../components/ErrorAlert';
import { api, ApiError } from '../lib/api';
import { navigate } from '../lib/router';
import { useAsync } from '../lib/use-async';

interface Invitation {
  email: string;
  tenant: string;
  tenantName: string;
  passwordRules: { mfa: boolean; pciMode: boolean };
}

const readToken = () => new URLSearchParams(location.hash.replace(/^#/, '')).get('token') ?? '';

export function SetupPage() {
  const [token] = useState(readToken);
  const inv = useAsync<Invitation | null>(async () => (token.length >= 10 ? api.post<Invitation>('/v1/invitations/inspect', { token }) : null), [token]);

  if (inv.loading) {
    return (
      <AuthLayout title="Set up your account">
        <Stack gap="sm" aria-busy="true" aria-label="Loading your invitation">
          <Skeleton h={28} w="70%" />
          <Skeleton h={16} w="90%" />
          <Skeleton h={40} mt="md" />
          <Skeleton h={40} />
          <Skeleton h={40} />
        </Stack>
      </AuthLayout>
    );
  }
  const invalid = !inv.data || (inv.error instanceof ApiError && inv.error.code === 'invitation_invalid');
  if (inv.error && !invalid) {
    return (
      <AuthLayout title="Set up your account">
        <StepHeading title="Set up your account" />
        <ErrorAlert error={inv.error} title="We could not open your invitation" />
        <Button fullWidth onClick={() => void inv.reload()}>Try again</Button>
      </AuthLayout>
    );
  }
  if (invalid || !inv.data) {
    return (
      <AuthLayout title="Setup link not valid">
        <StepHeading title="This setup link cannot be used">
          It may have expired or already been used. Setup links work once and for a limited time.
        </StepHeading>
        <Text size="sm" mb="lg">Ask your administrator to send you a new invitation. If you already chose a password, sign in instead.</Text>
        <Button fullWidth variant="default" onClick={() => navigate('/signin')}>Go to sign in</Button>
      </AuthLayout>
    );
  }
  return <ChoosePassword token={token} invitation={inv.data} />;
}

function ChoosePassword({ token, invitation }: { token: string; invitation: Invitation }) {
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const rules = invitation.passwordRules;
  const ready = password.length > 0 && password === confirm && [...password].length >= minLength(rules);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!ready || busy) return;
    setBusy(true);
    setError(null);
    try {
      const r = await api.post<{ tenant: string; email: string }>('/v1/invitations/accept', { token, password });
      const q = new URLSearchParams({ tenant: r.tenant, email: r.email, setup: '1' });
      navigate(`/signin?${q}`, { replace: true });
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  const reasons = error instanceof ApiError && error.code === 'weak_password' ? weakPasswordReasons(error.details) : [];
  const expired = error instanceof ApiError && error.code === 'invitation_invalid';
  return (
    <AuthLayout title="Set up your account" width={460}>
      <StepHeading title="Set up your account">
        Welcome to {invitation.tenantName || invitation.tenant}. Choose the password you will use to sign in.
      </StepHeading>
      <form onSubmit={submit} noValidate>
        <Stack gap="md">
          <TextInput label="Email" value={invitation.email} readOnly autoComplete="username" description={`Organization: ${invitation.tenant}`} variant="filled" />
          {reasons.length > 0 ? (
            <Alert color="red" variant="light" title="Choose a different password" role="alert">
              <List size="sm" spacing={2}>{reasons.map((r) => <List.Item key={r}>{r}</List.Item>)}</List>
            </Alert>
          ) : expired ? (
            <Alert color="orange" variant="light" title="This setup link cannot be used" role="alert">It expired or was already used. Ask your administrator for a new invitation.</Alert>
          ) : (
            <ErrorAlert error={error} />
          )}
          <NewPasswordFields password={password} confirm={confirm} onPassword={setPassword} onConfirm={setConfirm} rules={rules} email={invitation.email} label="Choose a password" autoFocus />
          {rules.mfa && <Text size="xs" c="dimmed">Next you will sign in and set up an authenticator app: have your phone ready.</Text>}
          <Button type="submit" size="md" fullWidth loading={busy} disabled={!ready}>Set password and continue</Button>
        </Stack>
      </form>
    </AuthLayout>
  );
}
