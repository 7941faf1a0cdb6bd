/** Change a user's roles; the new permissions apply to their next request. */
import { Alert, Button, Group, Stack } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useEffect, useState } from 'react';
import { usersApi } from '../../../components/admin/admin-api';
import type { AdminUser, Role } from '../../../components/admin/types';
import { ErrorAlert } from '../../../components/ErrorAlert';
import { RoleChecklist } from './RoleChecklist';

export function UserRolesEditor({ tenant, user, roles, isSelf, onSaved }: { tenant: string; user: AdminUser; roles: Role[]; isSelf: boolean; onSaved(): void }) {
  const [picked, setPicked] = useState(user.roles);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => setPicked(user.roles), [user.roles]);
  const changed = picked.length !== user.roles.length || picked.some((r) => !user.roles.includes(r));
  const losingAdmin = isSelf && user.roles.includes('tenant_admin') && !picked.includes('tenant_admin');
  // roles the user holds that this tenant no longer defines stay visible so they can be removed
  const known = new Set(roles.map((r) => r.name));
  const options = [...roles, ...user.roles.filter((r) => !known.has(r)).map((name) => ({ name, description: 'No longer defined', permissions: [], builtin: false }))];

  const save = async () => {
    setBusy(true);
    setError(null);
    try {
      await usersApi.setRoles(tenant, user.id, picked);
      notifications.show({ color: 'green', title: 'Roles saved', message: `${user.email} now has the new roles.` });
      onSaved();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Stack gap="sm">
      <RoleChecklist roles={options} value={picked} onChange={setPicked} label="Roles" error={picked.length === 0 ? 'Without a role the user can only manage their own sign-in methods.' : undefined} />
      {losingAdmin && (
        <Alert color="orange" variant="light" title="You are removing your own administrator role">
          You will lose access to these screens as soon as you save.
        </Alert>
      )}
      <ErrorAlert error={error} />
      <Group justify="flex-end" gap="xs">
        <Button variant="default" size="xs" disabled={!changed || busy} onClick={() => setPicked(user.roles)}>Undo changes</Button>
        <Button size="xs" disabled={!changed} loading={busy} onClick={() => void save()}>Save roles</Button>
      </Group>
    </Stack>
  );
}
