/** Users of the tenant: who can sign in, with which roles and sign-in methods; invite, change and disable them. */
import { Alert, Button, Group, Paper, Text } from '@mantine/core';
import { useCallback, useMemo, useState } from 'react';
import { usersApi } from '../../components/admin/admin-api';
import { Empty, TableSkeleton } from '../../components/admin/EmptyRows';
import { useRoles } from '../../components/admin/useRoles';
import { ErrorAlert } from '../../components/ErrorAlert';
import { PageTitle } from '../../components/PageTitle';
import { useSession } from '../../lib/session';
import { useTenant } from '../../lib/tenant';
import { useAsync } from '../../lib/use-async';
import { InviteUserModal } from './users/InviteUserModal';
import { UserDrawer } from './users/UserDrawer';
import { UserFilters, applyFilters, noFilters, type Filters } from './users/UserFilters';
import { UsersTable } from './users/UsersTable';
import { useFactorSummaries } from './users/useFactorSummaries';

export function UsersPage() {
  const { me, can } = useSession();
  const { tenant } = useTenant();
  const list = useAsync((signal) => usersApi.list(tenant, signal).then((r) => r.users), [tenant]);
  const roles = useRoles(tenant, can('roles.read'));
  const factors = useFactorSummaries(tenant, list.data);
  const [filters, setFilters] = useState<Filters>(noFilters);
  const [inviting, setInviting] = useState(false);
  const [openId, setOpenId] = useState<string | null>(null);
  const { reload } = list;
  const reloadList = useCallback(() => void reload(), [reload]);

  const users = list.data;
  const roleNames = useMemo(() => {
    const names = new Set<string>(roles.data?.roles.map((r) => r.name) ?? []);
    for (const u of users ?? []) for (const r of u.roles) names.add(r);
    return [...names];
  }, [roles.data, users]);
  const shown = useMemo(() => (users ? applyFilters(users, filters, factors) : []), [users, filters, factors]);

  if (!can('users.read')) {
    return (
      <>
        <PageTitle title="Users" />
        <Alert color="gray" variant="light" title="No access">Your role does not include viewing users. Ask a tenant administrator if you need it.</Alert>
      </>
    );
  }

  const counts = users && {
    active: users.filter((u) => u.status === 'active').length,
    invited: users.filter((u) => u.status === 'invited').length,
    disabled: users.filter((u) => u.status === 'disabled').length,
  };
  return (
    <>
      <PageTitle
        title="Users"
        description={counts ? `${counts.active} active · ${counts.invited} invited · ${counts.disabled} disabled in ${tenant}` : `People who sign in to ${tenant}`}
        actions={can('users.invite') && <Button onClick={() => setInviting(true)} disabled={!roles.data}>Invite user</Button>}
      />
      <Paper withBorder radius="md" p="md">
        <UserFilters value={filters} onChange={setFilters} roleNames={roleNames} showLocked={!!users?.some((u) => u.locked !== undefined)} />
        {list.error && !users ? (
          <ErrorAlert error={list.error} title="Could not load users" />
        ) : !users ? (
          <TableSkeleton label="Loading users" rows={6} />
        ) : users.length === 0 ? (
          <Empty
            title="No users yet"
            description="Invite the people who work in this tenant; each gets a one-time setup link by email."
            action={can('users.invite') && <Button onClick={() => setInviting(true)}>Invite user</Button>}
            icon="👤"
          />
        ) : shown.length === 0 ? (
          <Empty
            title="No users match these filters"
            description="Try another search or clear the filters."
            action={<Button variant="default" onClick={() => setFilters(noFilters)}>Clear filters</Button>}
            icon="⌕"
          />
        ) : (
          <>
            <UsersTable users={shown} factors={factors} meId={me?.userId} onOpen={setOpenId} />
            <Group justify="space-between" mt="xs">
              <Text size="xs" c="dimmed" role="status">
                Showing {shown.length} of {users.length} user{users.length === 1 ? '' : 's'}
              </Text>
              {list.error ? <Text size="xs" c="red">Could not refresh the list.</Text> : null}
            </Group>
          </>
        )}
      </Paper>
      {roles.data && (
        <InviteUserModal opened={inviting} tenant={tenant} roles={roles.data.roles} onClose={() => setInviting(false)} onInvited={reloadList} />
      )}
      <UserDrawer tenant={tenant} userId={openId} roles={roles.data?.roles} onClose={() => setOpenId(null)} onChanged={reloadList} />
    </>
  );
}
