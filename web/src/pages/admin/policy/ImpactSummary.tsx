/** What the policy preview says about people: how many need MFA before and after, and who must enroll. */
import { Alert, Group, List, Paper, Stack, Text } from '@mantine/core';
import type { PolicyPreview } from './policy-api';

const plural = (n: number, one: string, many = one + 's') => `${n} ${n === 1 ? one : many}`;
const SHOWN = 12;

function Figure({ label, value, hint }: { label: string; value: number; hint?: string }) {
  return (
    <Paper withBorder p="sm" radius="md" style={{ flex: 1 }}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={700}>{label}</Text>
      <Text size="xl" fw={700}>{value}</Text>
      {hint && <Text size="xs" c="dimmed">{hint}</Text>}
    </Paper>
  );
}

export function ImpactSummary({ preview }: { preview: PolicyPreview }) {
  const { users, mfaRequiredNow: now, mfaRequiredAfter: after, mustEnroll } = preview;
  const change =
    after > now
      ? `${plural(after - now, 'more user')} will have to use a second factor.`
      : after < now
        ? `${plural(now - after, 'user')} will no longer be required to use a second factor.`
        : 'The number of users who must use a second factor does not change.';
  return (
    <Stack gap="sm" data-testid="policy-impact">
      <Group gap="sm" grow wrap="nowrap">
        <Figure label="Active users" value={users} />
        <Figure label="Need MFA now" value={now} />
        <Figure label="Need MFA after" value={after} />
      </Group>
      <Text size="sm">{change}</Text>
      {mustEnroll.length === 0 ? (
        <Alert color="green" variant="light" title="No one has to enroll">
          Everyone who will need a second factor already has an allowed one.
        </Alert>
      ) : (
        <Alert color="yellow" variant="light" title={`${plural(mustEnroll.length, 'user')} must enroll a second factor`}>
          <Text size="sm" mb={6}>They have no allowed second factor yet and will be asked to enroll one at their next sign-in (after any grace period):</Text>
          <List size="sm" spacing={2} aria-label="Users who must enroll">
            {mustEnroll.slice(0, SHOWN).map((u) => <List.Item key={u.id}>{u.email}</List.Item>)}
          </List>
          {mustEnroll.length > SHOWN && <Text size="sm" mt={4} c="dimmed">and {plural(mustEnroll.length - SHOWN, 'other')}</Text>}
        </Alert>
      )}
    </Stack>
  );
}
