/** /agent: find the caller, start a verification on the call, or open one the IVR started. */
import { Grid, Stack } from '@mantine/core';
import { useState } from 'react';
import { PageTitle } from '../../components/PageTitle';
import { CustomerSearch } from '../../components/agent/CustomerSearch';
import { OpenCallCard } from '../../components/agent/OpenCallCard';
import { StartVerificationCard } from '../../components/agent/StartVerificationCard';
import type { CustomerSummary } from '../../components/agent/types';
import { useTenant } from '../../lib/tenant';

export function AgentDesktop() {
  const { tenant } = useTenant();
  const [selected, setSelected] = useState<CustomerSummary>();
  return (
    <>
      <PageTitle title="Caller verification" description="Find the caller, then verify them with a code sent to a contact on file, their PIN or security questions." />
      <Grid gap="md">
        <Grid.Col span={{ base: 12, md: 8 }}>
          <Stack gap="md">
            <CustomerSearch tenant={tenant} selected={selected?.id} onSelect={setSelected} />
            <OpenCallCard tenant={tenant} />
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 4 }}>
          <StartVerificationCard tenant={tenant} customer={selected} />
        </Grid.Col>
      </Grid>
    </>
  );
}
