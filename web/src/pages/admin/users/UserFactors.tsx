/**
 * A user's sign-in methods in the user panel: each with its name and kind, for security keys the
 * model (from the uploaded FIDO metadata, or "Unknown model"), synced passkey or device-bound, PIN
 * or touch only and warnings (a use count gone backwards: a possible copy); administrators with
 * users.factors.reset suspend one (it cannot be used until resumed) or resume it.
 */
import { Badge, Button, Group, Paper, Stack, Text, Tooltip } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useState } from 'react';
import { usersApi } from '../../../components/admin/admin-api';
import { ConfirmDialog } from '../../../components/admin/ConfirmDialog';
import { dateTime, relativeTime } from '../../../components/admin/format';
import { factorLabel } from '../../../components/admin/permissions';
import type { AdminUserDetail, UserFactor } from '../../../components/admin/types';
import { ErrorAlert } from '../../../components/ErrorAlert';
import { useSession } from '../../../lib/session';

/** Key warnings (details.flags of a key) in words for administrators. */
export const keyFlagWords: Record<string, { label: string; hint: string }> = {
  counter_regression: {
    label: 'Possible copy',
    hint: 'This key reported a lower use count than before, which can mean it was copied. Consider suspending it and asking the user.',
  },
};

const nameOf = (f: UserFactor) => f.label || factorLabel(f.kind);

function KeyFacts({ f }: { f: UserFactor }) {
  const k = f.key;
  if (!k) return null;
  return (
    <Group gap={6}>
      <Tooltip label={k.aaguid ? `AAGUID ${k.aaguid}` : 'The key did not say its model'} disabled={!!k.model && !k.aaguid}>
        <Badge variant="outline" color={k.model ? 'indigo' : 'gray'} tt="none" tabIndex={0} data-testid="key-model" style={{ maxWidth: '100%' }}>
          {k.model ?? 'Unknown model'}
        </Badge>
      </Tooltip>
      <Badge variant="light" color={k.deviceType === 'multiDevice' ? 'indigo' : 'gray'} tt="none">{k.deviceType === 'multiDevice' ? 'Synced passkey' : 'Device-bound'}</Badge>
      <Badge variant="outline" color="gray" tt="none">{k.userVerified ? 'PIN or biometrics' : 'Touch only'}</Badge>
      {k.flags.map((flag) => (
        <Tooltip key={flag} label={keyFlagWords[flag]?.hint ?? flag} multiline w={260}>
          <Badge color="orange" variant="light" tt="none" tabIndex={0}>{keyFlagWords[flag]?.label ?? flag.replace(/_/g, ' ')}</Badge>
        </Tooltip>
      ))}
    </Group>
  );
}

export function UserFactors({ tenant, user, onChanged }: { tenant: string; user: AdminUserDetail; onChanged(): void }) {
  const { can } = useSession();
  const mayChange = can('users.factors.reset');
  const [busyId, setBusyId] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [suspending, setSuspending] = useState<UserFactor | null>(null);

  const resume = async (f: UserFactor) => {
    setBusyId(f.id);
    setError(null);
    try {
      await usersApi.resumeFactor(tenant, user.id, f.id);
      notifications.show({ color: 'green', title: 'Resumed', message: `${user.email} can use ${nameOf(f)} again.` });
      onChanged();
    } catch (e) {
      setError(e);
    } finally {
      setBusyId(null);
    }
  };

  if (!user.factors.length) {
    return (
      <Text size="sm" c="dimmed">
        {user.status === 'invited' ? 'None yet: they have not finished setting up the account.' : 'No second factor enrolled. They will be asked to set one up when policy requires it.'}
      </Text>
    );
  }
  return (
    <Stack gap="xs">
      <Stack component="ul" gap="xs" aria-label="Sign-in methods" style={{ listStyle: 'none', padding: 0, margin: 0 }}>
        {user.factors.map((f) => {
          const suspended = f.status === 'suspended';
          return (
            <Paper component="li" key={f.id} withBorder radius="sm" p="sm" data-factor-id={f.id}>
              <Group justify="space-between" gap="sm" align="center">
                <Stack gap={4} style={{ flex: '1 1 220px', minWidth: 0 }}>
                  <Group gap={6}>
                    <Text size="sm" fw={600} style={{ overflowWrap: 'anywhere' }} data-testid="factor-name">{nameOf(f)}</Text>
                    {suspended && <Badge color="red" variant="light" tt="none">Suspended</Badge>}
                  </Group>
                  <KeyFacts f={f} />
                  <Text size="xs" c="dimmed">
                    {nameOf(f) !== factorLabel(f.kind) && `${factorLabel(f.kind)} · `}
                    {f.lastUsedAt ? <span title={dateTime(f.lastUsedAt)}>Last used {relativeTime(f.lastUsedAt)}</span> : 'Never used'}
                  </Text>
                </Stack>
                {mayChange &&
                  (suspended ? (
                    <Button size="xs" variant="light" color="green" loading={busyId === f.id} onClick={() => void resume(f)} aria-label={`Resume ${nameOf(f)}`}>Resume</Button>
                  ) : (
                    <Button size="xs" variant="light" color="red" loading={busyId === f.id} onClick={() => setSuspending(f)} aria-label={`Suspend ${nameOf(f)}`}>Suspend</Button>
                  ))}
              </Group>
            </Paper>
          );
        })}
      </Stack>
      <ErrorAlert error={error} />
      <ConfirmDialog
        opened={!!suspending}
        title={`Suspend ${suspending ? nameOf(suspending) : ''}?`}
        confirmLabel="Suspend"
        color="red"
        onClose={() => setSuspending(null)}
        onConfirm={async () => {
          const f = suspending;
          if (!f) return;
          await usersApi.suspendFactor(tenant, user.id, f.id);
          setSuspending(null);
          notifications.show({ color: 'green', title: 'Suspended', message: `${nameOf(f)} of ${user.email} cannot be used until you resume it.` });
          onChanged();
        }}
      >
        <Text size="sm">
          {user.email} cannot sign in or confirm actions with it until an administrator resumes it. Their other sign-in methods keep working, and they are told by email.
        </Text>
      </ConfirmDialog>
    </Stack>
  );
}
