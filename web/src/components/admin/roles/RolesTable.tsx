/** Every role in the tenant with what it is for; custom roles can be edited and deleted. */
import { Badge, Button, Group, Stack, Table, Text, VisuallyHidden } from '@mantine/core';
import { roleLabel } from '../permissions';
import type { Role } from '../types';

interface Props {
  roles: Role[];
  /** Users holding each role; absent when the viewer cannot read users. */
  userCounts: Record<string, number> | null;
  canManage: boolean;
  onEdit(r: Role): void;
  onDelete(r: Role): void;
}

export function RolesTable({ roles, userCounts, canManage, onEdit, onDelete }: Props) {
  return (
    <Table.ScrollContainer minWidth={760}>
      <Table verticalSpacing="sm" aria-label="Roles">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Role</Table.Th>
            <Table.Th>Description</Table.Th>
            <Table.Th ta="right">Permissions</Table.Th>
            {userCounts && <Table.Th ta="right">Users</Table.Th>}
            {canManage && <Table.Th><VisuallyHidden>Actions</VisuallyHidden></Table.Th>}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {roles.map((r) => (
            <Table.Tr key={r.name} data-role={r.name}>
              <Table.Td>
                <Stack gap={2}>
                  <Text size="sm" fw={600} style={{ whiteSpace: 'nowrap' }}>{roleLabel(r.name)}</Text>
                  <Group gap={6} wrap="nowrap">
                    <Badge size="xs" variant="light" color={r.builtin ? 'gray' : 'indigo'} tt="none" style={{ overflow: 'visible', flexShrink: 0 }}>{r.builtin ? 'Built-in' : 'Custom'}</Badge>
                    {roleLabel(r.name) !== r.name && <Text size="xs" c="dimmed" ff="monospace">{r.name}</Text>}
                  </Group>
                </Stack>
              </Table.Td>
              <Table.Td>
                <Text size="sm" c={r.description ? undefined : 'dimmed'}>{r.description || 'No description'}</Text>
              </Table.Td>
              <Table.Td ta="right"><Text size="sm">{r.permissions.length}</Text></Table.Td>
              {userCounts && <Table.Td ta="right"><Text size="sm">{userCounts[r.name] ?? 0}</Text></Table.Td>}
              {canManage && (
                <Table.Td ta="right">
                  {r.builtin ? (
                    <Text size="xs" c="dimmed">Read-only</Text>
                  ) : (
                    <Group gap="xs" justify="flex-end" wrap="nowrap">
                      <Button size="xs" variant="default" onClick={() => onEdit(r)} aria-label={`Edit ${r.name}`}>Edit</Button>
                      <Button size="xs" variant="subtle" color="red" onClick={() => onDelete(r)} aria-label={`Delete ${r.name}`}>Delete</Button>
                    </Group>
                  )}
                </Table.Td>
              )}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
