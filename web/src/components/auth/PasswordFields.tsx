/** Choosing a new password: the field, the confirmation, and the rules checked as you type. */
import { List, PasswordInput, Stack, Text, ThemeIcon, VisuallyHidden } from '@mantine/core';
import { passwordChecks, type PasswordRules } from './password-rules';

export function PasswordRuleList({ password, rules, email }: { password: string; rules: PasswordRules; email?: string }) {
  const checks = passwordChecks(password, rules, email);
  return (
    <List size="sm" spacing={4} center aria-label="Password rules" icon={null}>
      {checks.map((c) => (
        <List.Item
          key={c.label}
          icon={
            <ThemeIcon size={18} radius="xl" variant="light" color={c.met === true ? 'teal' : c.broken ? 'red' : 'gray'} aria-hidden="true">
              <Text span size="xs" fw={700}>{c.met === true ? '✓' : c.broken ? '✕' : '•'}</Text>
            </ThemeIcon>
          }
        >
          <Text span size="sm" c={c.met === true ? 'teal.8' : c.broken ? 'red.8' : 'dimmed'}>
            {c.label}
            {c.met === true && <VisuallyHidden> (met)</VisuallyHidden>}
            {c.broken && <VisuallyHidden> (not met)</VisuallyHidden>}
          </Text>
        </List.Item>
      ))}
    </List>
  );
}

export function NewPasswordFields({ password, confirm, onPassword, onConfirm, rules, email, label = 'New password', autoFocus }: {
  password: string;
  confirm: string;
  onPassword(v: string): void;
  onConfirm(v: string): void;
  rules: PasswordRules;
  email?: string;
  label?: string;
  autoFocus?: boolean;
}) {
  const mismatch = confirm.length > 0 && confirm !== password;
  return (
    <Stack gap="sm">
      <PasswordInput label={label} value={password} onChange={(e) => onPassword(e.currentTarget.value)} autoComplete="new-password" required withAsterisk={false} autoFocus={autoFocus} />
      <PasswordRuleList password={password} rules={rules} email={email} />
      <PasswordInput
        label="Confirm new password"
        value={confirm}
        onChange={(e) => onConfirm(e.currentTarget.value)}
        autoComplete="new-password"
        required withAsterisk={false}
        error={mismatch ? 'The two passwords do not match.' : undefined}
      />
    </Stack>
  );
}
