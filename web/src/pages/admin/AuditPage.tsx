/**
 * The tenant's audit log: filter, page back in time, open an event, export the filtered events as
 * JSON lines, and see whether the hash chain still verifies.
 */
import { Button, Card, Center, EmptyState, Group, Skeleton, Stack, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMemo, useState } from 'react';
import { ErrorAlert } from '../../components/ErrorAlert';
import { PageTitle } from '../../components/PageTitle';
import { api, seg } from '../../lib/api';
import { errorWords } from '../../lib/errors';
import { useSession } from '../../lib/session';
import { useTenant } from '../../lib/tenant';
import { useAsync } from '../../lib/use-async';
import { downloadExport, noFilters, verifyChain, type AuditEvent, type AuditFilters, type AuditPage as Page } from './audit/audit-api';
import { ChainStatusCard } from './audit/ChainStatusCard';
import { useDirectory } from './audit/directory';
import { EventDrawer } from './audit/EventDrawer';
import { EventsTable } from './audit/EventsTable';
import { FiltersBar } from './audit/FiltersBar';
import { useAuditLog } from './audit/use-audit-log';

export function AuditPage() {
  const { tenant } = useTenant();
  const { can } = useSession();
  const [filters, setFilters] = useState<AuditFilters>(noFilters);
  const log = useAuditLog(tenant, filters);
  const dir = useDirectory(tenant);
  const [open, setOpen] = useState<AuditEvent | null>(null);
  const [exporting, setExporting] = useState(false);
  const [verifyGen, setVerifyGen] = useState(0);
  const chain = useAsync(async (signal) => ({ report: await verifyChain(tenant, signal), at: new Date().toISOString() }), [tenant, verifyGen]);
  const seenTypes = useMemo(() => [...new Set((log.events ?? []).map((e) => e.type))], [log.events]);
  const filtered = JSON.stringify(filters) !== JSON.stringify(noFilters);

  const exportNow = async () => {
    setExporting(true);
    try {
      const n = await downloadExport(tenant, filters);
      notifications.show({ color: 'green', title: 'Export ready', message: `${n} event${n === 1 ? '' : 's'} downloaded as JSON lines${filtered ? ' (filters applied)' : ''}.` });
    } catch (e) {
      notifications.show({ color: 'red', title: 'The export did not work', message: errorWords(e) });
    } finally {
      setExporting(false);
    }
  };

  const showEvent = async (id: number) => {
    const loaded = log.events?.find((e) => e.id === id);
    if (loaded) return setOpen(loaded);
    try {
      const p = await api.get<Page>(`/v1/tenants/${seg(tenant)}/audit?limit=1&before=${id + 1}`);
      const e = p.events[0];
      if (e && e.id === id) setOpen(e);
      else notifications.show({ color: 'orange', title: 'Event not found', message: `Event #${id} is no longer in the log.` });
    } catch (e) {
      notifications.show({ color: 'red', title: 'The event could not be loaded', message: errorWords(e) });
    }
  };

  return (
    <>
      <PageTitle
        title="Audit log"
        description={<>Every security-relevant action in <b>{tenant}</b>, newest first, sealed into a tamper-evident hash chain.</>}
        actions={
          <>
            <Button variant="default" onClick={() => { log.refresh(); setVerifyGen((g) => g + 1); }} loading={log.loading && !!log.events}>Refresh</Button>
            {can('audit.export') && <Button onClick={() => void exportNow()} loading={exporting}>{filtered ? 'Export filtered events' : 'Export'}</Button>}
          </>
        }
      />
      <ChainStatusCard
        report={chain.data?.report}
        error={chain.error}
        loading={chain.loading}
        checkedAt={chain.data?.at ?? null}
        onCheck={() => setVerifyGen((g) => g + 1)}
        onShowEvent={(id) => void showEvent(id)}
      />
      <Card withBorder radius="md" padding={0}>
        <Stack p="sm" gap="xs">
          <FiltersBar value={filters} onChange={setFilters} people={dir.people} meId={dir.meId} seenTypes={seenTypes} />
        </Stack>
        <ErrorAlert error={log.error} title="The audit log could not be loaded" />
        {!log.events && log.loading ? (
          <Stack p="sm" gap="xs" role="status" aria-label="Loading events">
            {Array.from({ length: 6 }, (_, i) => <Skeleton key={i} h={30} />)}
          </Stack>
        ) : log.events && log.events.length === 0 ? (
          <EmptyState py="xl" title={filtered ? 'No events match these filters' : 'No events yet'} description={filtered ? 'Try another event type, person or range of days.' : 'Sign-ins, changes and verifications will appear here.'}>
            {filtered && <EmptyState.Actions><Button variant="light" onClick={() => setFilters(noFilters)}>Clear filters</Button></EmptyState.Actions>}
          </EmptyState>
        ) : log.events ? (
          <div style={{ opacity: log.loading ? 0.6 : 1, transition: 'opacity 120ms' }} aria-busy={log.loading}>
            <EventsTable events={log.events} byId={dir.byId} onOpen={setOpen} />
            <Group justify="space-between" p="sm">
              <Text size="sm" c="dimmed" data-testid="audit-count">
                {log.events.length} event{log.events.length === 1 ? '' : 's'} shown{log.hasMore ? '; older events are available' : ''}
              </Text>
              {log.hasMore && <Button variant="default" onClick={() => void log.loadMore()} loading={log.loadingMore}>Load older events</Button>}
            </Group>
          </div>
        ) : (
          <Center p="lg"><Text size="sm" c="dimmed">No events to show.</Text></Center>
        )}
      </Card>
      <EventDrawer event={open} onClose={() => setOpen(null)} byId={dir.byId} meId={dir.meId} />
    </>
  );
}
