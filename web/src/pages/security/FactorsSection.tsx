/**
 * Sign-in methods: the password and each enrolled factor, with add and remove (fresh authentication).
 * Security keys and passkeys have their own section (./KeysSection.tsx).
 */
import { Badge, Button, Card, Group, Stack, Table, Text, VisuallyHidden } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useState } from 'react';
import { isCanceled, useFreshAuth } from '../../components/auth/fresh-auth';
import { api } from '../../lib/api';
import { errorWords } from '../../lib/errors';
import { AddAuthenticatorButton } from './AddAuthenticator';
import { ConfirmDialog } from './ConfirmDialog';
import { formatDateTime, methodName, timeAgo } from './format';
import { RECOVERY_CODE_COUNT, type Factor } from './types';

export function FactorsSection({ factors, reload, onManageRecovery, onChangePassword }: { factors: Factor[]; reload(): void; onManageRecovery(): void; onChangePassword(): void }) {
  const withFreshAuth = useFreshAuth();
  const [removing, setRemoving] = useState<Factor | null>(null);
  const [busyId, setBusyId] = useState<string | null>(null);
  const hasTotp = factors.some((f) => f.kind === 'totp');
  const hasKey = factors.some((f) => f.kind === 'webauthn');
  const rows = factors.filter((f) => f.kind !== 'webauthn');

  const remove = async () => {
    const f = removing;
    if (!f) return;
    setRemoving(null);
    setBusyId(f.id);
    try {
      await withFreshAuth(() => api.del(`/v1/me/factors/${encodeURIComponent(f.id)}`), 'remove this sign-in method');
      notifications.show({ color: 'teal', title: 'Sign-in method removed', message: `${f.label || methodName(f.kind)} can no longer be used to sign in.` });
      reload();
    } catch (e) {
      if (!isCanceled(e)) notifications.show({ color: 'red', title: 'Could not remove it', message: errorWords(e) });
    } finally {
      setBusyId(null);
    }
  };

  return (
    <Card withBorder radius="md" p="lg">
      <Group justify="space-between" mb="sm" wrap="nowrap">
        <Stack gap={2}>
          <Text fw={700}>Sign-in methods</Text>
          <Text size="sm" c="dimmed">
            {hasTotp || hasKey
              ? 'Two-step verification is on: after your password you confirm with a second method.'
              : 'Only your password protects this account. Add an authenticator app or a security key for a second step.'}
          </Text>
        </Stack>
        {!hasTotp && <AddAuthenticatorButton onAdded={reload} />}
      </Group>
      <Table verticalSpacing="sm" highlightOnHover>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Method</Table.Th>
            <Table.Th>Added</Table.Th>
            <Table.Th>Last used</Table.Th>
            <Table.Th w={150}><VisuallyHidden>Actions</VisuallyHidden></Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          <Table.Tr>
            <Table.Td>
              <Text size="sm" fw={600}>Password</Text>
              <Text size="xs" c="dimmed">Something you know</Text>
            </Table.Td>
            <Table.Td><Text size="sm" c="dimmed">—</Text></Table.Td>
            <Table.Td><Text size="sm" c="dimmed">—</Text></Table.Td>
            <Table.Td><Button size="xs" variant="default" onClick={onChangePassword} aria-label="Change password">Change</Button></Table.Td>
          </Table.Tr>
          {rows.map((f) => (
            <Table.Tr key={f.id}>
              <Table.Td>
                <Group gap="xs" wrap="nowrap">
                  <Text size="sm" fw={600}>{f.kind === 'recovery_code' ? 'Recovery codes' : f.label || methodName(f.kind)}</Text>
                  {f.kind === 'recovery_code' && f.remaining !== undefined && (
                    <Badge variant="light" color={f.remaining <= 3 ? 'orange' : 'gray'} tt="none">{f.remaining} of {RECOVERY_CODE_COUNT} left</Badge>
                  )}
                </Group>
                <Text size="xs" c="dimmed">{f.kind === 'totp' ? 'Time-based 6-digit codes on your phone' : f.kind === 'recovery_code' ? 'Single-use backup codes' : methodName(f.kind)}</Text>
              </Table.Td>
              <Table.Td><Text size="sm">{formatDateTime(f.createdAt)}</Text></Table.Td>
              <Table.Td><Text size="sm" title={f.lastUsedAt ? formatDateTime(f.lastUsedAt) : undefined}>{timeAgo(f.lastUsedAt)}</Text></Table.Td>
              <Table.Td>
                {f.kind === 'recovery_code' ? (
                  <Button size="xs" variant="default" onClick={onManageRecovery}>Manage</Button>
                ) : (
                  <Button size="xs" variant="light" color="red" loading={busyId === f.id} onClick={() => setRemoving(f)} aria-label={`Remove ${f.label || methodName(f.kind)}`}>Remove</Button>
                )}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <ConfirmDialog
        opened={!!removing}
        title="Remove this sign-in method?"
        confirmLabel="Remove"
        danger
        onConfirm={() => void remove()}
        onCancel={() => setRemoving(null)}
      >
        {removing?.kind === 'totp'
          ? 'Codes from this authenticator app will no longer sign you in. If your organization requires two-step verification, you will be asked to set up a new app at your next sign-in.'
          : 'This method will no longer sign you in.'}
      </ConfirmDialog>
    </Card>
  );
}
