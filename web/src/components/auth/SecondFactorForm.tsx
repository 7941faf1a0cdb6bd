/**
 * The second step: pick one of the user's enrolled methods (the flow's options) and type its code,
 * or, for a security key, let the browser ask the key (`onKey`; without it keys are not offered).
 */
import { Button, SegmentedControl, Stack, Text } from '@mantine/core';
import { useId, useState, type FormEvent, type ReactNode } from 'react';
import type { FlowOption } from './flow';
import { codeReady, OneTimeCodeInput } from './OneTimeCodeInput';

const optionOrder = ['webauthn', 'totp', 'recovery_code'];
const KEY = 'webauthn';

export function SecondFactorForm({ options, onSubmit, onKey, busy, disabled, submitLabel = 'Verify', alert, secondary }: {
  options: FlowOption[];
  onSubmit(method: string, code: string): Promise<boolean | void>;
  /** Asks the security key (options, browser prompt, answer). */
  onKey?(): Promise<boolean | void>;
  busy: boolean;
  disabled?: boolean;
  submitLabel?: string;
  alert?: ReactNode;
  secondary?: ReactNode;
}) {
  const sorted = options.filter((o) => o.method !== KEY || onKey).sort((a, b) => rank(a.method) - rank(b.method));
  const [method, setMethod] = useState(sorted[0]?.method ?? 'totp');
  const [code, setCode] = useState('');
  const labelId = useId();
  const current = sorted.find((o) => o.method === method);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (busy || disabled) return;
    if (method === KEY) {
      await onKey?.();
      return;
    }
    if (!codeReady(method, code)) return;
    const ok = await onSubmit(method, code);
    if (ok === false) setCode('');
  };
  if (sorted.length === 0) {
    return <Text size="sm" c="dimmed">No second sign-in method is available for this account. Ask your administrator for help.</Text>;
  }
  return (
    <form onSubmit={submit} noValidate>
      <Stack gap="md">
        {sorted.length > 1 && (
          <Stack gap={6}>
            <Text id={labelId} size="sm" fw={500}>Verify with</Text>
            <SegmentedControl
              aria-labelledby={labelId}
              fullWidth
              value={method}
              onChange={(m) => { setMethod(m); setCode(''); }}
              data={sorted.map((o) => ({ value: o.method, label: o.label }))}
            />
          </Stack>
        )}
        {alert}
        {method === KEY ? (
          <>
            <Text size="sm">Insert your security key or hold it near the device, then touch it or unlock it when your browser asks.</Text>
            <Button type="submit" size="md" fullWidth loading={busy} disabled={disabled} autoFocus>Use security key</Button>
          </>
        ) : (
          <>
            <OneTimeCodeInput key={method} method={method} optionLabel={current?.label} value={code} onChange={setCode} autoFocus />
            <Button type="submit" size="md" fullWidth loading={busy} disabled={disabled || !codeReady(method, code)}>{submitLabel}</Button>
          </>
        )}
        {secondary}
      </Stack>
    </form>
  );
}

function rank(method: string): number {
  const i = optionOrder.indexOf(method);
  return i < 0 ? optionOrder.length : i;
}
