/** Changing the password: the current one, then the new one twice; the server checks the rules. */
import { Alert, Button, Card, List, PasswordInput, Stack, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useState, type FormEvent } from 'react';
import { weakPasswordReasons } from '../../components/auth/password-rules';
import { api } from '../../lib/api';
import { ErrorAlert } from '../../components/ErrorAlert';
import { ApiError } from '../../lib/api';
import { useSession } from '../../lib/session';

export function PasswordSection() {
  const { me } = useSession();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const mismatch = confirm.length > 0 && confirm !== next;
  const ready = !!current && !!next && next === confirm;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!ready || busy) return;
    setBusy(true);
    setError(null);
    try {
      await api.post('/v1/me/password', { currentPassword: current, newPassword: next });
      setCurrent('');
      setNext('');
      setConfirm('');
      notifications.show({ color: 'teal', title: 'Password changed', message: 'Your other sessions were signed out. This one stays signed in.' });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const reasons = error instanceof ApiError && error.code === 'weak_password' ? weakPasswordReasons(error.details) : [];
  const wrongCurrent = error instanceof ApiError && error.code === 'invalid_credentials';
  return (
    <Card withBorder radius="md" p="lg">
      <Stack gap={2} mb="md">
        <Text fw={700}>Password</Text>
        <Text size="sm" c="dimmed">Use a long passphrase you do not use anywhere else — several unrelated words work well. Changing it signs out your other sessions.</Text>
      </Stack>
      <form onSubmit={submit} noValidate>
        <Stack gap="sm" maw={420}>
          <input type="text" name="username" autoComplete="username" value={me?.email ?? ''} readOnly hidden />
          {reasons.length > 0 ? (
            <Alert color="red" variant="light" title="Choose a different password" role="alert">
              <List size="sm" spacing={2}>{reasons.map((r) => <List.Item key={r}>{r}</List.Item>)}</List>
            </Alert>
          ) : (
            !wrongCurrent && <ErrorAlert error={error} />
          )}
          <PasswordInput label="Current password" value={current} onChange={(e) => setCurrent(e.currentTarget.value)} autoComplete="current-password" required withAsterisk={false} error={wrongCurrent ? 'That is not your current password.' : undefined} />
          <PasswordInput label="New password" value={next} onChange={(e) => setNext(e.currentTarget.value)} autoComplete="new-password" required withAsterisk={false} description="Your organization’s rules are checked when you save." />
          <PasswordInput label="Confirm new password" value={confirm} onChange={(e) => setConfirm(e.currentTarget.value)} autoComplete="new-password" required withAsterisk={false} error={mismatch ? 'The two passwords do not match.' : undefined} />
          <div>
            <Button type="submit" loading={busy} disabled={!ready}>Change password</Button>
          </div>
        </Stack>
      </form>
    </Card>
  );
}
