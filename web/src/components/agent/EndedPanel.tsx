/** A verification that is over without success: failed, expired or canceled, with "Start again". */
import { Button, Card, Group, Text, ThemeIcon, Title } from '@mantine/core';
import { useState } from 'react';
import { ErrorAlert } from '../ErrorAlert';
import { navigate } from '../../lib/router';
import { startVerification, startedWith } from './start';
import type { VerificationView } from './types';

const words = {
  failed: { title: 'Verification failed', color: 'red', icon: '✕', text: 'Too many wrong codes, PINs or answers. Do not act on the caller\'s behalf. If policy allows, start a new verification; repeated failures raise the risk score.' },
  expired: { title: 'Verification expired', color: 'gray', icon: '⏱', text: 'The time allowed for this verification ran out before it was completed.' },
  canceled: { title: 'Verification canceled', color: 'gray', icon: '–', text: 'This verification was canceled. Nothing more can be checked on it.' },
} as const;

export function EndedPanel({ view, tenant }: { view: VerificationView; tenant: string }) {
  const w = words[view.state as keyof typeof words] ?? words.canceled;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const again = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const before = startedWith(view.id);
      const v = await startVerification(tenant, {
        customerId: view.customerId,
        interactionId: view.interactionId,
        level: view.requestedLevel,
        ...(before.callerAni ? { callerAni: before.callerAni } : {}),
      });
      navigate(`/agent/verifications/${encodeURIComponent(v.id)}`);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  return (
    <Card withBorder padding="lg" component="section" aria-labelledby="ended-heading" style={{ borderColor: `var(--mantine-color-${w.color}-6)`, borderWidth: 2 }}>
      <Group gap="md" wrap="nowrap" mb="sm" align="flex-start">
        <ThemeIcon size={44} radius="xl" color={w.color} aria-hidden><Text fw={900} size="lg" c="white">{w.icon}</Text></ThemeIcon>
        <div>
          <Title order={2} id="ended-heading">{w.title}</Title>
          <Text size="sm" mt={4} maw={520}>{w.text}</Text>
        </div>
      </Group>
      <ErrorAlert error={error} title="Could not start again" />
      <Group gap="sm" mt="sm">
        <Button onClick={again} loading={busy} autoFocus>Start again</Button>
        <Button variant="default" onClick={() => navigate('/agent')}>Find another customer</Button>
      </Group>
    </Card>
  );
}
