/** Second screen: the password (with a hidden username field so password managers match the account). */
import { Button, PasswordInput, Stack, Text } from '@mantine/core';
import { useState, type FormEvent, type ReactNode } from 'react';

export function PasswordStep({ email, onSubmit, busy, disabled, alert }: {
  email: string;
  onSubmit(password: string): Promise<boolean>;
  busy: boolean;
  disabled?: boolean;
  alert?: ReactNode;
}) {
  const [password, setPassword] = useState('');
  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    if (!password || busy) return;
    if (!(await onSubmit(password))) setPassword('');
  };
  return (
    <form onSubmit={submit} noValidate>
      <Stack gap="md">
        <input type="text" name="username" autoComplete="username" value={email} readOnly hidden />
        {alert}
        <PasswordInput
          label="Password"
          value={password}
          onChange={(ev) => setPassword(ev.currentTarget.value)}
          autoComplete="current-password"
          required withAsterisk={false}
          size="md"
          autoFocus
        />
        <Button type="submit" size="md" fullWidth loading={busy} disabled={disabled || !password}>Sign in</Button>
        <Text size="xs" c="dimmed">Forgot your password? Ask your administrator to send you a new setup link.</Text>
      </Stack>
    </form>
  );
}
