/** A small "are you sure" dialog with a clearly named confirming button. */
import { Button, Group, Modal, Stack, Text } from '@mantine/core';
import type { ReactNode } from 'react';

export function ConfirmDialog({ opened, title, children, confirmLabel, danger, busy, onConfirm, onCancel }: {
  opened: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  onConfirm(): void;
  onCancel(): void;
}) {
  return (
    <Modal opened={opened} onClose={onCancel} title={<Text fw={700} size="lg">{title}</Text>} centered size="md">
      <Stack gap="lg">
        <Text size="sm" component="div">{children}</Text>
        <Group justify="flex-end" gap="sm">
          <Button variant="default" onClick={onCancel} data-autofocus>Cancel</Button>
          <Button color={danger ? 'red' : undefined} loading={busy} onClick={onConfirm}>{confirmLabel}</Button>
        </Group>
      </Stack>
    </Modal>
  );
}
