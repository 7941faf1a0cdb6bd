/** Two-person approvals: requests one administrator made (factor resets) that another must decide. */
import { Alert, Button, Group, Paper, SegmentedControl, Text } from '@mantine/core';
import { useEffect, useState } from 'react';
import { approvalsApi } from '../../components/admin/admin-api';
import { ApprovalsTable, type Decision } from '../../components/admin/approvals/ApprovalsTable';
import { DecisionDialog } from '../../components/admin/approvals/DecisionDialog';
import { Empty, TableSkeleton } from '../../components/admin/EmptyRows';
import type { Approval } from '../../components/admin/types';
import { ErrorAlert } from '../../components/ErrorAlert';
import { PageTitle } from '../../components/PageTitle';
import { useSession } from '../../lib/session';
import { useTenant } from '../../lib/tenant';
import { useAsync } from '../../lib/use-async';

const REFRESH_MS = 30_000;

export function ApprovalsPage() {
  const { me, can } = useSession();
  const { tenant } = useTenant();
  const [view, setView] = useState<'pending' | 'all'>('pending');
  const list = useAsync((signal) => approvalsApi.list(tenant, view, signal).then((r) => r.approvals), [tenant, view]);
  const [deciding, setDeciding] = useState<{ approval: Approval; decision: Decision } | null>(null);
  const { reload } = list;

  // requests come from other administrators: keep the list current while the screen is open
  useEffect(() => {
    const id = setInterval(() => {
      if (document.visibilityState === 'visible') void reload();
    }, REFRESH_MS);
    return () => clearInterval(id);
  }, [reload]);

  const canDecide = can('users.factors.reset');
  if (!canDecide) {
    return (
      <>
        <PageTitle title="Approvals" />
        <Alert color="gray" variant="light" title="No access">Your role does not include approving factor resets.</Alert>
      </>
    );
  }

  const items = list.data;
  const waitingForOthers = items?.filter((a) => a.status === 'pending' && a.requestedBy.id !== me?.userId).length ?? 0;
  return (
    <>
      <PageTitle
        title="Approvals"
        description="Resetting someone's sign-in methods takes two administrators: one asks with a reason, another approves. Requests expire if nobody decides."
        actions={<Button variant="default" onClick={() => void reload()} loading={list.loading && !!items}>Refresh</Button>}
      />
      <Paper withBorder radius="md" p="md">
        <Group justify="space-between" mb="sm">
          <SegmentedControl
            aria-label="Which requests"
            value={view}
            onChange={(v) => setView(v as 'pending' | 'all')}
            data={[
              { value: 'pending', label: 'Waiting for a decision' },
              { value: 'all', label: 'History' },
            ]}
          />
          {view === 'pending' && items && (
            <Text size="sm" c="dimmed" role="status">
              {waitingForOthers === 0 ? 'Nothing needs your decision.' : `${waitingForOthers} request${waitingForOthers === 1 ? '' : 's'} need${waitingForOthers === 1 ? 's' : ''} your decision.`}
            </Text>
          )}
        </Group>
        {list.error && !items ? (
          <ErrorAlert error={list.error} title="Could not load approval requests" />
        ) : !items || (list.loading && items.length === 0) ? (
          <TableSkeleton label="Loading approval requests" rows={3} />
        ) : items.length === 0 ? (
          <Empty
            title={view === 'pending' ? 'No requests are waiting' : 'No requests yet'}
            description={view === 'pending' ? 'Factor resets requested from the Users screen appear here for a second administrator.' : 'Approved, rejected, expired and canceled requests appear here.'}
            icon="✓"
          />
        ) : (
          <ApprovalsTable approvals={items} meId={me?.userId} canDecide={canDecide} onDecide={(approval, decision) => setDeciding({ approval, decision })} />
        )}
      </Paper>
      <DecisionDialog
        tenant={tenant}
        pending={deciding}
        onClose={() => setDeciding(null)}
        onDone={() => {
          setDeciding(null);
          void reload();
        }}
      />
    </>
  );
}
