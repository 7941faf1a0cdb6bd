/** Recent activity on the account (GET /v1/me/activity): sign-ins, failures, changes, with device and address. */
import { Badge, Button, Card, Group, Skeleton, Stack, Table, Text } from '@mantine/core';
import { ErrorAlert } from '../../components/ErrorAlert';
import { api } from '../../lib/api';
import { useAsync } from '../../lib/use-async';
import { activityDetail, activityTitle, outcomeBadge } from './activity-words';
import { deviceName, formatDateTime, timeAgo } from './format';
import type { ActivityEvent } from './types';

export function ActivitySection() {
  const list = useAsync((signal) => api.get<{ events: ActivityEvent[] }>('/v1/me/activity?limit=20', { signal }).then((r) => r.events), []);
  const events = list.data ?? [];
  return (
    <Card withBorder radius="md" p="lg">
      <Group justify="space-between" align="flex-start" wrap="nowrap" mb="sm">
        <Stack gap={2}>
          <Text fw={700}>Recent activity</Text>
          <Text size="sm" c="dimmed">The latest sign-ins and security changes on your account. Something you do not recognize? Change your password and tell your administrator.</Text>
        </Stack>
        <Button variant="default" size="xs" onClick={() => void list.reload()} loading={list.loading && !!list.data} style={{ flex: 'none' }}>Refresh</Button>
      </Group>
      <ErrorAlert error={list.error} title="Could not load your activity" />
      {list.loading && !list.data ? (
        <Stack gap="xs" aria-busy="true" aria-label="Loading activity">
          {[0, 1, 2, 3].map((i) => <Skeleton key={i} h={32} />)}
        </Stack>
      ) : events.length === 0 && !list.error ? (
        <Text size="sm" c="dimmed" ta="center" py="lg">No activity yet.</Text>
      ) : events.length > 0 ? (
        <Table verticalSpacing={6} highlightOnHover aria-label="Recent activity">
          <Table.Thead>
            <Table.Tr>
              <Table.Th w={170}>When</Table.Th>
              <Table.Th>Event</Table.Th>
              <Table.Th w={110}>Result</Table.Th>
              <Table.Th>Device</Table.Th>
              <Table.Th w={140}>IP address</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {events.map((e) => {
              const b = outcomeBadge(e.outcome);
              const detail = activityDetail(e);
              return (
                <Table.Tr key={e.id}>
                  <Table.Td><Text size="sm" title={formatDateTime(e.at)}>{timeAgo(e.at)}</Text></Table.Td>
                  <Table.Td>
                    <Text size="sm" fw={500}>{activityTitle(e)}</Text>
                    {detail && <Text size="xs" c="dimmed">{detail}</Text>}
                  </Table.Td>
                  <Table.Td><Badge size="sm" variant="light" color={b.color} tt="none">{b.label}</Badge></Table.Td>
                  <Table.Td><Text size="sm">{deviceName(e.userAgent)}</Text></Table.Td>
                  <Table.Td><Text size="sm" ff="monospace">{e.ip ?? '—'}</Text></Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      ) : null}
    </Card>
  );
}
