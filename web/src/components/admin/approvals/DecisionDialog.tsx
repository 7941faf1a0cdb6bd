/** Confirms approving, rejecting or canceling an approval request, saying what each does. */
import { Blockquote, List, Text, Textarea } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useEffect, useState } from 'react';
import { approvalsApi } from '../admin-api';
import { ConfirmDialog } from '../ConfirmDialog';
import type { Approval } from '../types';
import type { Decision } from './ApprovalsTable';

interface Props {
  tenant: string;
  pending: { approval: Approval; decision: Decision } | null;
  onClose(): void;
  onDone(): void;
}

export function DecisionDialog({ tenant, pending, onClose, onDone }: Props) {
  const [reason, setReason] = useState('');
  useEffect(() => setReason(''), [pending]);
  const a = pending?.approval;
  const d = pending?.decision;
  const who = a?.target.email ?? '';
  const titles: Record<Decision, string> = {
    approve: `Approve the factor reset for ${who}?`,
    reject: `Reject the factor reset for ${who}?`,
    cancel: 'Cancel your request?',
  };
  const labels: Record<Decision, string> = { approve: 'Approve and reset', reject: 'Reject request', cancel: 'Cancel request' };
  return (
    <ConfirmDialog
      opened={!!pending}
      title={d ? titles[d] : ''}
      confirmLabel={d ? labels[d] : ''}
      color={d === 'approve' ? 'orange' : d === 'reject' ? 'red' : 'gray'}
      onClose={onClose}
      onConfirm={async () => {
        if (!a || !d) return;
        if (d === 'approve') await approvalsApi.approve(tenant, a.id);
        else if (d === 'reject') await approvalsApi.reject(tenant, a.id, reason.trim() || undefined);
        else await approvalsApi.cancel(tenant, a.id);
        const msg: Record<Decision, string> = {
          approve: `Every sign-in method of ${who} was removed; they set up a new one at their next sign-in.`,
          reject: `The factor reset for ${who} was rejected.`,
          cancel: `Your request for ${who} was canceled.`,
        };
        notifications.show({ color: d === 'approve' ? 'green' : 'gray', title: d === 'approve' ? 'Factor reset approved' : 'Request closed', message: msg[d] });
        onDone();
      }}
    >
      {a && (
        <>
          <Text size="sm">
            Requested by <strong>{a.requestedBy.email}</strong> with this reason:
          </Text>
          <Blockquote p="sm" color="gray" fz="sm">{a.reason}</Blockquote>
        </>
      )}
      {d === 'approve' && (
        <>
          <Text size="sm">Approving takes effect at once:</Text>
          <List size="sm" spacing={2}>
            <List.Item>every authenticator app, security key and recovery code of {who} is removed;</List.Item>
            <List.Item>all of their sessions end;</List.Item>
            <List.Item>they set up a new second factor at their next sign-in.</List.Item>
          </List>
          <Text size="sm" c="dimmed">Approve only if you are satisfied the request is genuine, for example after confirming it with the requester.</Text>
        </>
      )}
      {d === 'reject' && (
        <Textarea label="Reason for rejecting (optional)" description="Recorded in the audit log." autosize minRows={2} maxLength={500} value={reason} onChange={(e) => setReason(e.currentTarget.value)} data-autofocus />
      )}
      {d === 'cancel' && <Text size="sm">Nothing changes for {who}. You can ask again later from the Users screen.</Text>}
    </ConfirmDialog>
  );
}
