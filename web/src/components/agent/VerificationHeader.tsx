/** The verification's heading: who, which call, state, time and attempts left, live status and Cancel. */
import { Badge, Button, Group, Modal, Stack, Text, Title, Tooltip } from '@mantine/core';
import { useEffect, useRef, useState } from 'react';
import { ErrorAlert } from '../ErrorAlert';
import { api } from '../../lib/api';
import type { Customer, VerificationView } from './types';
import type { LiveMode } from './useVerification';
import { secondsUntil, useNow } from './useNow';
import { clock, stateWords, stepErrorWords } from './words';

export function VerificationHeader({ view, customer, mode, base, onView, onExpired }: { view: VerificationView; customer?: Customer; mode: LiveMode; base: string; onView(v: VerificationView): void; onExpired(): void }) {
  const now = useNow(1000);
  const left = secondsUntil(view.expiresAt, now);
  const pending = view.state === 'pending';
  const st = stateWords[view.state];
  const asked = useRef(false);
  useEffect(() => {
    document.title = `${customer?.name ?? 'Verification'} · ${st.label} · Callwarden`;
  }, [customer?.name, st.label]);
  useEffect(() => {
    if (pending && left === 0 && !asked.current) {
      asked.current = true;
      onExpired();
    }
  }, [pending, left, onExpired]);

  return (
    <Group justify="space-between" align="flex-start" mb="md" wrap="nowrap">
      <Stack gap={2} style={{ minWidth: 0 }}>
        <Group gap="sm" wrap="nowrap">
          <Title order={2} style={{ overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }}>{customer?.name ?? 'Verification'}</Title>
          <Badge color={st.color} variant={view.state === 'verified' ? 'filled' : 'light'} size="lg" data-testid="state-badge">{st.label}</Badge>
        </Group>
        <Text size="sm" c="dimmed">
          Call <Text span ff="monospace" c="dark">{view.interactionId}</Text>
          {view.channel === 'ivr' ? ' · started by the IVR' : ''}
          {customer?.accountNumber ? ` · account ${customer.accountNumber}` : ''}
        </Text>
      </Stack>
      <Group gap="sm" wrap="nowrap">
        {pending && (
          <>
            <Stack gap={0} align="flex-end">
              <Text size="xs" c="dimmed">Expires in</Text>
              <Text fw={700} c={left < 120 ? 'red.7' : undefined} aria-live="off" data-testid="expires-in">{clock(left)}</Text>
            </Stack>
            <Stack gap={0} align="flex-end">
              <Text size="xs" c="dimmed">Attempts left</Text>
              <Text fw={700} c={view.attemptsLeft <= 2 ? 'red.7' : undefined} data-testid="attempts-left">{view.attemptsLeft}</Text>
            </Stack>
            <LiveBadge mode={mode} />
            <CancelButton base={base} onView={onView} />
          </>
        )}
      </Group>
    </Group>
  );
}

function LiveBadge({ mode }: { mode: LiveMode }) {
  const [label, tip, color] =
    mode === 'stream' ? ['Live', 'Updates as they happen (for example steps the caller completes in the IVR).', 'green'] : mode === 'polling' ? ['Auto-refresh', 'Refreshed every 2 seconds.', 'blue'] : ['Connecting', 'Connecting to live updates…', 'gray'];
  return (
    <Tooltip label={tip} withArrow>
      <Badge variant="dot" color={color} tt="none" tabIndex={0} data-testid="live-mode">{label}</Badge>
    </Tooltip>
  );
}

function CancelButton({ base, onView }: { base: string; onView(v: VerificationView): void }) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const cancel = async () => {
    setBusy(true);
    setError(undefined);
    try {
      onView(await api.post<VerificationView>(`${base}/cancel`));
      setOpen(false);
    } catch (e) {
      setError(stepErrorWords(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <Button variant="default" color="red" onClick={() => setOpen(true)}>Cancel</Button>
      <Modal opened={open} onClose={() => setOpen(false)} title="Cancel this verification?" centered>
        <Text size="sm" mb="md">Nothing more can be checked on it. To verify the caller later, start a new verification.</Text>
        <ErrorAlert error={error} title="Not canceled" />
        <Group justify="flex-end" gap="sm">
          <Button variant="default" onClick={() => setOpen(false)} data-autofocus>Keep verifying</Button>
          <Button color="red" onClick={cancel} loading={busy}>Cancel verification</Button>
        </Group>
      </Modal>
    </>
  );
}
