/** Approval requests: what is asked, by whom and why, how old; decisions for pending ones. */
import { Badge, Button, Stack, Table, Text, Tooltip, VisuallyHidden } from '@mantine/core';
import { dateTime, relativeTime } from '../format';
import type { Approval, ApprovalStatus } from '../types';

const kindLabel: Record<string, string> = { factor_reset: 'Reset sign-in methods' };
export const approvalKind = (k: string) => kindLabel[k] ?? k;

const statusLook: Record<ApprovalStatus, { color: string; label: string }> = {
  pending: { color: 'orange', label: 'Waiting' },
  approved: { color: 'green', label: 'Approved' },
  rejected: { color: 'red', label: 'Rejected' },
  expired: { color: 'gray', label: 'Expired' },
  canceled: { color: 'gray', label: 'Canceled' },
};

export type Decision = 'approve' | 'reject' | 'cancel';

interface Props {
  approvals: Approval[];
  meId: string | undefined;
  canDecide: boolean;
  onDecide(a: Approval, d: Decision): void;
}

function When({ iso }: { iso: string }) {
  return (
    <Tooltip label={dateTime(iso)}>
      <Text size="xs" span>{relativeTime(iso)}</Text>
    </Tooltip>
  );
}

export function ApprovalsTable({ approvals, meId, canDecide, onDecide }: Props) {
  return (
    <Table.ScrollContainer minWidth={900}>
      <Table verticalSpacing="sm" aria-label="Approval requests">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Request</Table.Th>
            <Table.Th>Requested by</Table.Th>
            <Table.Th>Reason</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th><VisuallyHidden>Actions</VisuallyHidden></Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {approvals.map((a) => {
            const mine = a.requestedBy.id === meId;
            const look = statusLook[a.status] ?? { color: 'gray', label: a.status };
            return (
              <Table.Tr key={a.id} data-approval={a.id} aria-label={`${approvalKind(a.kind)} for ${a.target.email}`}>
                <Table.Td>
                  <Stack gap={0}>
                    <Text size="sm" fw={600} style={{ overflowWrap: 'anywhere' }}>{a.target.email}</Text>
                    <Text size="xs" c="dimmed">{approvalKind(a.kind)}</Text>
                  </Stack>
                </Table.Td>
                <Table.Td>
                  <Stack gap={0}>
                    <Text size="sm" style={{ overflowWrap: 'anywhere' }}>{a.requestedBy.email}</Text>
                    <Text size="xs" c="dimmed">
                      {mine ? 'you · ' : ''}
                      <When iso={a.createdAt} />
                    </Text>
                  </Stack>
                </Table.Td>
                <Table.Td miw={200}>
                  <Text size="sm" lineClamp={3} title={a.reason}>{a.reason}</Text>
                </Table.Td>
                <Table.Td>
                  <Stack gap={2}>
                    <Badge color={look.color} variant="light" tt="none" style={{ alignSelf: 'flex-start', overflow: 'visible' }}>{look.label}</Badge>
                    {a.status === 'pending' ? (
                      <Text size="xs" c="dimmed" style={{ whiteSpace: 'nowrap' }}>expires {relativeTime(a.expiresAt)}</Text>
                    ) : a.decidedAt ? (
                      <Text size="xs" c="dimmed">
                        {a.decidedBy ? `by ${a.decidedBy.id === meId ? 'you' : a.decidedBy.email} ` : ''}
                        {relativeTime(a.decidedAt)}
                      </Text>
                    ) : null}
                    {a.decisionReason && <Text size="xs" c="dimmed" lineClamp={2} title={a.decisionReason}>“{a.decisionReason}”</Text>}
                  </Stack>
                </Table.Td>
                <Table.Td ta="right">
                  {a.status !== 'pending' ? null : mine ? (
                    <Stack gap={4} align="flex-end">
                      <Text size="xs" c="dimmed" ta="right" style={{ whiteSpace: 'nowrap' }}>Waiting for another administrator</Text>
                      <Button size="xs" variant="default" onClick={() => onDecide(a, 'cancel')} aria-label={`Cancel request for ${a.target.email}`}>Cancel request</Button>
                    </Stack>
                  ) : a.target.id === meId ? (
                    <Text size="xs" c="dimmed" ta="right">This request is about you;<br />another administrator decides</Text>
                  ) : canDecide ? (
                    <Stack gap={6} align="stretch">
                      <Button size="xs" onClick={() => onDecide(a, 'approve')} aria-label={`Approve request for ${a.target.email}`}>Approve</Button>
                      <Button size="xs" variant="default" color="red" onClick={() => onDecide(a, 'reject')} aria-label={`Reject request for ${a.target.email}`}>Reject</Button>
                    </Stack>
                  ) : null}
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
