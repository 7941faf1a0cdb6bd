/** Asks for the reason before one masked field is revealed; the reveal is audited with it. */
import { Alert, Button, Chip, Group, Modal, Stack, Text, Textarea } from '@mantine/core';
import { useEffect, useState, type FormEvent } from 'react';
import { ErrorAlert } from '../ErrorAlert';
import { api, seg } from '../../lib/api';

export interface RevealTarget {
  field: 'nationalId' | 'dateOfBirth' | 'contact';
  contactId?: string;
  /** What the agent sees in the title: "national ID", "d•••@example.com". */
  name: string;
}

const presets = ['Caller asked to confirm the value on file', 'Correcting the customer record', 'Fraud investigation'];

export function RevealModal({ tenant, customerId, target, onClose, onRevealed }: { tenant: string; customerId: string; target?: RevealTarget; onClose(): void; onRevealed(t: RevealTarget, value: string): void }) {
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [missing, setMissing] = useState(false);
  useEffect(() => {
    setReason('');
    setError(undefined);
    setMissing(false);
  }, [target]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!target) return;
    if (!reason.trim()) {
      setMissing(true);
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const r = await api.post<{ field: string; value: string }>(`/v1/tenants/${seg(tenant)}/customers/${seg(customerId)}/reveal`, {
        field: target.field,
        ...(target.contactId ? { contactId: target.contactId } : {}),
        reason: reason.trim(),
      });
      onRevealed(target, r.value);
      onClose();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal opened={!!target} onClose={onClose} title={target ? `Reveal ${target.name}` : ''} centered size="md">
      <form onSubmit={submit}>
        <Stack gap="sm">
          <Alert color="yellow" variant="light" title="This reveal is audited">
            Your name, the field and your reason are written to the audit log. The value is shown for 30 seconds, then masked again.
          </Alert>
          <Textarea
            label="Reason"
            description="Why you need to see it. Required."
            value={reason}
            onChange={(e) => {
              setReason(e.currentTarget.value);
              setMissing(false);
            }}
            error={missing ? 'State a reason for the audit log.' : undefined}
            autosize
            minRows={2}
            maxLength={500}
            data-autofocus
            withAsterisk
          />
          <div>
            <Text size="xs" c="dimmed" mb={4}>Common reasons</Text>
            <Group gap={6}>
              {presets.map((p) => (
                <Chip key={p} size="xs" checked={reason === p} onChange={() => { setReason(p); setMissing(false); }} variant="outline">{p}</Chip>
              ))}
            </Group>
          </div>
          <ErrorAlert error={error} title="Not revealed" />
          <Group justify="flex-end" gap="sm">
            <Button variant="default" onClick={onClose}>Cancel</Button>
            <Button type="submit" color="yellow" autoContrast loading={busy}>Reveal</Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
