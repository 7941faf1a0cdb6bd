/** The confirmation step: what changes, and who it affects (from the server's preview), then save. */
import { Button, Group, Modal, ScrollArea, Skeleton, Stack, Table, Text, Title } from '@mantine/core';
import { ErrorAlert } from '../../../components/ErrorAlert';
import { ImpactSummary } from './ImpactSummary';
import type { PolicyPreview } from './policy-api';
import { labelFor, valueWords } from './words';

export interface Change {
  path: string;
  from: unknown;
  to: unknown;
}

export function ReviewModal(p: {
  opened: boolean;
  tenantName: string;
  changes: Change[];
  preview: PolicyPreview | undefined;
  error: unknown;
  saving: boolean;
  conflict: boolean;
  onClose(): void;
  onSave(): void;
  onReload(): void;
}) {
  return (
    <Modal opened={p.opened} onClose={() => !p.saving && p.onClose()} title={`Review the policy change for ${p.tenantName}`} size="xl" centered>
      <Stack gap="md">
        <ErrorAlert error={p.error} title="The policy was not saved" />
        <Stack gap={6}>
          <Title order={5}>What changes</Title>
          <ScrollArea.Autosize mah={200}>
            <Table verticalSpacing={4} aria-label="Changed settings" withTableBorder>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Setting</Table.Th>
                  <Table.Th>Now</Table.Th>
                  <Table.Th>After saving</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {p.changes.map((c) => (
                  <Table.Tr key={c.path}>
                    <Table.Td><Text size="sm" fw={500}>{labelFor(c.path)}</Text></Table.Td>
                    <Table.Td><Text size="sm" c="dimmed">{valueWords(c.path, c.from)}</Text></Table.Td>
                    <Table.Td><Text size="sm">{valueWords(c.path, c.to)}</Text></Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollArea.Autosize>
        </Stack>
        <Stack gap={6}>
          <Title order={5}>Who it affects</Title>
          {p.preview ? <ImpactSummary preview={p.preview} /> : <Skeleton h={150} aria-label="Working out who this affects" />}
        </Stack>
        <Group justify="flex-end">
          <Button variant="default" onClick={p.onClose} disabled={p.saving}>Keep editing</Button>
          {p.conflict ? (
            <Button color="orange" onClick={p.onReload}>Load the latest policy</Button>
          ) : (
            <Button onClick={p.onSave} loading={p.saving} disabled={!p.preview}>Save policy</Button>
          )}
        </Group>
      </Stack>
    </Modal>
  );
}
