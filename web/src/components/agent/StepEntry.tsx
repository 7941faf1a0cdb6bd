/**
 * One input the agent types what the caller says into (a code, the PIN, an answer) and a button that
 * checks it. The value is cleared after every check, right or wrong, so it never lingers on screen
 * or in the page; the server answers with the verification's new state only.
 */
import { Box, Button, Group, PasswordInput, TextInput } from '@mantine/core';
import { useRef, useState, type FormEvent, type ReactNode } from 'react';
import { ErrorAlert } from '../ErrorAlert';
import type { VerificationView } from './types';
import { endsFlow, stepErrorWords } from './words';

export interface StepEntryProps {
  label: string;
  description?: ReactNode;
  submitLabel: string;
  masked?: boolean;
  numeric?: boolean;
  maxLength?: number;
  placeholder?: string;
  autoFocus?: boolean;
  inputId?: string;
  disabled?: boolean;
  check(value: string): Promise<VerificationView>;
  onView(v: VerificationView): void;
  /** The flow may be over (expired, failed): read it again. */
  onEnded(): void;
  /** After a refused check (for example to ask another question). */
  onRefused?(words: string): void;
}

export function StepEntry(p: StepEntryProps) {
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const input = useRef<HTMLInputElement>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const v = value.trim();
    if (!v) {
      setError(`Type the ${p.label.toLowerCase()} first.`);
      input.current?.focus();
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const view = await p.check(v);
      setValue('');
      p.onView(view);
    } catch (err) {
      setValue('');
      const words = stepErrorWords(err);
      setError(words);
      if (endsFlow(err)) p.onEnded();
      else p.onRefused?.(words);
      input.current?.focus();
    } finally {
      setBusy(false);
    }
  };

  const common = {
    ref: input,
    id: p.inputId,
    label: p.label,
    description: p.description,
    value,
    onChange: (e: React.ChangeEvent<HTMLInputElement>) => setValue(e.currentTarget.value),
    autoComplete: 'off',
    spellCheck: false,
    maxLength: p.maxLength ?? 64,
    placeholder: p.placeholder,
    inputMode: p.numeric ? ('numeric' as const) : undefined,
    autoFocus: p.autoFocus,
    disabled: p.disabled,
    style: { flex: 1 },
    'data-1p-ignore': true,
    'data-lpignore': 'true',
  };

  return (
    <form onSubmit={submit}>
      <Group align="flex-end" gap="sm" wrap="nowrap">
        {p.masked ? <PasswordInput {...common} visibilityToggleButtonProps={{ 'aria-label': 'Show or hide what was typed' }} /> : <TextInput {...common} />}
        <Button type="submit" loading={busy} disabled={p.disabled}>{p.submitLabel}</Button>
      </Group>
      {error && <Box mt="xs"><ErrorAlert error={error} title="Not accepted" /></Box>}
    </form>
  );
}
