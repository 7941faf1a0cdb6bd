/** Search and filters above the users table. */
import { Group, Select, TextInput } from '@mantine/core';
import { roleLabel } from '../../../components/admin/permissions';
import type { AdminUser, FactorSummary } from '../../../components/admin/types';
import { isSecondFactor } from '../../../components/admin/permissions';

export interface Filters {
  q: string;
  status: string;
  role: string;
  mfa: string;
}

export const noFilters: Filters = { q: '', status: 'all', role: 'all', mfa: 'any' };

export function applyFilters(users: AdminUser[], f: Filters, factors: Record<string, FactorSummary[] | null | undefined>): AdminUser[] {
  const q = f.q.trim().toLowerCase();
  return users.filter((u) => {
    if (q && !u.email.includes(q) && !u.displayName.toLowerCase().includes(q)) return false;
    if (f.status === 'locked' ? !u.locked : f.status !== 'all' && u.status !== f.status) return false;
    if (f.role !== 'all' && !u.roles.includes(f.role)) return false;
    if (f.mfa !== 'any') {
      const fs = factors[u.id];
      if (!fs) return false;
      const enrolled = fs.some((x) => isSecondFactor(x.kind));
      if ((f.mfa === 'enrolled') !== enrolled) return false;
    }
    return true;
  });
}

export function UserFilters({ value, onChange, roleNames, showLocked }: { value: Filters; onChange(f: Filters): void; roleNames: string[]; showLocked: boolean }) {
  const set = (k: keyof Filters) => (v: string | null) => onChange({ ...value, [k]: v ?? noFilters[k] });
  return (
    <Group gap="sm" mb="sm" align="flex-end" wrap="wrap">
      <TextInput
        label="Search users"
        placeholder="Email or name"
        value={value.q}
        onChange={(e) => set('q')(e.currentTarget.value)}
        style={{ flex: 1, minWidth: 200 }}
        type="search"
      />
      <Select
        label="Status"
        w={160}
        allowDeselect={false}
        value={value.status}
        onChange={set('status')}
        data={[
          { value: 'all', label: 'All statuses' },
          { value: 'active', label: 'Active' },
          { value: 'invited', label: 'Invited' },
          { value: 'disabled', label: 'Disabled' },
          ...(showLocked ? [{ value: 'locked', label: 'Locked' }] : []),
        ]}
      />
      <Select
        label="Role"
        w={200}
        allowDeselect={false}
        value={value.role}
        onChange={set('role')}
        data={[{ value: 'all', label: 'All roles' }, ...roleNames.map((r) => ({ value: r, label: roleLabel(r) }))]}
      />
      <Select
        label="MFA"
        w={160}
        allowDeselect={false}
        value={value.mfa}
        onChange={set('mfa')}
        data={[
          { value: 'any', label: 'Any' },
          { value: 'enrolled', label: 'Enrolled' },
          { value: 'not_enrolled', label: 'Not enrolled' },
        ]}
      />
    </Group>
  );
}
