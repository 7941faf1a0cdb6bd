/** A confirmation modal for consequential actions: states what happens, shows progress and errors in words. */
import { Button, Group, Modal, Stack } from '@mantine/core';
import { useEffect, useState, type ReactNode } from 'react';
import { ErrorAlert } from '../ErrorAlert';

export interface ConfirmDialogProps {
  opened: boolean;
  title: string;
  confirmLabel: string;
  color?: string;
  /** Disables the confirm button (e.g. until a required field is filled). */
  confirmDisabled?: boolean;
  onConfirm(): Promise<void>;
  onClose(): void;
  children: ReactNode;
}

export function ConfirmDialog({ opened, title, confirmLabel, color, confirmDisabled, onConfirm, onClose, children }: ConfirmDialogProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (opened) setError(null);
  }, [opened]);
  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal opened={opened} onClose={() => !busy && onClose()} title={title} centered size="md">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!confirmDisabled) void confirm();
        }}
      >
        <Stack gap="sm">
          {children}
          <ErrorAlert error={error} />
          <Group justify="flex-end" gap="xs">
            <Button variant="default" onClick={onClose} disabled={busy}>Cancel</Button>
            <Button type="submit" color={color} loading={busy} disabled={confirmDisabled}>{confirmLabel}</Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
