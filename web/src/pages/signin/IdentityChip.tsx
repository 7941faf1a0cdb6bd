/** Who is signing in, with a way back to the first step. */
import { Button, Group, Paper, Text } from '@mantine/core';

export function IdentityChip({ email, tenant, onChange }: { email: string; tenant: string; onChange(): void }) {
  return (
    <Paper withBorder radius="xl" px="md" py={6} mb="lg" bg="gray.0">
      <Group justify="space-between" wrap="nowrap" gap="xs">
        <Text size="sm" truncate="end" style={{ minWidth: 0 }}>
          <Text span fw={600}>{email}</Text>
          <Text span c="dimmed"> · {tenant}</Text>
        </Text>
        <Button variant="subtle" size="compact-sm" onClick={onChange} aria-label="Use a different account" style={{ flexShrink: 0 }}>Change</Button>
      </Group>
    </Paper>
  );
}
