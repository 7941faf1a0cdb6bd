/** Opens the latest verification of a call, for example one the IVR started or completed before transferring. */
import { Button, Card, Group, Text, TextInput, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { ErrorAlert } from '../ErrorAlert';
import { api, ApiError, seg } from '../../lib/api';
import { navigate } from '../../lib/router';
import type { VerificationView } from './types';

export function OpenCallCard({ tenant }: { tenant: string }) {
  const [callId, setCallId] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();

  const open = async (e: FormEvent) => {
    e.preventDefault();
    const id = callId.trim();
    if (!id) {
      setError('Type the call id shown by the phone system.');
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const v = await api.get<VerificationView>(`/v1/tenants/${seg(tenant)}/interactions/${seg(id)}/verification`);
      navigate(`/agent/verifications/${encodeURIComponent(v.id)}`);
    } catch (err) {
      setError(err instanceof ApiError && err.code === 'not_found' ? 'No verification has been started on this call yet.' : err);
      setBusy(false);
    }
  };

  return (
    <Card withBorder padding="md">
      <Title order={3} size="h4" mb={4}>Transferred from the IVR?</Title>
      <Text size="sm" c="dimmed" mb="sm">Open the verification already started on the call.</Text>
      <form onSubmit={open} aria-label="Open a call's verification">
        <Group align="flex-end" gap="sm" wrap="nowrap">
          <TextInput label="Call id" value={callId} onChange={(e) => setCallId(e.currentTarget.value)} spellCheck={false} autoComplete="off" style={{ flex: 1 }} />
          <Button type="submit" variant="default" loading={busy}>Open</Button>
        </Group>
      </form>
      <ErrorAlert error={error} title="Not found" />
    </Card>
  );
}
