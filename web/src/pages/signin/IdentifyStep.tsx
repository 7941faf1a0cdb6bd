/** First step: the organization (remembered on this device) and the email address. */
import { Button, Stack, TextInput } from '@mantine/core';
import { useState, type FormEvent, type ReactNode } from 'react';

export function IdentifyStep({ tenant, email, onSubmit, busy, disabled, alert }: {
  tenant: string;
  email: string;
  onSubmit(tenant: string, email: string): void;
  busy: boolean;
  disabled?: boolean;
  alert?: ReactNode;
}) {
  const [t, setT] = useState(tenant);
  const [e, setE] = useState(email);
  const submit = (ev: FormEvent) => {
    ev.preventDefault();
    if (!t.trim() || !e.trim() || busy) return;
    onSubmit(t.trim().toLowerCase(), e.trim());
  };
  return (
    <form onSubmit={submit} noValidate>
      <Stack gap="md">
        {alert}
        <TextInput
          label="Organization"
          description="The short name your administrator gave you, such as acme."
          placeholder="acme"
          value={t}
          onChange={(ev) => setT(ev.currentTarget.value)}
          autoComplete="organization"
          autoCapitalize="off"
          spellCheck={false}
          required withAsterisk={false}
          size="md"
          autoFocus={!t}
        />
        <TextInput
          label="Email"
          type="email"
          placeholder="you@company.com"
          value={e}
          onChange={(ev) => setE(ev.currentTarget.value)}
          autoComplete="username"
          autoCapitalize="off"
          spellCheck={false}
          required withAsterisk={false}
          size="md"
          autoFocus={!!t}
        />
        <Button type="submit" size="md" fullWidth loading={busy} disabled={disabled || !t.trim() || !e.trim()}>Continue</Button>
      </Stack>
    </form>
  );
}
