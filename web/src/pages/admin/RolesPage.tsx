/** Roles and permissions: built-in roles for reference, custom roles built from tenant permissions. */
import { Alert, Button, Group, Paper, Stack, Text, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMemo, useState } from 'react';
import { rolesApi, usersApi } from '../../components/admin/admin-api';
import { ConfirmDialog } from '../../components/admin/ConfirmDialog';
import { TableSkeleton } from '../../components/admin/EmptyRows';
import { PermissionMatrix } from '../../components/admin/roles/PermissionMatrix';
import { RoleFormModal } from '../../components/admin/roles/RoleFormModal';
import { RolesTable } from '../../components/admin/roles/RolesTable';
import type { Role } from '../../components/admin/types';
import { useRoles } from '../../components/admin/useRoles';
import { ErrorAlert } from '../../components/ErrorAlert';
import { PageTitle } from '../../components/PageTitle';
import { useSession } from '../../lib/session';
import { useTenant } from '../../lib/tenant';
import { useAsync } from '../../lib/use-async';

export function RolesPage() {
  const { can } = useSession();
  const { tenant } = useTenant();
  const canManage = can('roles.manage');
  const roles = useRoles(tenant, can('roles.read'));
  const users = useAsync((signal) => (can('users.read') ? usersApi.list(tenant, signal).then((r) => r.users) : Promise.resolve(null)), [tenant]);
  const [drafts, setDrafts] = useState<Record<string, string[]>>({});
  const [form, setForm] = useState<{ editing: Role | null } | null>(null);
  const [deleting, setDeleting] = useState<Role | null>(null);
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<unknown>(null);

  const userCounts = useMemo(() => {
    if (!users.data) return null;
    const c: Record<string, number> = {};
    for (const u of users.data) for (const r of u.roles) c[r] = (c[r] ?? 0) + 1;
    return c;
  }, [users.data]);

  if (!can('roles.read')) {
    return (
      <>
        <PageTitle title="Roles & permissions" />
        <Alert color="gray" variant="light" title="No access">Your role does not include viewing roles.</Alert>
      </>
    );
  }

  const data = roles.data;
  const changed = data ? data.roles.filter((r) => {
    const d = drafts[r.name];
    return d && (d.length !== r.permissions.length || d.some((p) => !r.permissions.includes(p)));
  }) : [];

  const toggle = (role: string, permission: string, on: boolean) => {
    const base = drafts[role] ?? data?.roles.find((r) => r.name === role)?.permissions ?? [];
    const next = on ? [...new Set([...base, permission])] : base.filter((p) => p !== permission);
    setDrafts((d) => ({ ...d, [role]: next }));
  };

  const saveAll = async () => {
    setSaving(true);
    setSaveError(null);
    try {
      for (const r of changed) await rolesApi.save(tenant, r.name, { description: r.description, permissions: drafts[r.name]! });
      notifications.show({ color: 'green', title: 'Permissions saved', message: `${changed.map((r) => r.name).join(', ')}: people with ${changed.length === 1 ? 'this role' : 'these roles'} get the new permissions on their next request.` });
      setDrafts({});
      await roles.reload();
    } catch (e) {
      setSaveError(e);
      await roles.reload();
    } finally {
      setSaving(false);
    }
  };

  return (
    <>
      <PageTitle
        title="Roles & permissions"
        description="A role is a set of permissions. Built-in roles cover the usual jobs; create custom roles for anything else."
        actions={canManage && <Button onClick={() => setForm({ editing: null })} disabled={!data}>New custom role</Button>}
      />
      {roles.error && !data ? (
        <ErrorAlert error={roles.error} title="Could not load roles" />
      ) : !data ? (
        <TableSkeleton label="Loading roles" rows={6} />
      ) : (
        <Stack gap="lg">
          <Paper withBorder radius="md" p="md">
            <RolesTable roles={data.roles} userCounts={userCounts} canManage={canManage} onEdit={(r) => setForm({ editing: r })} onDelete={setDeleting} />
            {!data.roles.some((r) => !r.builtin) && (
              <Text size="sm" c="dimmed" mt="xs">No custom roles yet.{canManage && ' Use “New custom role” to create one.'}</Text>
            )}
          </Paper>
          <Paper withBorder radius="md" p="md">
            <Stack gap={2} mb="sm">
              <Title order={3} size="h4">Permission matrix</Title>
              <Text size="sm" c="dimmed">{canManage ? 'Tick a custom role’s boxes, then save. Built-in roles are shown for reference and cannot be changed.' : 'What each role may do.'}</Text>
            </Stack>
            <ErrorAlert error={saveError} title="Some changes were not saved" />
            <PermissionMatrix roles={data.roles} permissions={data.permissions} drafts={drafts} canManage={canManage} onToggle={toggle} />
            {changed.length > 0 && (
              <Paper pos="sticky" bottom={0} p="sm" mt="sm" withBorder shadow="md" radius="md" style={{ zIndex: 3 }}>
                <Group justify="space-between" wrap="nowrap">
                  <Text size="sm" fw={500} role="status">Unsaved changes to {changed.map((r) => r.name).join(', ')}</Text>
                  <Group gap="xs" wrap="nowrap">
                    <Button variant="default" onClick={() => setDrafts({})} disabled={saving}>Discard</Button>
                    <Button onClick={() => void saveAll()} loading={saving}>Save changes</Button>
                  </Group>
                </Group>
              </Paper>
            )}
          </Paper>
        </Stack>
      )}
      {data && (
        <RoleFormModal
          opened={!!form}
          tenant={tenant}
          editing={form?.editing ?? null}
          roles={data.roles}
          assignable={data.permissions}
          onClose={() => setForm(null)}
          onSaved={(r) => {
            const created = !form?.editing;
            setForm(null);
            notifications.show({ color: 'green', message: created ? `Role ${r.name} created. Tick its permissions in the matrix and save.` : `Role ${r.name} saved.` });
            void roles.reload();
          }}
        />
      )}
      <ConfirmDialog
        opened={!!deleting}
        title={`Delete the role ${deleting?.name ?? ''}?`}
        confirmLabel="Delete role"
        color="red"
        onClose={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting) return;
          await rolesApi.remove(tenant, deleting.name);
          notifications.show({ color: 'green', message: `Role ${deleting.name} deleted.` });
          setDrafts(({ [deleting.name]: _gone, ...rest }) => rest);
          setDeleting(null);
          void roles.reload();
          void users.reload();
        }}
      >
        <Text size="sm">
          {userCounts
            ? `It is removed from ${userCounts[deleting?.name ?? ''] ?? 0} user${(userCounts[deleting?.name ?? ''] ?? 0) === 1 ? '' : 's'}, who lose its permissions at once.`
            : 'It is removed from everyone who has it; they lose its permissions at once.'}
        </Text>
      </ConfirmDialog>
    </>
  );
}
