/** Where you are signed in: device, address, when; sign out any other session, or all of them. */
import { Badge, Button, Card, Group, Skeleton, Stack, Table, Text, VisuallyHidden } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useState } from 'react';
import { ErrorAlert } from '../../components/ErrorAlert';
import { api, seg } from '../../lib/api';
import { errorWords } from '../../lib/errors';
import { useAsync } from '../../lib/use-async';
import { ConfirmDialog } from './ConfirmDialog';
import { deviceName, formatDateTime, methodsInWords, timeAgo } from './format';
import type { SessionRow } from './types';

export function SessionsSection() {
  const list = useAsync((signal) => api.get<{ sessions: SessionRow[] }>('/v1/me/sessions', { signal }).then((r) => r.sessions), []);
  const [busyId, setBusyId] = useState<string | null>(null);
  const [askAll, setAskAll] = useState(false);
  const [busyAll, setBusyAll] = useState(false);
  const rows = [...(list.data ?? [])].sort((a, b) => Number(b.current) - Number(a.current) || b.lastSeenAt.localeCompare(a.lastSeenAt));
  const others = rows.filter((r) => !r.current);

  const revoke = async (s: SessionRow) => {
    setBusyId(s.id);
    try {
      await api.del(`/v1/me/sessions/${seg(s.id)}`);
      notifications.show({ color: 'teal', title: 'Session signed out', message: `${deviceName(s.userAgent)} is signed out.` });
      await list.reload();
    } catch (e) {
      notifications.show({ color: 'red', title: 'Could not sign out that session', message: errorWords(e) });
    } finally {
      setBusyId(null);
    }
  };

  const revokeAll = async () => {
    setAskAll(false);
    setBusyAll(true);
    const results = await Promise.allSettled(others.map((s) => api.del(`/v1/me/sessions/${seg(s.id)}`)));
    const failed = results.filter((r) => r.status === 'rejected').length;
    if (failed) notifications.show({ color: 'red', title: 'Some sessions could not be signed out', message: `${failed} of ${others.length} did not respond. Try again.` });
    else notifications.show({ color: 'teal', title: 'Other sessions signed out', message: 'Only this device is signed in now.' });
    setBusyAll(false);
    await list.reload();
  };

  return (
    <Card withBorder radius="md" p="lg">
      <Group justify="space-between" align="flex-start" wrap="nowrap" mb="sm">
        <Stack gap={2}>
          <Text fw={700}>Sessions</Text>
          <Text size="sm" c="dimmed">Devices signed in to your account. If you do not recognize one, sign it out and change your password.</Text>
        </Stack>
        {others.length > 0 && (
          <Button variant="light" color="red" onClick={() => setAskAll(true)} loading={busyAll} style={{ flex: 'none' }}>Sign out all other sessions</Button>
        )}
      </Group>
      <ErrorAlert error={list.error} title="Could not load your sessions" />
      {list.loading && !list.data ? (
        <Stack gap="xs" aria-busy="true" aria-label="Loading sessions">
          <Skeleton h={36} />
          <Skeleton h={36} />
        </Stack>
      ) : (
        <Table verticalSpacing="sm" highlightOnHover>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Device</Table.Th>
              <Table.Th>IP address</Table.Th>
              <Table.Th>Signed in</Table.Th>
              <Table.Th>Last active</Table.Th>
              <Table.Th w={120}><VisuallyHidden>Actions</VisuallyHidden></Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((s) => (
              <Table.Tr key={s.id} data-session-id={s.id}>
                <Table.Td>
                  <Group gap="xs" wrap="nowrap">
                    <Text size="sm" fw={600} title={s.userAgent ?? undefined}>{deviceName(s.userAgent)}</Text>
                    {s.current && <Badge size="sm" variant="light" color="teal" tt="none">This device</Badge>}
                  </Group>
                  <Text size="xs" c="dimmed">{methodsInWords(s.methods)}</Text>
                </Table.Td>
                <Table.Td><Text size="sm" ff="monospace">{s.ip ?? '—'}</Text></Table.Td>
                <Table.Td><Text size="sm">{formatDateTime(s.createdAt)}</Text></Table.Td>
                <Table.Td><Text size="sm" title={formatDateTime(s.lastSeenAt)}>{s.current ? 'Now' : timeAgo(s.lastSeenAt)}</Text></Table.Td>
                <Table.Td>
                  {!s.current && (
                    <Button size="xs" variant="light" color="red" loading={busyId === s.id} onClick={() => void revoke(s)} aria-label={`Sign out ${deviceName(s.userAgent)} (${s.ip ?? 'unknown address'})`}>Sign out</Button>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      <ConfirmDialog opened={askAll} title="Sign out all other sessions?" confirmLabel="Sign out others" danger onConfirm={() => void revokeAll()} onCancel={() => setAskAll(false)}>
        {others.length === 1 ? 'One other session' : `${others.length} other sessions`} will be signed out right away. This device stays signed in.
      </ConfirmDialog>
    </Card>
  );
}
