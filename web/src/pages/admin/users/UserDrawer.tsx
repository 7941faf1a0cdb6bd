/** One user's details in a side panel: status, sign-in methods (suspend or resume one), roles and the actions an admin may take. */
import { Badge, DataList, Drawer, Group, Skeleton, Stack, Text, Title } from '@mantine/core';
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { approvalsApi, usersApi } from '../../../components/admin/admin-api';
import { MfaSummary, RoleBadges, UserStatusBadge } from '../../../components/admin/Badges';
import { dateTime, relativeTime } from '../../../components/admin/format';
import type { Approval, Role } from '../../../components/admin/types';
import { ErrorAlert } from '../../../components/ErrorAlert';
import { useSession } from '../../../lib/session';
import { useAsync } from '../../../lib/use-async';
import { UserActions } from './UserActions';
import { UserFactors } from './UserFactors';
import { UserRolesEditor } from './UserRolesEditor';

interface Props {
  tenant: string;
  userId: string | null;
  roles: Role[] | undefined;
  onClose(): void;
  /** Something about the user changed: the list should reload. */
  onChanged(): void;
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Stack gap="xs">
      <Title order={4} size="h5">{title}</Title>
      {children}
    </Stack>
  );
}

export function UserDrawer({ tenant, userId, roles, onClose, onChanged }: Props) {
  const { me, can } = useSession();
  // the last opened user stays shown while the drawer closes
  const [shownId, setShownId] = useState(userId);
  useEffect(() => {
    if (userId) setShownId(userId);
  }, [userId]);
  const detail = useAsync(async (signal) => {
    if (!shownId) return null;
    const user = await usersApi.get(tenant, shownId, signal);
    // a pending factor reset for this user, if the approvals API answers (it is optional here)
    let pendingReset: Approval | undefined;
    if (can('users.factors.reset')) {
      pendingReset = await approvalsApi
        .list(tenant, 'pending', signal)
        .then((r) => r.approvals.find((a) => a.target.id === shownId && a.kind === 'factor_reset' && a.status === 'pending'))
        .catch(() => undefined);
    }
    return { user, pendingReset };
  }, [tenant, shownId]);
  const { reload } = detail;
  const changed = useCallback(() => {
    void reload();
    onChanged();
  }, [reload, onChanged]);

  const u = detail.data?.user.id === shownId ? detail.data?.user : undefined;
  const isSelf = !!u && me?.userId === u.id;
  return (
    <Drawer
      opened={!!userId}
      onClose={onClose}
      position="right"
      size={500}
      title={<Text fw={700} size="lg">{u ? u.displayName || u.email : 'User'}</Text>}
      closeButtonProps={{ 'aria-label': 'Close user details' }}
    >
      {detail.error && !detail.loading ? (
        <ErrorAlert error={detail.error} title="Could not load this user" />
      ) : !u ? (
        <Stack gap="sm" aria-busy="true" aria-label="Loading user">
          <Skeleton h={24} w="60%" />
          <Skeleton h={120} />
          <Skeleton h={160} />
        </Stack>
      ) : (
        <Stack gap="lg" aria-label={`Details for ${u.email}`}>
          <Group gap="xs">
            <UserStatusBadge user={u} />
            <MfaSummary factors={u.factors} />
            {isSelf && <Badge size="sm" variant="outline" color="gray" tt="none">You</Badge>}
          </Group>
          <DataList size="sm" labelWidth={120}>
            <DataList.Item>
              <DataList.ItemLabel>Email</DataList.ItemLabel>
              <DataList.ItemValue>{u.email}</DataList.ItemValue>
            </DataList.Item>
            <DataList.Item>
              <DataList.ItemLabel>Roles</DataList.ItemLabel>
              <DataList.ItemValue><RoleBadges roles={u.roles} /></DataList.ItemValue>
            </DataList.Item>
            <DataList.Item>
              <DataList.ItemLabel>Added</DataList.ItemLabel>
              <DataList.ItemValue>{dateTime(u.createdAt)}</DataList.ItemValue>
            </DataList.Item>
            <DataList.Item>
              <DataList.ItemLabel>Last sign-in</DataList.ItemLabel>
              <DataList.ItemValue>{u.lastSigninAt ? `${relativeTime(u.lastSigninAt)} (${dateTime(u.lastSigninAt)})` : 'Never'}</DataList.ItemValue>
            </DataList.Item>
            {u.disabledAt && (
              <DataList.Item>
                <DataList.ItemLabel>Disabled</DataList.ItemLabel>
                <DataList.ItemValue>{dateTime(u.disabledAt)}</DataList.ItemValue>
              </DataList.Item>
            )}
          </DataList>

          <Section title="Sign-in methods">
            <UserFactors tenant={tenant} user={u} onChanged={changed} />
          </Section>

          {can('users.update') && roles && (
            <Section title="Change roles">
              <UserRolesEditor tenant={tenant} user={u} roles={roles} isSelf={isSelf} onSaved={changed} />
            </Section>
          )}

          <Section title="Account actions">
            <UserActions tenant={tenant} user={u} pendingReset={detail.data?.pendingReset} onChanged={changed} />
          </Section>
        </Stack>
      )}
    </Drawer>
  );
}
