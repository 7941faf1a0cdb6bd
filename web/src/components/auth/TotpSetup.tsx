/**
 * Adding an authenticator app: the QR code (an SVG from the server, shown as an image), the key
 * for manual entry grouped in fours with a copy button, and the first code that confirms it.
 */
import { ActionIcon, Anchor, Box, Button, CopyButton, Group, List, Stack, Text, TextInput, Tooltip } from '@mantine/core';
import { useState, type FormEvent, type ReactNode } from 'react';
import type { TotpEnrollment } from './flow';
import { CheckIcon, CopyIcon } from './icons';
import { codeReady, OneTimeCodeInput } from './OneTimeCodeInput';

/** "JBSWY3DPEHPK3PXP" -> "JBSW Y3DP EHPK 3PXP". */
export const groupKey = (secret: string) => secret.replace(/\s+/g, '').replace(/(.{4})(?=.)/g, '$1 ');

export function TotpSetup({ enrollment, onConfirm, busy, disabled, alert, submitLabel = 'Confirm and turn on', secondary }: {
  enrollment: TotpEnrollment;
  onConfirm(code: string): Promise<boolean | void>;
  busy: boolean;
  disabled?: boolean;
  alert?: ReactNode;
  submitLabel?: string;
  secondary?: ReactNode;
}) {
  const [code, setCode] = useState('');
  const key = groupKey(enrollment.secret);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!codeReady('totp', code) || busy || disabled) return;
    const ok = await onConfirm(code);
    if (ok === false) setCode('');
  };
  return (
    <form onSubmit={submit} noValidate>
      <Stack gap="md">
        <Group align="flex-start" gap="lg" wrap="nowrap">
          <Box
            component="img"
            src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(enrollment.qrSvg)}`}
            alt="QR code to add Callwarden to your authenticator app"
            w={160}
            h={160}
            style={{ flex: 'none', borderRadius: 8, border: '1px solid var(--mantine-color-gray-3)', background: 'white' }}
          />
          <Stack gap="xs" style={{ minWidth: 0, flex: 1 }}>
            <List type="ordered" size="sm" spacing={6}>
              <List.Item>Open an authenticator app on your phone, such as Google or Microsoft Authenticator.</List.Item>
              <List.Item>Scan the QR code, or enter the setup key below.</List.Item>
              <List.Item>Type the 6-digit code the app shows.</List.Item>
            </List>
            <TextInput
              label="Setup key"
              description="For manual entry: time-based, 6 digits, 30 seconds."
              value={key}
              readOnly
              onFocus={(e) => e.currentTarget.select()}
              styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)', fontSize: 13, paddingInlineEnd: 40 } }}
              rightSectionWidth={40}
              rightSection={
                <CopyButton value={enrollment.secret.replace(/\s+/g, '')} timeout={2000}>
                  {({ copied, copy }) => (
                    <Tooltip label={copied ? 'Copied' : 'Copy setup key'} withArrow>
                      <ActionIcon variant="subtle" color={copied ? 'teal' : 'gray'} onClick={copy} aria-label={copied ? 'Setup key copied' : 'Copy setup key'}>
                        {copied ? <CheckIcon /> : <CopyIcon />}
                      </ActionIcon>
                    </Tooltip>
                  )}
                </CopyButton>
              }
            />
            {enrollment.otpauthUri && (
              <Text size="xs" c="dimmed">
                On this device? <Anchor href={enrollment.otpauthUri} size="xs">Open in an authenticator app</Anchor>
              </Text>
            )}
          </Stack>
        </Group>
        {alert}
        <OneTimeCodeInput method="totp" value={code} onChange={setCode} label="Code from the app" description="Enter the code to confirm the app is set up correctly." />
        <Button type="submit" size="md" fullWidth loading={busy} disabled={disabled || !codeReady('totp', code)}>{submitLabel}</Button>
        {secondary}
      </Stack>
    </form>
  );
}
