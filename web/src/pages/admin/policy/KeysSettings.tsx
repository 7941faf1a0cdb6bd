/**
 * Security keys and passkeys in the staff sign-in policy: whether they are allowed (the `webauthn`
 * entry of the allowed second factors, a checkbox above), passwordless sign-in with a passkey, how
 * strictly a key must verify its user as the second step, and which key models may be added.
 */
import { Select, Stack, Text, Title } from '@mantine/core';
import { AllowedModels } from './AllowedModels';
import { SwitchField, usePolicyForm } from './form';
import { userVerificationWords } from './words';

export function KeysSettings() {
  const f = usePolicyForm();
  const allowed = f.get(['mfa', 'allowedFactors']);
  const on = Array.isArray(allowed) && allowed.includes('webauthn');
  const uv = f.get(['webauthn', 'userVerification']);
  const uvValue = typeof uv === 'string' && userVerificationWords[uv] ? uv : 'preferred';
  return (
    <Stack gap={10}>
      <Title order={4}>Security keys and passkeys</Title>
      <Text size="sm" c="dimmed">
        {on
          ? 'Staff may add security keys (YubiKey, Titan) and passkeys (Touch ID, Windows Hello, Android) on their security page and use them to sign in.'
          : 'Not allowed now: tick “Security keys and passkeys” under allowed second factors to turn them on. These settings apply once they are allowed.'}
      </Text>
      <SwitchField
        path="webauthn.passwordless"
        label="Passwordless sign-in with a passkey"
        description="A passkey that checks a PIN, fingerprint or face signs its owner in without a password (two factors in one). Off: keys are only a second step after the password."
      />
      <Select
        label="User verification for security keys"
        description={userVerificationWords[uvValue]!.explain}
        data={Object.entries(userVerificationWords).map(([value, w]) => ({ value, label: w.label }))}
        value={uvValue}
        onChange={(v) => v && f.set(['webauthn', 'userVerification'], v)}
        allowDeselect={false}
        disabled={f.readOnly}
        error={f.errorAt('webauthn.userVerification')}
        maw={420}
      />
      <AllowedModels />
    </Stack>
  );
}
