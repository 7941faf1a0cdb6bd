/**
 * One-time code: the agent picks an on-file contact by its masked form (and SMS or voice for a
 * phone), sends the code, then types the code the caller reads out. The destination is only ever
 * chosen from the list; the code itself never reaches this screen.
 */
import { Alert, Button, Group, Radio, SegmentedControl, Stack, Text } from '@mantine/core';
import { useMemo, useState } from 'react';
import { ErrorAlert } from '../ErrorAlert';
import { api, ApiError } from '../../lib/api';
import { StepEntry } from './StepEntry';
import type { AvailableContact, CodeSent, Customer, VerificationView } from './types';
import { useNow, secondsUntil } from './useNow';
import { useSticky } from './useSticky';
import { clock, endsFlow, stepErrorWords, timeOf } from './words';

type Channel = 'sms' | 'voice' | 'email';
const channelWords: Record<Channel, string> = { sms: 'Text message', voice: 'Voice call', email: 'Email' };
const methodOf: Record<Channel, string> = { sms: 'otp_sms', voice: 'otp_voice', email: 'otp_email' };

interface Target extends AvailableContact {
  channels: Channel[];
  label?: string;
}

/** The on-file contacts offered for codes, each with the channels the flow offers for it. */
export function codeTargets(view: VerificationView, customer?: Customer): Target[] {
  const out = new Map<string, Target>();
  for (const m of view.available) {
    const ch = (Object.keys(methodOf) as Channel[]).find((c) => methodOf[c] === m.method);
    if (!ch) continue;
    for (const c of m.contacts ?? []) {
      const t = out.get(c.id) ?? { ...c, channels: [], label: customer?.contacts.find((k) => k.id === c.id)?.label };
      t.channels.push(ch);
      out.set(c.id, t);
    }
  }
  return [...out.values()];
}

export function CodeStep({ view, customer, base, onView, onEnded }: { view: VerificationView; customer?: Customer; base: string; onView(v: VerificationView): void; onEnded(): void }) {
  const targets = useMemo(() => codeTargets(view, customer), [view, customer]);
  const firstEligible = targets.find((t) => t.eligible);
  const [contactId, setContactId] = useState<string | undefined>(firstEligible?.id);
  const chosen = targets.find((t) => t.id === contactId && t.eligible) ?? firstEligible;
  const [channel, setChannel] = useState<Channel | undefined>();
  const ch: Channel | undefined = chosen && channel && chosen.channels.includes(channel) ? channel : chosen?.channels[0];
  const [sent, setSent] = useSticky<(CodeSent & { at: string }) | undefined>(`sent:${view.id}`, undefined);
  const [cooldownUntil, setCooldownUntil] = useSticky<string | undefined>(`cooldown:${view.id}`, undefined);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const now = useNow(1000);
  const wait = secondsUntil(cooldownUntil, now);

  const send = async () => {
    if (!chosen || !ch) return;
    setBusy(true);
    setError(undefined);
    try {
      const r = await api.post<CodeSent>(`${base}/codes`, { contactId: chosen.id, channel: ch });
      setSent({ ...r, at: new Date().toISOString() });
      setCooldownUntil(r.resendAvailableAt);
      requestAnimationFrame(() => document.getElementById('code-entry')?.focus());
    } catch (e) {
      setError(stepErrorWords(e));
      const retry = e instanceof ApiError ? ((e.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds ?? e.retryAfterSeconds) : undefined;
      if (retry) setCooldownUntil(new Date(Date.now() + retry * 1000).toISOString());
      if (endsFlow(e)) onEnded();
    } finally {
      setBusy(false);
    }
  };

  if (targets.length === 0) return <Text c="dimmed" size="sm">This customer has no phone number or email address on file, so no code can be sent.</Text>;

  return (
    <Stack gap="md">
      <Radio.Group
        label="Send the code to"
        description="Only contacts on file can receive a code. Read the masked form to the caller if they ask where it goes."
        value={chosen?.id ?? null}
        onChange={(v) => setContactId(v)}
      >
        <Stack gap={6} mt={6}>
          {targets.map((t) => (
            <Radio
              key={t.id}
              value={t.id}
              disabled={!t.eligible}
              label={
                <Text span size="sm" ff="monospace">{t.masked}</Text>
              }
              description={t.eligible ? `${t.kind === 'phone' ? 'Phone' : 'Email'}${t.label ? ` · ${t.label}` : ''}` : `Cannot receive codes: ${t.reason ?? 'not eligible'}`}
            />
          ))}
        </Stack>
      </Radio.Group>
      {chosen && ch && (
        <Group gap="sm" align="flex-end" wrap="nowrap">
          {chosen.channels.length > 1 ? (
            <div>
              <Text size="sm" fw={500} id="code-channel-label" mb={4}>Send by</Text>
              <SegmentedControl value={ch} onChange={(v) => setChannel(v as Channel)} data={chosen.channels.map((c) => ({ value: c, label: channelWords[c] }))} aria-labelledby="code-channel-label" />
            </div>
          ) : (
            <Text size="sm" pb={6}>Sent by <b>{channelWords[ch].toLowerCase()}</b></Text>
          )}
          <Button onClick={send} loading={busy} disabled={wait > 0} variant={sent ? 'default' : 'filled'} ml="auto">
            {wait > 0 ? `Resend in ${clock(wait)}` : sent ? 'Resend code' : 'Send code'}
          </Button>
        </Group>
      )}
      {error && <ErrorAlert error={error} title="Code not sent" />}
      {sent && (
        <Alert color="blue" variant="light" role="status" title={`Code sent to ${sent.destination}`}>
          {channelWords[sent.channel]} at {timeOf(sent.at)}, valid until {timeOf(sent.expiresAt)}. Ask the caller to read it out.
        </Alert>
      )}
      <StepEntry
        label="Code the caller reads out"
        description={sent ? undefined : 'If a code was already sent on this call (for example by the IVR), you can check it here.'}
        submitLabel="Check code"
        numeric
        maxLength={16}
        placeholder="6 digits"
        check={(code) => api.post<VerificationView>(`${base}/codes/check`, { code })}
        onView={onView}
        onEnded={onEnded}
        inputId="code-entry"
      />
    </Stack>
  );
}
