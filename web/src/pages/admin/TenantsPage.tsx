/** Platform operators: every tenant with its MFA switch; create a tenant; open one to administer it. */
import { Alert, Badge, Button, Card, Code, EmptyState, Group, Skeleton, Stack, Table, Text, TextInput, VisuallyHidden } from '@mantine/core';
import { useEffect, useMemo, useState } from 'react';
import { ErrorAlert } from '../../components/ErrorAlert';
import { PageTitle } from '../../components/PageTitle';
import { navigate } from '../../lib/router';
import { useSession } from '../../lib/session';
import { useTenant } from '../../lib/tenant';
import { formatDate } from './audit/format';
import { readPolicy } from './policy/policy-api';
import { CreateTenantModal } from './tenants/CreateTenantModal';
import { isMfaMode, type MfaMode } from './tenants/mfa-modes';
import { MfaSwitch } from './tenants/MfaSwitch';
import { tenantsChanged, useTenantList, type Tenant } from './tenants/tenant-list';

/** Each tenant's MFA mode (it lives in the tenant's policy document). */
function useMfaModes(tenants: Tenant[] | undefined) {
  const [modes, setModes] = useState<Record<string, MfaMode | 'unknown'>>({});
  const key = tenants?.map((t) => `${t.slug}:${t.policyVersion}`).join(',') ?? '';
  useEffect(() => {
    if (!tenants) return;
    const ctrl = new AbortController();
    void Promise.all(
      tenants.map(async (t) => {
        try {
          const p = await readPolicy(t.slug, ctrl.signal);
          return [t.slug, isMfaMode(p.policy.mfa?.mode) ? p.policy.mfa.mode : 'unknown'] as const;
        } catch {
          return [t.slug, 'unknown'] as const;
        }
      }),
    ).then((pairs) => !ctrl.signal.aborted && setModes(Object.fromEntries(pairs)));
    return () => ctrl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return [modes, setModes] as const;
}

export function TenantsPage() {
  const { isOperator } = useSession();
  const { tenant: current, setTenant } = useTenant();
  const { data: tenants, error, loading } = useTenantList(isOperator);
  const [modes, setModes] = useMfaModes(tenants);
  const [creating, setCreating] = useState(false);
  const [query, setQuery] = useState('');

  const shown = useMemo(() => {
    const q = query.trim().toLowerCase();
    const list = [...(tenants ?? [])].sort((a, b) => Number(b.isPlatform) - Number(a.isPlatform) || a.name.localeCompare(b.name));
    return q ? list.filter((t) => t.slug.includes(q) || t.name.toLowerCase().includes(q)) : list;
  }, [tenants, query]);

  if (!isOperator) {
    return (
      <>
        <PageTitle title="Tenants" />
        <Alert color="gray" title="Platform operators only">Tenants are created and switched by the platform operators. Your administration screens act in your own tenant.</Alert>
      </>
    );
  }

  const open = (t: Tenant) => {
    setTenant(t.slug);
    navigate('/admin/users');
  };

  return (
    <>
      <PageTitle
        title="Tenants"
        description="Each contact center is a tenant with its own users, policy and audit log. Open one to administer it."
        actions={<Button onClick={() => setCreating(true)}>New tenant</Button>}
      />
      <ErrorAlert error={error} title="The tenants could not be loaded" />
      <Card withBorder padding={0} radius="md">
        <Group p="sm" justify="space-between">
          <TextInput aria-label="Search tenants" placeholder="Search by name or slug" value={query} onChange={(e) => setQuery(e.currentTarget.value)} w={320} />
          {tenants && <Text size="sm" c="dimmed">{tenants.length} tenant{tenants.length === 1 ? '' : 's'}</Text>}
        </Group>
        {loading && !tenants ? (
          <SkeletonRows />
        ) : shown.length === 0 ? (
          <EmptyState
            py="xl"
            title={query ? 'No tenant matches your search' : 'No tenants yet'}
            description={query ? 'Try another name or slug.' : 'Create the first contact center to get started.'}
          >
            {!query && <EmptyState.Actions><Button onClick={() => setCreating(true)}>New tenant</Button></EmptyState.Actions>}
          </EmptyState>
        ) : (
          <Table highlightOnHover verticalSpacing="sm" aria-label="Tenants">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Tenant</Table.Th>
                <Table.Th>Slug</Table.Th>
                <Table.Th>MFA</Table.Th>
                <Table.Th>Created</Table.Th>
                <Table.Th><VisuallyHidden>Actions</VisuallyHidden></Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {shown.map((t) => {
                const mode = modes[t.slug];
                return (
                  <Table.Tr key={t.id} data-testid={`tenant-row-${t.slug}`}>
                    <Table.Td>
                      <Group gap={6} wrap="nowrap">
                        <Text fw={600} size="sm">{t.name}</Text>
                        {t.isPlatform && <Badge size="xs" variant="light" color="grape">Platform</Badge>}
                        {t.slug === current && <Badge size="xs" variant="light">Current</Badge>}
                        {t.disabledAt && <Badge size="xs" color="red" variant="light">Disabled</Badge>}
                      </Group>
                    </Table.Td>
                    <Table.Td><Code>{t.slug}</Code></Table.Td>
                    <Table.Td>
                      {mode === 'unknown' ? (
                        <Text size="sm" c="dimmed">Unavailable</Text>
                      ) : (
                        <MfaSwitch tenant={t} mode={mode} onChanged={(m) => { setModes((prev) => ({ ...prev, [t.slug]: m })); tenantsChanged(); }} />
                      )}
                    </Table.Td>
                    <Table.Td><Text size="sm">{formatDate(t.createdAt)}</Text></Table.Td>
                    <Table.Td ta="right">
                      <Button size="xs" variant="light" onClick={() => open(t)} aria-label={`Open ${t.name}`}>Open</Button>
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        )}
      </Card>
      <CreateTenantModal
        opened={creating}
        onClose={() => setCreating(false)}
        onCreated={() => {
          setCreating(false);
          tenantsChanged();
        }}
      />
    </>
  );
}

function SkeletonRows() {
  return (
    <Stack p="sm" gap="sm" aria-label="Loading tenants" role="status">
      {[0, 1, 2, 3].map((i) => <Skeleton key={i} h={36} />)}
    </Stack>
  );
}
