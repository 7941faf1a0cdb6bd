/**
 * Roles × permissions. Built-in roles are shown for reference (their boxes are disabled); a custom
 * role's boxes edit a draft that the page saves.
 */
import { Checkbox, Stack, Table, Text, Tooltip } from '@mantine/core';
import { Fragment } from 'react';
import { groupPermissions, permissionInfo, roleLabel } from '../permissions';
import type { Role } from '../types';

interface Props {
  roles: Role[];
  permissions: string[];
  /** Unsaved permission sets of custom roles, by role name. */
  drafts: Record<string, string[]>;
  canManage: boolean;
  onToggle(role: string, permission: string, on: boolean): void;
}

export function PermissionMatrix({ roles, permissions, drafts, canManage, onToggle }: Props) {
  // built-in roles may hold permissions a custom role cannot (platform ones): list those too
  const all = [...new Set([...permissions, ...roles.flatMap((r) => r.permissions)])];
  const groups = groupPermissions(all);
  const assignable = new Set(permissions);
  const held = (r: Role) => drafts[r.name] ?? r.permissions;
  // the header stays in view while scrolling down the page; with many roles the table scrolls sideways instead
  const wide = roles.length > 6;
  const table = (
      <Table withColumnBorders verticalSpacing={6} aria-label="Permission matrix" stickyHeader={!wide} stickyHeaderOffset={56}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th w={360}>Permission</Table.Th>
            {roles.map((r) => (
              <Table.Th key={r.name} ta="center" style={{ verticalAlign: 'bottom' }}>
                <Stack gap={0} align="center">
                  <Text size="xs" fw={700} ta="center" lh={1.2}>{roleLabel(r.name)}</Text>
                  <Text size="xs" c={drafts[r.name] ? 'orange' : 'dimmed'} fw={drafts[r.name] ? 600 : 400}>
                    {r.builtin ? 'built-in' : drafts[r.name] ? 'unsaved' : 'custom'}
                  </Text>
                </Stack>
              </Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {groups.map((g) => (
            <Fragment key={g.group}>
              <Table.Tr bg="gray.0">
                <Table.Td colSpan={roles.length + 1}>
                  <Text size="xs" fw={700} tt="uppercase" c="dimmed">{g.group}</Text>
                </Table.Td>
              </Table.Tr>
              {g.permissions.map((p) => (
                <Table.Tr key={p}>
                  <Table.Td>
                    <Text size="sm">{permissionInfo(p).description}</Text>
                    <Text size="xs" c="dimmed" ff="monospace">{p}</Text>
                  </Table.Td>
                  {roles.map((r) => {
                    const locked = r.builtin || !canManage || !assignable.has(p);
                    const on = held(r).includes(p);
                    const box = (
                      <Checkbox
                        checked={on}
                        disabled={locked}
                        onChange={(e) => onToggle(r.name, p, e.currentTarget.checked)}
                        aria-label={`${p} for ${r.name}`}
                        styles={{
                          body: { justifyContent: 'center' },
                          // read-only but legible: granted permissions stay clearly ticked
                          ...(locked && on ? { input: { backgroundColor: 'var(--mantine-color-indigo-1)', borderColor: 'var(--mantine-color-indigo-3)' }, icon: { color: 'var(--mantine-color-indigo-7)' } } : {}),
                        }}
                      />
                    );
                    return (
                      <Table.Td key={r.name} ta="center">
                        {r.builtin ? <Tooltip label="Built-in roles cannot be changed" openDelay={400}><span style={{ display: 'inline-block' }}>{box}</span></Tooltip> : box}
                      </Table.Td>
                    );
                  })}
                </Table.Tr>
              ))}
            </Fragment>
          ))}
        </Table.Tbody>
      </Table>
  );
  return wide ? <Table.ScrollContainer minWidth={420 + roles.length * 96}>{table}</Table.ScrollContainer> : table;
}
