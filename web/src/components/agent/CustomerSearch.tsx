/** Finds a customer by an exact key (account number, phone, email or CRM id); results are masked. */
import { Badge, Box, Button, Card, EmptyState, Group, NativeSelect, Skeleton, Stack, Table, Text, TextInput, Title, VisuallyHidden } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { ErrorAlert } from '../ErrorAlert';
import { api, seg } from '../../lib/api';
import type { CustomerSummary } from './types';

const keys = [
  { value: 'any', label: 'Any key' },
  { value: 'accountNumber', label: 'Account number' },
  { value: 'phone', label: 'Phone' },
  { value: 'email', label: 'Email' },
  { value: 'externalId', label: 'CRM id' },
];

export function CustomerSearch({ tenant, selected, onSelect }: { tenant: string; selected?: string | null; onSelect(c: CustomerSummary | undefined): void }) {
  const [q, setQ] = useState('');
  const [by, setBy] = useState('any');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [results, setResults] = useState<CustomerSummary[]>();
  const [asked, setAsked] = useState('');

  const search = async (e: FormEvent) => {
    e.preventDefault();
    const query = q.trim();
    if (!query) {
      setError('Type an account number, phone number, email address or CRM id.');
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const params = new URLSearchParams({ q: query, by, limit: '20' });
      const r = await api.get<{ customers: CustomerSummary[] }>(`/v1/tenants/${seg(tenant)}/customers?${params}`);
      setResults(r.customers);
      setAsked(query);
      const usable = r.customers.filter((c) => c.id);
      onSelect(usable.length === 1 ? usable[0] : undefined);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card withBorder padding="md">
      <Title order={3} size="h4" mb={4}>Find the caller</Title>
      <Text size="sm" c="dimmed" mb="sm">Exact match on an account number, phone number, email address or CRM id. Names are not searchable.</Text>
      <form onSubmit={search} aria-label="Find a customer">
        <Group align="flex-end" gap="sm" wrap="nowrap">
          <NativeSelect label="Search by" data={keys} value={by} onChange={(e) => setBy(e.currentTarget.value)} w={160} />
          <TextInput
            label="Customer key"
            placeholder="77001234, +1 415 555 0134, dana@example.com"
            value={q}
            onChange={(e) => setQ(e.currentTarget.value)}
            autoComplete="off"
            spellCheck={false}
            autoFocus
            style={{ flex: 1 }}
          />
          <Button type="submit" loading={busy}>Search</Button>
        </Group>
      </form>
      <Box mt="md">
        <ErrorAlert error={error} title="Search did not work" />
        {busy && !results ? (
          <Stack gap="xs" aria-label="Searching">
            <Skeleton h={28} />
            <Skeleton h={28} />
          </Stack>
        ) : results === undefined ? (
          <EmptyState size="sm" title="No search yet" description="Ask the caller for their account number, or search by the number they are calling from." />
        ) : results.length === 0 ? (
          <EmptyState size="sm" title="No customer found" description={`Nothing matches “${asked}”. The search is exact: check the digits or the address, or try another key.`} />
        ) : (
          <ResultsTable results={results} selected={selected} onSelect={onSelect} />
        )}
      </Box>
    </Card>
  );
}

function ResultsTable({ results, selected, onSelect }: { results: CustomerSummary[]; selected?: string | null; onSelect(c: CustomerSummary): void }) {
  return (
    <Table.ScrollContainer minWidth={0} maxHeight={300}>
      <Table highlightOnHover verticalSpacing="xs" aria-label="Matching customers" data-testid="customer-results">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Name</Table.Th>
            <Table.Th>Account</Table.Th>
            <Table.Th>CRM id</Table.Th>
            <Table.Th>Contacts on file</Table.Th>
            <Table.Th><VisuallyHidden>Action</VisuallyHidden></Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {results.map((c, i) => {
            const isSel = !!c.id && c.id === selected;
            return (
              <Table.Tr key={c.id ?? `crm-${i}`} bg={isSel ? 'var(--mantine-color-indigo-light)' : undefined} aria-selected={isSel}>
                <Table.Td fw={600}>{c.name}</Table.Td>
                <Table.Td>{c.accountNumber ?? <Text span c="dimmed" size="sm">—</Text>}</Table.Td>
                <Table.Td>{c.externalId ?? <Text span c="dimmed" size="sm">—</Text>}</Table.Td>
                <Table.Td>
                  <Stack gap={2}>
                    {c.contacts.length === 0 && <Text size="sm" c="dimmed">None</Text>}
                    {c.contacts.map((k) => (
                      <Text key={k.id} size="sm" ff="monospace">
                        {k.value} {k.label && <Text span size="xs" c="dimmed" ff="body">{k.label}</Text>}
                      </Text>
                    ))}
                  </Stack>
                </Table.Td>
                <Table.Td ta="right">
                  {c.id ? (
                    <Button size="xs" variant={isSel ? 'filled' : 'light'} onClick={() => onSelect(c)} aria-label={`Select ${c.name}`} aria-pressed={isSel}>
                      {isSel ? 'Selected' : 'Select'}
                    </Button>
                  ) : (
                    <Badge color="gray" variant="light" title="This CRM record must be imported before it can be verified">Not imported</Badge>
                  )}
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
