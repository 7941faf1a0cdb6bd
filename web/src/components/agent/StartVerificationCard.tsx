/** The call's details and the Start button for the selected customer. */
import { Button, Card, Input, SegmentedControl, Stack, Text, TextInput, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { ErrorAlert } from '../ErrorAlert';
import { navigate } from '../../lib/router';
import { newInteractionId, normalizeAni, startVerification } from './start';
import type { CustomerSummary } from './types';

export function StartVerificationCard({ tenant, customer }: { tenant: string; customer?: CustomerSummary }) {
  const [interactionId, setInteractionId] = useState(() => newInteractionId());
  const [ani, setAni] = useState('');
  const [level, setLevel] = useState<'default' | 'high'>('default');
  const [aniError, setAniError] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!customer?.id) return;
    const callerAni = ani.trim() ? normalizeAni(ani) : undefined;
    if (callerAni === null) {
      setAniError('Enter the number with its country code, for example +1 415 555 0134, or leave it empty.');
      return;
    }
    setAniError(undefined);
    setError(undefined);
    setBusy(true);
    try {
      const v = await startVerification(tenant, {
        customerId: customer.id,
        interactionId: interactionId.trim() || newInteractionId(),
        ...(callerAni ? { callerAni } : {}),
        ...(level === 'high' ? { level: 'high' } : {}),
      });
      navigate(`/agent/verifications/${encodeURIComponent(v.id)}`);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <Card withBorder padding="md">
      <Title order={3} size="h4" mb="xs">Start verification</Title>
      <form onSubmit={submit} aria-label="Start verification">
        <Stack gap="sm">
          <div>
            <Text size="sm" fw={500}>Customer</Text>
            {customer ? (
              <Text size="sm" data-testid="selected-customer">
                <Text span fw={700}>{customer.name}</Text>
                {customer.accountNumber && <Text span c="dimmed"> · account {customer.accountNumber}</Text>}
              </Text>
            ) : (
              <Text size="sm" c="dimmed">Select a customer from the search results.</Text>
            )}
          </div>
          <TextInput
            label="Interaction / call id"
            description="From the phone system; a new one is suggested."
            value={interactionId}
            onChange={(e) => setInteractionId(e.currentTarget.value)}
            maxLength={200}
            spellCheck={false}
            autoComplete="off"
          />
          <TextInput
            label="Caller's number (ANI)"
            description="Optional. As the phone system shows it, with the country code."
            placeholder="+1 415 555 0134"
            value={ani}
            onChange={(e) => setAni(e.currentTarget.value)}
            error={aniError}
            inputMode="tel"
            autoComplete="off"
          />
          <Input.Wrapper label="Assurance level" description="High for payments and contact changes. Risk can raise it.">
            <SegmentedControl
              fullWidth
              mt={4}
              value={level}
              onChange={(v) => setLevel(v as 'default' | 'high')}
              data={[{ value: 'default', label: 'Standard' }, { value: 'high', label: 'High' }]}
              aria-label="Assurance level"
            />
          </Input.Wrapper>
          <ErrorAlert error={error} title="Could not start" />
          <Button type="submit" loading={busy} disabled={!customer?.id} fullWidth>Start verification</Button>
        </Stack>
      </form>
    </Card>
  );
}
