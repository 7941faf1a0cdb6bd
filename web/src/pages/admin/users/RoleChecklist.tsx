/** Roles to pick, each with what it allows: used when inviting a user and when changing their roles. */
import { Checkbox, Stack, Text } from '@mantine/core';
import { roleLabel } from '../../../components/admin/permissions';
import type { Role } from '../../../components/admin/types';

export function RoleChecklist({ roles, value, onChange, label = 'Roles', error }: { roles: Role[]; value: string[]; onChange(v: string[]): void; label?: string; error?: string }) {
  return (
    <Checkbox.Group label={label} value={value} onChange={onChange} error={error} withAsterisk>
      <Stack gap={8} mt={6}>
        {roles.map((r) => (
          <Checkbox
            key={r.name}
            value={r.name}
            label={roleLabel(r.name)}
            description={
              <Text span size="xs" c="dimmed">
                {r.description || `${r.permissions.length} permission${r.permissions.length === 1 ? '' : 's'}`}
                {!r.builtin && ' · custom role'}
              </Text>
            }
          />
        ))}
      </Stack>
    </Checkbox.Group>
  );
}
