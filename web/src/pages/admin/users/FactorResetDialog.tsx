/** Ask for a user's second factors to be removed; another administrator has to approve it. */
import { List, Text, Textarea } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useEffect, useState } from 'react';
import { usersApi } from '../../../components/admin/admin-api';
import { ConfirmDialog } from '../../../components/admin/ConfirmDialog';
import type { AdminUser } from '../../../components/admin/types';

const MIN_REASON = 5;

export function FactorResetDialog({ opened, tenant, user, onClose, onRequested }: { opened: boolean; tenant: string; user: AdminUser; onClose(): void; onRequested(): void }) {
  const [reason, setReason] = useState('');
  useEffect(() => {
    if (opened) setReason('');
  }, [opened]);
  const ok = reason.trim().length >= MIN_REASON;
  return (
    <ConfirmDialog
      opened={opened}
      title="Request a factor reset"
      confirmLabel="Send request for approval"
      color="orange"
      confirmDisabled={!ok}
      onClose={onClose}
      onConfirm={async () => {
        await usersApi.requestFactorReset(tenant, user.id, reason.trim());
        notifications.show({
          color: 'blue',
          title: 'Request sent for approval',
          message: `Another administrator must approve the factor reset for ${user.email} on the Approvals screen.`,
        });
        onRequested();
      }}
    >
      <Text size="sm">
        When approved, every sign-in method of <strong>{user.email}</strong> is removed:
      </Text>
      <List size="sm" spacing={2}>
        <List.Item>authenticator apps, security keys and recovery codes are deleted;</List.Item>
        <List.Item>all of their sessions end;</List.Item>
        <List.Item>they set up a new second factor at their next sign-in.</List.Item>
      </List>
      <Text size="sm" c="dimmed">
        To protect against a single compromised administrator account, a second administrator must approve this request.
        Verify the person's identity before asking (for example, a call back to their number on file).
      </Text>
      <Textarea
        label="Reason"
        description="Recorded in the audit log and shown to the approving administrator."
        placeholder="e.g. Lost phone; identity confirmed by a call back to the number on file"
        required
        autosize
        minRows={2}
        maxLength={500}
        value={reason}
        onChange={(e) => setReason(e.currentTarget.value)}
        error={reason.length > 0 && !ok ? `Give a reason of at least ${MIN_REASON} characters.` : undefined}
        data-autofocus
      />
    </ConfirmDialog>
  );
}
