/**
 * First step: the organization (remembered on this device) and the email address, or a passkey
 * instead of both email and password: the "Sign in with a passkey" button, or a passkey picked from
 * the email field's autofill suggestions (./passkey-autofill.ts).
 */
import { Button, Divider, Stack, TextInput } from '@mantine/core';
import { useState, type FormEvent, type ReactNode } from 'react';
import { KeyIcon } from '../../components/auth/icons';
import type { Assertion } from '../../components/auth/webauthn';
import { usePasskeyAutofill, type PasskeyStart } from './passkey-autofill';

export function IdentifyStep({ tenant, email, onSubmit, onPasskey, onAutofill, passkeys, busy, disabled, alert }: {
  tenant: string;
  email: string;
  onSubmit(tenant: string, email: string): void;
  /** The passkey button: a passwordless sign-in for this organization. */
  onPasskey?(tenant: string): void;
  /** A passkey picked from the autofill suggestions. */
  onAutofill?(tenant: string, flow: PasskeyStart, credential: Assertion): void;
  /** Whether this browser can use passkeys at all. */
  passkeys: boolean;
  busy: boolean;
  disabled?: boolean;
  alert?: ReactNode;
}) {
  const [t, setT] = useState(tenant);
  const [e, setE] = useState(email);
  const [orgMissing, setOrgMissing] = useState(false);
  const slug = t.trim().toLowerCase();
  const { available } = usePasskeyAutofill(slug, passkeys && !!onAutofill && !busy && !disabled, (flow, credential) => onAutofill?.(slug, flow, credential));
  const offerPasskey = passkeys && available && !!onPasskey;

  const submit = (ev: FormEvent) => {
    ev.preventDefault();
    if (!t.trim() || !e.trim() || busy) return;
    onSubmit(slug, e.trim());
  };
  const passkey = () => {
    if (!slug) {
      setOrgMissing(true);
      return;
    }
    onPasskey?.(slug);
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
          onChange={(ev) => {
            setT(ev.currentTarget.value);
            setOrgMissing(false);
          }}
          error={orgMissing ? 'Enter your organization first, then choose your passkey.' : undefined}
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
          autoComplete={passkeys ? 'username webauthn' : 'username'}
          autoCapitalize="off"
          spellCheck={false}
          required withAsterisk={false}
          size="md"
          autoFocus={!!t}
        />
        <Button type="submit" size="md" fullWidth loading={busy} disabled={disabled || !t.trim() || !e.trim()}>Continue</Button>
        {offerPasskey && (
          <>
            <Divider label="or" labelPosition="center" />
            <Button variant="default" size="md" fullWidth leftSection={<KeyIcon />} onClick={passkey} disabled={disabled || busy}>Sign in with a passkey</Button>
          </>
        )}
      </Stack>
    </form>
  );
}
