/** The users table: who they are, roles, status, MFA enrollment, last sign-in; a row opens the details. */
import { Badge, Button, Group, Pagination, Stack, Table, Text, Tooltip, VisuallyHidden } from '@mantine/core';
import { useEffect, useState } from 'react';
import { MfaSummary, RoleBadges, UserStatusBadge } from '../../../components/admin/Badges';
import { dateTime, relativeTime } from '../../../components/admin/format';
import type { AdminUser, FactorSummary } from '../../../components/admin/types';

const PAGE = 20;

export function UsersTable({ users, factors, meId, onOpen }: { users: AdminUser[]; factors: Record<string, FactorSummary[] | null | undefined>; meId?: string; onOpen(id: string): void }) {
  const [page, setPage] = useState(1);
  const pages = Math.max(1, Math.ceil(users.length / PAGE));
  useEffect(() => {
    if (page > pages) setPage(1);
  }, [page, pages]);
  const shown = users.slice((page - 1) * PAGE, page * PAGE);
  return (
    <Stack gap="sm">
      <Table.ScrollContainer minWidth={900}>
        <Table highlightOnHover verticalSpacing="sm" aria-label="Users">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>User</Table.Th>
              <Table.Th>Roles</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>MFA</Table.Th>
              <Table.Th style={{ whiteSpace: 'nowrap' }}>Last sign-in</Table.Th>
              <Table.Th><VisuallyHidden>Actions</VisuallyHidden></Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {shown.map((u) => (
              <Table.Tr key={u.id} onClick={() => onOpen(u.id)} style={{ cursor: 'pointer' }} data-user={u.email}>
                <Table.Td>
                  <Group gap={6} wrap="nowrap">
                    <Stack gap={0}>
                      <Text size="sm" fw={500}>{u.displayName || u.email}</Text>
                      {u.displayName && <Text size="xs" c="dimmed">{u.email}</Text>}
                    </Stack>
                    {u.id === meId && <Badge size="xs" variant="outline" color="gray" tt="none" style={{ flexShrink: 0, overflow: 'visible' }}>You</Badge>}
                  </Group>
                </Table.Td>
                <Table.Td><RoleBadges roles={u.roles} /></Table.Td>
                <Table.Td><UserStatusBadge user={u} /></Table.Td>
                <Table.Td><MfaSummary factors={factors[u.id]} stacked /></Table.Td>
                <Table.Td>
                  {u.lastSigninAt ? (
                    <Tooltip label={dateTime(u.lastSigninAt)}>
                      <Text size="sm" span>{relativeTime(u.lastSigninAt)}</Text>
                    </Tooltip>
                  ) : (
                    <Text size="sm" c="dimmed">Never</Text>
                  )}
                </Table.Td>
                <Table.Td ta="right">
                  <Button
                    size="xs"
                    variant="default"
                    aria-label={`Manage ${u.email}`}
                    onClick={(e) => {
                      e.stopPropagation();
                      onOpen(u.id);
                    }}
                  >
                    Manage
                  </Button>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {pages > 1 && (
        <Group justify="flex-end">
          <Pagination total={pages} value={page} onChange={setPage} size="sm" aria-label="Users pages" />
        </Group>
      )}
    </Stack>
  );
}
