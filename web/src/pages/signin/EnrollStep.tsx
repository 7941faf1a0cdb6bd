/** Forced enrollment inside the sign-in flow: start a TOTP enrollment, then confirm it with a first code. */
import { Button, Center, Loader, Stack, Text } from '@mantine/core';
import { useEffect, useRef, type ReactNode } from 'react';
import type { TotpEnrollment } from '../../components/auth/flow';
import { TotpSetup } from '../../components/auth/TotpSetup';

export function EnrollStep({ enrollment, onBegin, onConfirm, busy, disabled, alert }: {
  enrollment: TotpEnrollment | undefined;
  onBegin(): Promise<void>;
  onConfirm(code: string): Promise<boolean>;
  busy: boolean;
  disabled?: boolean;
  alert?: ReactNode;
}) {
  const begun = useRef(false);
  useEffect(() => {
    if (enrollment || begun.current) return;
    begun.current = true;
    void onBegin();
  }, [enrollment, onBegin]);
  if (!enrollment) {
    return (
      <Stack gap="md">
        {alert}
        {alert ? (
          <Button variant="default" onClick={() => void onBegin()} loading={busy}>Try again</Button>
        ) : (
          <Center py="xl">
            <Stack align="center" gap="xs">
              <Loader aria-label="Preparing your authenticator setup" />
              <Text size="sm" c="dimmed">Preparing your setup key…</Text>
            </Stack>
          </Center>
        )}
      </Stack>
    );
  }
  return <TotpSetup enrollment={enrollment} onConfirm={onConfirm} busy={busy} disabled={disabled} alert={alert} submitLabel="Confirm and continue" />;
}
