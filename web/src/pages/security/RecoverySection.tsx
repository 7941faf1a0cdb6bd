/** Recovery codes: how many are left, and new ones (fresh authentication), shown once. */
import { Alert, Button, Card, Group, Progress, Stack, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useState } from 'react';
import { isCanceled, useFreshAuth } from '../../components/auth/fresh-auth';
import { api } from '../../lib/api';
import { errorWords } from '../../lib/errors';
import { ConfirmDialog } from './ConfirmDialog';
import { formatDateTime } from './format';
import { SavedCodesModal } from './SavedCodesModal';
import { RECOVERY_CODE_COUNT, type Factor } from './types';

export function RecoverySection({ factors, reload }: { factors: Factor[]; reload(): void }) {
  const withFreshAuth = useFreshAuth();
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [codes, setCodes] = useState<string[] | null>(null);
  const set = factors.find((f) => f.kind === 'recovery_code');
  const hasTotp = factors.some((f) => f.kind === 'totp' || f.kind === 'webauthn');
  const left = set?.remaining;

  const regenerate = async () => {
    setAsking(false);
    setBusy(true);
    try {
      const r = await withFreshAuth(() => api.post<{ recoveryCodes: string[] }>('/v1/me/recovery-codes'), 'create new recovery codes');
      setCodes(r.recoveryCodes);
    } catch (e) {
      if (!isCanceled(e)) notifications.show({ color: 'red', title: 'Could not create new codes', message: errorWords(e) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card withBorder radius="md" p="lg">
      <Group justify="space-between" align="flex-start" wrap="nowrap" mb="md">
        <Stack gap={2}>
          <Text fw={700}>Recovery codes</Text>
          <Text size="sm" c="dimmed">Single-use codes that sign you in when you cannot use your authenticator app or security key, for example after losing your phone.</Text>
        </Stack>
        <Button variant={set ? 'default' : 'filled'} onClick={() => (set ? setAsking(true) : void regenerate())} loading={busy} style={{ flex: 'none' }}>
          {set ? 'Create new codes' : 'Create recovery codes'}
        </Button>
      </Group>
      {set && left !== undefined ? (
        <Stack gap="xs" maw={520}>
          <Group justify="space-between">
            <Text size="sm" fw={600} data-testid="recovery-codes-left">{left} of {RECOVERY_CODE_COUNT} codes left</Text>
            <Text size="xs" c="dimmed">Created {formatDateTime(set.createdAt)}</Text>
          </Group>
          <Progress value={(left / RECOVERY_CODE_COUNT) * 100} color={left <= 3 ? 'orange' : 'teal'} aria-label={`${left} of ${RECOVERY_CODE_COUNT} recovery codes left`} />
          {left <= 3 && (
            <Alert color="orange" variant="light" mt="xs" p="xs">
              {left === 0 ? 'You have used all your recovery codes.' : 'You are running low on recovery codes.'} Create new ones and keep them somewhere safe.
            </Alert>
          )}
        </Stack>
      ) : (
        <Text size="sm" c="dimmed">
          {hasTotp ? 'You have no recovery codes yet.' : 'Recovery codes are created when you add an authenticator app or a security key.'}
        </Text>
      )}
      <ConfirmDialog opened={asking} title="Create new recovery codes?" confirmLabel="Create new codes" onConfirm={() => void regenerate()} onCancel={() => setAsking(false)}>
        Your current codes will stop working immediately. You will see the new codes once, so have a safe place ready to keep them.
      </ConfirmDialog>
      <SavedCodesModal codes={codes} onDone={() => { setCodes(null); notifications.show({ color: 'teal', title: 'New recovery codes saved', message: 'Your old codes no longer work.' }); reload(); }} />
    </Card>
  );
}
