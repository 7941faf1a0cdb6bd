/** /agent/verifications/:id: one caller's verification, live, with the steps, factors, risk and the customer. */
import { Anchor, Card, Grid, Skeleton, Stack } from '@mantine/core';
import { useCallback } from 'react';
import { ErrorAlert } from '../../components/ErrorAlert';
import { PageTitle } from '../../components/PageTitle';
import { CustomerCard } from '../../components/agent/CustomerCard';
import { EndedPanel } from '../../components/agent/EndedPanel';
import { FactorsPanel } from '../../components/agent/FactorsPanel';
import { RiskPanel } from '../../components/agent/RiskPanel';
import { StepsPanel } from '../../components/agent/StepsPanel';
import type { Customer } from '../../components/agent/types';
import { useVerification } from '../../components/agent/useVerification';
import { VerificationHeader } from '../../components/agent/VerificationHeader';
import { VerifiedPanel } from '../../components/agent/VerifiedPanel';
import { api, ApiError, seg } from '../../lib/api';
import { linkClick } from '../../lib/router';
import { useTenant } from '../../lib/tenant';
import { useAsync } from '../../lib/use-async';

export function VerificationPage({ id }: { id: string }) {
  const { tenant } = useTenant();
  const { view, loadError, assertion, mode, apply, refresh, base } = useVerification(tenant, id);
  const customerId = view?.customerId;
  const customer = useAsync<Customer | undefined>((signal) => (customerId ? api.get<Customer>(`/v1/tenants/${seg(tenant)}/customers/${seg(customerId)}`, { signal }) : Promise.resolve(undefined)), [tenant, customerId]);
  const reread = useCallback(() => void refresh().catch(() => undefined), [refresh]);

  if (loadError) {
    const missing = loadError instanceof ApiError && loadError.code === 'not_found';
    return (
      <>
        <PageTitle title="Verification" />
        <ErrorAlert error={missing ? 'This verification does not exist, or it belongs to another tenant.' : loadError} title={missing ? 'Not found' : 'Could not load the verification'} />
        <Anchor href="/agent" onClick={linkClick('/agent')}>Back to caller verification</Anchor>
      </>
    );
  }
  if (!view) {
    return (
      <Stack gap="md" aria-label="Loading the verification">
        <Skeleton h={36} w="45%" />
        <Grid gap="md">
          <Grid.Col span={7}><Card withBorder><Skeleton h={240} /></Card></Grid.Col>
          <Grid.Col span={5}><Card withBorder><Skeleton h={240} /></Card></Grid.Col>
        </Grid>
      </Stack>
    );
  }

  return (
    <>
      <VerificationHeader view={view} customer={customer.data} mode={mode} base={base} onView={apply} onExpired={reread} />
      <Grid gap="md">
        <Grid.Col span={{ base: 12, md: 7 }}>
          <Stack gap="md">
            {view.state === 'pending' ? (
              <StepsPanel key={view.id} view={view} customer={customer.data} base={base} onView={apply} onEnded={reread} />
            ) : view.state === 'verified' ? (
              <VerifiedPanel view={view} assertion={assertion} />
            ) : (
              <EndedPanel view={view} tenant={tenant} />
            )}
            <CustomerCard tenant={tenant} customer={customer.data} loading={customer.loading} error={customer.error} />
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 5 }}>
          <Stack gap="md">
            <FactorsPanel view={view} />
            <RiskPanel risk={view.risk} />
          </Stack>
        </Grid.Col>
      </Grid>
    </>
  );
}
