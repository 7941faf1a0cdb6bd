/** The audit events, newest first: time, what happened, outcome, who, to what, from where. */
import { Anchor, Badge, Table, Text, Tooltip } from '@mantine/core';
import type { AuditEvent } from './audit-api';
import { actorWords, targetWords, type Person } from './directory';
import { eventWords, outcomeOf } from './event-types';
import { formatCompact, formatDateTime } from './format';

export function EventsTable({ events, byId, onOpen }: { events: AuditEvent[]; byId: Map<string, Person>; onOpen(e: AuditEvent): void }) {
  return (
    <Table highlightOnHover verticalSpacing={6} aria-label="Audit events" style={{ tableLayout: 'fixed' }}>
      <Table.Thead>
        <Table.Tr>
          <Table.Th w={150}>Time</Table.Th>
          <Table.Th>Event</Table.Th>
          <Table.Th w={96}>Outcome</Table.Th>
          <Table.Th w={210}>Done by</Table.Th>
          <Table.Th w={180}>Target</Table.Th>
          <Table.Th w={118}>IP address</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {events.map((e) => {
          const o = outcomeOf(e.outcome);
          const actor = actorWords(e, byId);
          const target = targetWords(e, byId);
          return (
            <Table.Tr key={e.id} data-testid="audit-row" data-type={e.type} onClick={() => onOpen(e)} style={{ cursor: 'pointer' }}>
              <Table.Td><Text size="sm" title={formatDateTime(e.occurredAt)}>{formatCompact(e.occurredAt)}</Text></Table.Td>
              <Table.Td>
                <Anchor component="button" type="button" size="sm" fw={500} onClick={(ev) => { ev.stopPropagation(); onOpen(e); }} title={e.type} style={{ textAlign: 'left' }}>
                  {eventWords(e.type)}
                </Anchor>
              </Table.Td>
              <Table.Td><Badge color={o.color} variant="light" size="sm">{o.label}</Badge></Table.Td>
              <Table.Td><Tooltip label={actor} openDelay={400}><Text size="sm" truncate="end">{actor}</Text></Tooltip></Table.Td>
              <Table.Td><Tooltip label={target} openDelay={400}><Text size="sm" truncate="end">{target}</Text></Tooltip></Table.Td>
              <Table.Td><Text size="sm" ff="monospace" truncate="end">{e.ip ?? '—'}</Text></Table.Td>
            </Table.Tr>
          );
        })}
      </Table.Tbody>
    </Table>
  );
}
