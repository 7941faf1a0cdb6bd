/** Sessions, re-authentication freshness, lockout and PCI DSS mode. */
import { Alert, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { NumberField, SwitchField, usePolicyForm } from './form';

export function SessionSection() {
  const f = usePolicyForm();
  const pci = f.get(['pciMode']) === true;
  return (
    <Stack gap="lg">
      <Stack gap={6}>
        <Title order={4}>Sessions</Title>
        <SimpleGrid cols={3}>
          <NumberField path="session.idleMinutes" label="Idle timeout (minutes)" description="Signed out after this long without activity." min={1} max={10080} />
          <NumberField path="session.absoluteMinutes" label="Session lifetime (minutes)" description="Sign in again after this long, whatever the activity." min={5} max={43200} />
          <NumberField path="session.reauthMinutes" label="Re-authentication freshness (minutes)" description="Changing sign-in methods needs a sign-in newer than this." min={1} max={1440} />
        </SimpleGrid>
      </Stack>
      <Stack gap={6}>
        <Title order={4}>Lockout</Title>
        <Text size="sm" c="dimmed">After a few failures each attempt must wait, doubling up to the longest wait; after many in a row the factor is disabled until an administrator unlocks it.</Text>
        <SimpleGrid cols={4}>
          <NumberField path="lockout.backoffAfter" label="Slow down after (failures)" min={1} max={100} />
          <NumberField path="lockout.backoffBaseSeconds" label="First wait (seconds)" min={0} max={3600} />
          <NumberField path="lockout.backoffMaxSeconds" label="Longest wait (seconds)" min={0} max={86400} />
          <NumberField path="lockout.maxConsecutiveFailures" label="Disable a factor after (failures)" min={3} max={100} />
        </SimpleGrid>
      </Stack>
      <Stack gap={6}>
        <Title order={4}>Compliance</Title>
        <SwitchField
          path="pciMode"
          label="PCI DSS mode"
          description="Locks for 30 minutes after 10 failures, requires passwords of 12+ characters with letters and digits, refuses the last 4 passwords, and caps the idle timeout at 15 minutes."
        />
        {pci && typeof f.get(['session', 'idleMinutes']) === 'number' && (f.get(['session', 'idleMinutes']) as number) > 15 && (
          <Alert color="blue" variant="light">In PCI DSS mode sessions end after 15 idle minutes, whatever the idle timeout above says.</Alert>
        )}
      </Stack>
    </Stack>
  );
}
