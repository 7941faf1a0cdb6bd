/**
 * What an administrator can do to one account, each shown only with the permission for it:
 * resend the invitation, unlock, request a factor reset, disable (instant deprovisioning) or enable.
 */
import { Alert, Anchor, Button, Divider, Group, Paper, Stack, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { Fragment, useState, type ReactNode } from 'react';
import { usersApi } from '../../../components/admin/admin-api';
import { ConfirmDialog } from '../../../components/admin/ConfirmDialog';
import { relativeTime } from '../../../components/admin/format';
import type { AdminUserDetail, Approval } from '../../../components/admin/types';
import { ErrorAlert } from '../../../components/ErrorAlert';
import { linkClick } from '../../../lib/router';
import { useSession } from '../../../lib/session';
import { FactorResetDialog } from './FactorResetDialog';

interface Props {
  tenant: string;
  user: AdminUserDetail;
  pendingReset: Approval | undefined;
  onChanged(): void;
}

function ActionRow({ title, description, action }: { title: string; description: ReactNode; action: ReactNode }) {
  return (
    <Group justify="space-between" wrap="nowrap" align="center" gap="md" p="sm">
      <Stack gap={2} style={{ flex: 1 }}>
        <Text size="sm" fw={600}>{title}</Text>
        <Text size="xs" c="dimmed">{description}</Text>
      </Stack>
      {action}
    </Group>
  );
}

export function UserActions({ tenant, user, pendingReset, onChanged }: Props) {
  const { me, can } = useSession();
  const isSelf = me?.userId === user.id;
  const [dialog, setDialog] = useState<'disable' | 'reset' | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  const run = async (key: string, fn: () => Promise<unknown>, done: string) => {
    setBusy(key);
    setError(null);
    try {
      await fn();
      notifications.show({ color: 'green', message: done });
      onChanged();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  const rows: Array<{ key: string; node: ReactNode }> = [];
  if (user.status === 'invited' && can('users.invite')) {
    rows.push({
      key: 'resend',
      node: (
        <ActionRow
          title="Resend invitation"
          description="Sends a new one-time setup link to their email."
          action={<Button size="xs" variant="default" loading={busy === 'resend'} onClick={() => void run('resend', () => usersApi.resendInvitation(tenant, user.id), `A new setup link was sent to ${user.email}.`)}>Resend invitation</Button>}
        />
      ),
    });
  }
  if (user.status !== 'invited' && can('users.factors.reset')) {
    rows.push({
      key: 'unlock',
      node: (
        <ActionRow
          title="Unlock"
          description="Clears failed attempts on the password and every sign-in method, so a locked-out user can try again."
          action={<Button size="xs" variant="default" loading={busy === 'unlock'} onClick={() => void run('unlock', () => usersApi.unlock(tenant, user.id), `${user.email} is unlocked.`)}>Unlock</Button>}
        />
      ),
    });
  }
  if (can('users.factors.reset') && !isSelf && user.status !== 'invited') {
    rows.push({
      key: 'reset',
      node: pendingReset ? (
        <Alert color="orange" variant="light" title="Factor reset waiting for approval" m="xs">
          Requested by {pendingReset.requestedBy.id === me?.userId ? 'you' : pendingReset.requestedBy.email} {relativeTime(pendingReset.createdAt)}; expires{' '}
          {relativeTime(pendingReset.expiresAt)}. Another administrator decides on the{' '}
          <Anchor href="/admin/approvals" onClick={linkClick('/admin/approvals')}>Approvals</Anchor> screen.
        </Alert>
      ) : (
        <ActionRow
          title="Reset sign-in methods"
          description={user.factors.length ? 'Removes every second factor so they enroll again. A second administrator must approve.' : 'They have no sign-in methods to reset.'}
          action={<Button size="xs" variant="light" color="orange" disabled={!user.factors.length} onClick={() => setDialog('reset')}>Request factor reset</Button>}
        />
      ),
    });
  }
  if (can('users.disable') && !isSelf) {
    rows.push({
      key: 'disable',
      node:
        user.status === 'disabled' ? (
          <ActionRow
            title="Enable user"
            description="They can sign in again with their existing password and sign-in methods."
            action={<Button size="xs" variant="light" color="green" loading={busy === 'enable'} onClick={() => void run('enable', () => usersApi.enable(tenant, user.id), `${user.email} is enabled and can sign in again.`)}>Enable user</Button>}
          />
        ) : (
          <ActionRow
            title="Disable user"
            description="Instant deprovisioning: every session ends at once and they cannot sign in."
            action={<Button size="xs" color="red" onClick={() => setDialog('disable')}>Disable user</Button>}
          />
        ),
    });
  }

  return (
    <Stack gap="xs">
      {rows.length > 0 ? (
        <Paper withBorder radius="md">
          {rows.map((r, i) => (
            <Fragment key={r.key}>
              {i > 0 && <Divider />}
              {r.node}
            </Fragment>
          ))}
        </Paper>
      ) : (
        !isSelf && <Text size="sm" c="dimmed">Your role does not allow changes to this account.</Text>
      )}
      {isSelf && (
        <Text size="xs" c="dimmed">
          You cannot disable your own account or request a reset of your own sign-in methods; manage them under{' '}
          <Anchor href="/security" size="xs" onClick={linkClick('/security')}>Sign-in &amp; security</Anchor>.
        </Text>
      )}
      <ErrorAlert error={error} />
      <ConfirmDialog
        opened={dialog === 'disable'}
        title={`Disable ${user.displayName || user.email}?`}
        confirmLabel="Disable and end all sessions"
        color="red"
        onClose={() => setDialog(null)}
        onConfirm={async () => {
          await usersApi.disable(tenant, user.id);
          setDialog(null);
          notifications.show({ color: 'green', title: 'User disabled', message: `${user.email} is disabled and every one of their sessions has ended.` });
          onChanged();
        }}
      >
        <Text size="sm">
          Disabling is instant deprovisioning. <strong>Every session {user.email} has ends at once</strong>: they are signed out of every
          browser and device right now, their next click lands on the sign-in screen, and they cannot sign in again until an
          administrator enables the account.
        </Text>
        <Text size="sm" c="dimmed">Their roles and sign-in methods are kept, so enabling the account later restores access as it was.</Text>
      </ConfirmDialog>
      <FactorResetDialog
        opened={dialog === 'reset'}
        tenant={tenant}
        user={user}
        onClose={() => setDialog(null)}
        onRequested={() => {
          setDialog(null);
          onChanged();
        }}
      />
    </Stack>
  );
}
