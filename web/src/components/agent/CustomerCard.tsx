/**
 * The customer on the call, masked. Holders of customers.reveal can reveal one field at a time with a
 * stated reason (audited); the value is shown for REVEAL_SECONDS and then masked again.
 */
import { Badge, Button, Card, DataList, Group, Skeleton, Stack, Text, Title } from '@mantine/core';
import { useEffect, useState, type ReactNode } from 'react';
import { ErrorAlert } from '../ErrorAlert';
import { useSession } from '../../lib/session';
import { RevealModal, type RevealTarget } from './RevealModal';
import type { Customer } from './types';
import { secondsUntil, useNow } from './useNow';

export const REVEAL_SECONDS = 30;

const keyOf = (t: RevealTarget) => (t.field === 'contact' ? `contact:${t.contactId}` : t.field);

export function CustomerCard({ tenant, customer, loading, error }: { tenant: string; customer?: Customer; loading: boolean; error: unknown }) {
  const { can } = useSession();
  const mayReveal = can('customers.reveal');
  const [target, setTarget] = useState<RevealTarget>();
  const [revealed, setRevealed] = useState<Record<string, { value: string; until: string }>>({});
  const now = useNow(1000);

  useEffect(() => {
    const live = Object.entries(revealed).filter(([, r]) => secondsUntil(r.until, now) > 0);
    if (live.length !== Object.keys(revealed).length) setRevealed(Object.fromEntries(live));
  }, [now, revealed]);

  if (error) return <Card withBorder padding="md"><ErrorAlert error={error} title="Customer not loaded" /></Card>;
  if (loading || !customer) {
    return (
      <Card withBorder padding="md" aria-label="Loading the customer">
        <Skeleton h={20} w="40%" mb="sm" />
        <Stack gap={8}>{[1, 2, 3, 4].map((i) => <Skeleton key={i} h={16} />)}</Stack>
      </Card>
    );
  }

  const field = (t: RevealTarget, masked: string) => {
    const r = revealed[keyOf(t)];
    const left = r ? secondsUntil(r.until, now) : 0;
    if (r && left > 0) {
      return (
        <Group gap="xs" wrap="nowrap">
          <Text span ff="monospace" size="sm" fw={700} data-testid={`revealed-${keyOf(t)}`}>{r.value}</Text>
          <Badge size="sm" variant="light" color="yellow" tt="none">hidden in {left} s</Badge>
          <Button size="compact-xs" variant="subtle" onClick={() => setRevealed(({ [keyOf(t)]: _, ...rest }) => rest)}>Hide</Button>
        </Group>
      );
    }
    return (
      <Group gap="xs" wrap="nowrap">
        <Text span ff="monospace" size="sm">{masked}</Text>
        {mayReveal && <Button size="compact-xs" variant="subtle" color="yellow.8" onClick={() => setTarget(t)} aria-label={`Reveal ${t.name}`}>Reveal</Button>}
      </Group>
    );
  };

  const row = (label: string, value: ReactNode) => (
    <DataList.Item>
      <DataList.ItemLabel>{label}</DataList.ItemLabel>
      <DataList.ItemValue>{value}</DataList.ItemValue>
    </DataList.Item>
  );
  const none = <Text span size="sm" c="dimmed">Not on file</Text>;

  return (
    <Card withBorder padding="md" component="section" aria-labelledby="customer-heading">
      <Group justify="space-between" mb="xs" wrap="nowrap">
        <Title order={3} size="h4" id="customer-heading">Customer</Title>
        {mayReveal && <Text size="xs" c="dimmed">Reveals are audited</Text>}
      </Group>
      <DataList size="sm" labelWidth={130} gap={6} aria-label="Customer details">
        {row('Name', <Text span size="sm" fw={600}>{customer.name}</Text>)}
        {row('Account', customer.accountNumber ?? none)}
        {row('CRM id', customer.externalId ?? none)}
        {row('National ID', customer.nationalId ? field({ field: 'nationalId', name: 'national ID' }, customer.nationalId) : none)}
        {row('Date of birth', customer.dateOfBirth ? field({ field: 'dateOfBirth', name: 'date of birth' }, customer.dateOfBirth) : none)}
        {row('Card', customer.cardLast4 ? <Text span size="sm"><Text span ff="monospace">{customer.cardLast4}</Text> <Text span c="dimmed" size="xs">last four never shown</Text></Text> : none)}
        {row(
          'Contacts',
          customer.contacts.length === 0 ? none : (
            <Stack gap={4}>
              {customer.contacts.map((c) => (
                <div key={c.id}>
                  {field({ field: 'contact', contactId: c.id, name: c.value }, c.value)}
                  <Text size="xs" c="dimmed">
                    {c.kind === 'phone' ? 'Phone' : 'Email'}{c.label ? ` · ${c.label}` : ''}{c.verifiedAt ? ' · verified' : ''} · changed {new Date(c.changedAt).toLocaleDateString()}
                  </Text>
                </div>
              ))}
            </Stack>
          ),
        )}
        {row(
          'Set up',
          <Group gap={6}>
            <Badge variant="light" color={customer.pinSet ? 'green' : 'gray'} tt="none">{customer.pinSet ? 'PIN set' : 'No PIN'}</Badge>
            <Badge variant="light" color={customer.questions.length ? 'green' : 'gray'} tt="none">{customer.questions.length} question{customer.questions.length === 1 ? '' : 's'}</Badge>
            <Badge variant="light" color={customer.totpSet ? 'green' : 'gray'} tt="none">{customer.totpSet ? 'Authenticator app' : 'No authenticator app'}</Badge>
          </Group>,
        )}
      </DataList>
      <RevealModal
        tenant={tenant}
        customerId={customer.id}
        target={target}
        onClose={() => setTarget(undefined)}
        onRevealed={(t, value) => setRevealed((r) => ({ ...r, [keyOf(t)]: { value, until: new Date(Date.now() + REVEAL_SECONDS * 1000).toISOString() } }))}
      />
    </Card>
  );
}
