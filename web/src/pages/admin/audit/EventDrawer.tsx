/** One audit event in full: who, what, where from, its place in the hash chain and its data. */
import { Badge, Code, DataList, Drawer, Group, Stack, Table, Text, Title } from '@mantine/core';
import { labelFor, valueWords } from '../policy/words';
import type { AuditEvent } from './audit-api';
import { actorWords, targetWords, type Person } from './directory';
import { eventWords, outcomeOf } from './event-types';
import { formatDateTime } from './format';

const humanKey = (k: string) => {
  const s = k.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[_.]+/g, ' ').toLowerCase();
  return s[0]!.toUpperCase() + s.slice(1);
};

function PolicyChanges({ changes }: { changes: Array<{ path: string; from: unknown; to: unknown }> }) {
  return (
    <Table withTableBorder verticalSpacing={4} aria-label="Policy changes">
      <Table.Thead>
        <Table.Tr><Table.Th>Setting</Table.Th><Table.Th>Before</Table.Th><Table.Th>After</Table.Th></Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {changes.map((c) => (
          <Table.Tr key={c.path}>
            <Table.Td><Text size="sm">{labelFor(c.path)}</Text></Table.Td>
            <Table.Td><Text size="sm" c="dimmed">{valueWords(c.path, c.from)}</Text></Table.Td>
            <Table.Td><Text size="sm">{valueWords(c.path, c.to)}</Text></Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

function Value({ v }: { v: unknown }) {
  if (v === null || v === undefined) return <Text size="sm" c="dimmed">—</Text>;
  if (typeof v === 'boolean') return <Text size="sm">{v ? 'Yes' : 'No'}</Text>;
  if (typeof v !== 'object') return <Text size="sm" style={{ wordBreak: 'break-word' }}>{String(v)}</Text>;
  return <Code block style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word', maxHeight: 220, overflow: 'auto' }}>{JSON.stringify(v, null, 2)}</Code>;
}

function EventData({ data }: { data: unknown }) {
  if (data === null || data === undefined || (typeof data === 'object' && Object.keys(data).length === 0)) return <Text size="sm" c="dimmed">No further details were recorded.</Text>;
  if (typeof data !== 'object' || Array.isArray(data)) return <Value v={data} />;
  const entries = Object.entries(data as Record<string, unknown>);
  return (
    <Stack gap="xs">
      {entries.map(([k, v]) =>
        k === 'changes' && Array.isArray(v) && v.every((c) => c && typeof c === 'object' && 'path' in c) ? (
          <Stack key={k} gap={4}>
            <Text size="sm" fw={600}>Changes</Text>
            <PolicyChanges changes={v as Array<{ path: string; from: unknown; to: unknown }>} />
          </Stack>
        ) : (
          <Group key={k} gap="sm" align="flex-start" wrap="nowrap">
            <Text size="sm" c="dimmed" w={150} style={{ flexShrink: 0 }}>{humanKey(k)}</Text>
            <div style={{ minWidth: 0, flex: 1 }}><Value v={v} /></div>
          </Group>
        ),
      )}
    </Stack>
  );
}

export function EventDrawer({ event, onClose, byId, meId }: { event: AuditEvent | null; onClose(): void; byId: Map<string, Person>; meId?: string }) {
  const o = event ? outcomeOf(event.outcome) : null;
  return (
    <Drawer opened={!!event} onClose={onClose} position="right" size={520} title={event ? eventWords(event.type) : ''} aria-label="Event details">
      {event && o && (
        <Stack gap="md" data-testid="event-details">
          <Group gap="xs">
            <Badge color={o.color} variant="light">{o.label}</Badge>
            <Code>{event.type}</Code>
            <Text size="sm" c="dimmed">Event #{event.id}</Text>
          </Group>
          <DataList size="sm" labelWidth={140} withDivider>
            <DataList.Item><DataList.ItemLabel>When</DataList.ItemLabel><DataList.ItemValue>{formatDateTime(event.occurredAt)}</DataList.ItemValue></DataList.Item>
            <DataList.Item><DataList.ItemLabel>Done by</DataList.ItemLabel><DataList.ItemValue>{actorWords(event, byId, meId)}{event.actorId && <Text size="xs" c="dimmed">{event.actorId}</Text>}</DataList.ItemValue></DataList.Item>
            <DataList.Item><DataList.ItemLabel>Target</DataList.ItemLabel><DataList.ItemValue>{targetWords(event, byId)}{event.targetId && !targetWords(event, byId).includes(event.targetId) && <Text size="xs" c="dimmed">{event.targetId}</Text>}</DataList.ItemValue></DataList.Item>
            <DataList.Item><DataList.ItemLabel>IP address</DataList.ItemLabel><DataList.ItemValue>{event.ip ?? '—'}</DataList.ItemValue></DataList.Item>
            <DataList.Item><DataList.ItemLabel>Device</DataList.ItemLabel><DataList.ItemValue><Text size="sm" style={{ wordBreak: 'break-word' }}>{event.userAgent ?? '—'}</Text></DataList.ItemValue></DataList.Item>
            <DataList.Item><DataList.ItemLabel>Channel</DataList.ItemLabel><DataList.ItemValue>{event.channel ?? '—'}</DataList.ItemValue></DataList.Item>
            <DataList.Item><DataList.ItemLabel>Request</DataList.ItemLabel><DataList.ItemValue><Text size="xs" ff="monospace">{event.requestId ?? '—'}</Text></DataList.ItemValue></DataList.Item>
            <DataList.Item>
              <DataList.ItemLabel>Hash chain</DataList.ItemLabel>
              <DataList.ItemValue>
                {event.chainSeq === null ? (
                  <Text size="sm" c="dimmed">Not sealed yet</Text>
                ) : (
                  <Stack gap={2}>
                    <Text size="sm">Position {event.chainSeq}</Text>
                    <Text size="xs" ff="monospace" c="dimmed" style={{ wordBreak: 'break-all' }}>{event.hash}</Text>
                  </Stack>
                )}
              </DataList.ItemValue>
            </DataList.Item>
          </DataList>
          <Title order={5}>Details</Title>
          <EventData data={event.data} />
        </Stack>
      )}
    </Drawer>
  );
}
