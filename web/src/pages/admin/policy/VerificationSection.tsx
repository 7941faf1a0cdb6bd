/** Caller verification (same policy document): levels, codes, send limits, risk step-up. */
import { Select, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { NumberField, usePolicyForm } from './form';
import { LevelsEditor } from './LevelsEditor';

export function VerificationSection() {
  const f = usePolicyForm();
  const levels = f.get(['verification', 'levels']);
  const names = levels && typeof levels === 'object' ? Object.keys(levels) : [];
  const levelSelect = (path: string, label: string, description: string) => {
    const p = path.split('.');
    const v = f.get(p);
    const data = typeof v === 'string' && v && !names.includes(v) ? [...names, v] : names;
    return (
      <Select
        label={label}
        description={description}
        data={data}
        value={typeof v === 'string' ? v : null}
        onChange={(nv) => nv && f.set(p, nv)}
        allowDeselect={false}
        error={f.errorAt(path)}
        disabled={f.readOnly}
      />
    );
  };
  return (
    <Stack gap="lg">
      <Stack gap={6}>
        <Title order={4}>Verification levels</Title>
        <Text size="sm" c="dimmed">What an agent must see completed before a caller counts as verified. Security questions never satisfy a level on their own.</Text>
        <LevelsEditor />
        <SimpleGrid cols={3} mt="xs">
          {levelSelect('verification.defaultLevel', 'Default level', 'Used when the agent does not choose one.')}
          {levelSelect('verification.risk.highLevel', 'Step-up level', 'Required when the risk score is high.')}
          <NumberField path="verification.risk.stepUpAtScore" label="Step up at risk score" description="0-100; at or above it the step-up level applies." min={0} max={100} />
        </SimpleGrid>
      </Stack>
      <Stack gap={6}>
        <Title order={4}>One-time codes</Title>
        <SimpleGrid cols={3}>
          <NumberField path="verification.code.digits" label="Code length (digits)" min={6} max={10} />
          <NumberField path="verification.code.ttlMinutes" label="Code lifetime (minutes)" min={2} max={10} />
          <NumberField path="verification.code.maxChecks" label="Checks per code" min={1} max={10} />
          <NumberField path="verification.code.sendsPerDestinationPer10Min" label="Codes per destination per 10 minutes" min={1} max={20} />
          <NumberField path="verification.code.resendCooldownSeconds" label="Resend cooldown (seconds)" min={0} max={600} />
          <NumberField path="verification.contactChangeWindowDays" label="Recently changed contacts (days)" description="Contacts changed this recently get no codes and raise the risk." min={0} max={90} />
        </SimpleGrid>
      </Stack>
      <Stack gap={6}>
        <Title order={4}>Limits</Title>
        <SimpleGrid cols={4}>
          <NumberField path="verification.limits.sendsPerAgentPerMinute" label="Codes per agent per minute" min={1} max={1000} />
          <NumberField path="verification.limits.sendsPerTenantPerMinute" label="Codes per tenant per minute" min={1} max={100000} />
          <NumberField path="verification.attempts" label="Failed steps allowed" min={1} max={20} />
          <NumberField path="verification.flowTtlMinutes" label="Verification lifetime (minutes)" min={1} max={60} />
        </SimpleGrid>
      </Stack>
    </Stack>
  );
}
