/**
 * A one-time code field: numeric keypad and one-time-code autofill for authenticator codes, plain
 * text for recovery codes (xxxx-xxxx-xxxx). The label names the method, so it is never unlabelled.
 */
import { TextInput } from '@mantine/core';

export function codeLabel(method: string, optionLabel?: string): string {
  if (method === 'totp') return 'Authenticator code';
  if (method === 'recovery_code') return 'Recovery code';
  return optionLabel ? `${optionLabel} code` : 'Code';
}

export function OneTimeCodeInput({ method, optionLabel, value, onChange, autoFocus, disabled, description, label }: {
  method: string;
  optionLabel?: string;
  value: string;
  onChange(v: string): void;
  autoFocus?: boolean;
  disabled?: boolean;
  description?: string;
  label?: string;
}) {
  const numeric = method === 'totp';
  return (
    <TextInput
      label={label ?? codeLabel(method, optionLabel)}
      description={description ?? (numeric ? 'The 6-digit code shown in your authenticator app.' : method === 'recovery_code' ? 'One of the codes you saved when you set up two-step verification. Each works once.' : undefined)}
      value={value}
      onChange={(e) => onChange(numeric ? e.currentTarget.value.replace(/[^\d\s]/g, '') : e.currentTarget.value)}
      autoComplete="one-time-code"
      inputMode={numeric ? 'numeric' : 'text'}
      autoCapitalize="off"
      autoCorrect="off"
      spellCheck={false}
      maxLength={numeric ? 7 : 16}
      placeholder={numeric ? '123456' : method === 'recovery_code' ? 'xxxx-xxxx-xxxx' : undefined}
      autoFocus={autoFocus}
      disabled={disabled}
      required withAsterisk={false}
      size="md"
      styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)', letterSpacing: numeric ? '0.3em' : '0.08em', fontSize: numeric ? 20 : 16 } }}
    />
  );
}

/** True when the code looks complete enough to send. */
export function codeReady(method: string, code: string): boolean {
  const c = code.replace(/[\s\-.]/g, '');
  if (method === 'totp') return /^\d{6}$/.test(c);
  if (method === 'recovery_code') return c.length === 12;
  return c.length > 0;
}
