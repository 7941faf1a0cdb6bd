/** The factors the agent can check now, one tab each; it opens on what closes the missing requirements. */
import { Alert, Badge, Card, Group, Tabs, Text, Title } from '@mantine/core';
import { useEffect, useRef, useState } from 'react';
import { api } from '../../lib/api';
import { CodeStep } from './CodeStep';
import { QuestionStep } from './QuestionStep';
import { StepEntry } from './StepEntry';
import type { CallerMethod, Customer, VerificationView } from './types';
import { categoryOf, helps, methodWords } from './words';

type Tab = 'code' | 'pin' | 'question' | 'totp';
const tabs: Array<{ tab: Tab; label: string; methods: CallerMethod[] }> = [
  { tab: 'code', label: 'One-time code', methods: ['otp_sms', 'otp_voice', 'otp_email'] },
  { tab: 'pin', label: 'PIN', methods: ['pin'] },
  { tab: 'question', label: 'Security question', methods: ['question'] },
  { tab: 'totp', label: 'Authenticator app', methods: ['totp'] },
];

const isAvailable = (v: VerificationView, t: Tab) => v.available.some((m) => tabs.find((x) => x.tab === t)!.methods.includes(m.method));
const isDone = (v: VerificationView, t: Tab) => v.completedMethods.some((m) => tabs.find((x) => x.tab === t)!.methods.includes(m));
const isHelpful = (v: VerificationView, t: Tab) => !isDone(v, t) && v.available.some((m) => tabs.find((x) => x.tab === t)!.methods.includes(m.method) && helps(m.method, v.status));

/** How close a tab brings the flow to an alternative: fewer missing requirements first, then more already met. */
function closeness(v: VerificationView, t: Tab): [number, number] | undefined {
  if (!isHelpful(v, t)) return undefined;
  const ms = tabs.find((x) => x.tab === t)!.methods.filter((m) => v.available.some((a) => a.method === m));
  let best: [number, number] | undefined;
  for (const a of v.status.alternatives) {
    if (!ms.some((m) => a.missing.includes(m) || a.missing.includes(categoryOf[m]))) continue;
    const score: [number, number] = [a.missing.length, -a.met.length];
    if (!best || score[0] < best[0] || (score[0] === best[0] && score[1] < best[1])) best = score;
  }
  return best;
}

/** The tab to show: the current one while it still helps, else the one closest to completing the level. */
function bestTab(v: VerificationView, current?: Tab): Tab {
  if (current && isHelpful(v, current)) return current;
  let pick: { tab: Tab; score: [number, number] } | undefined;
  for (const t of tabs) {
    const score = closeness(v, t.tab);
    if (score && (!pick || score[0] < pick.score[0] || (score[0] === pick.score[0] && score[1] < pick.score[1]))) pick = { tab: t.tab, score };
  }
  return pick?.tab ?? tabs.find((t) => isAvailable(v, t.tab) && !isDone(v, t.tab))?.tab ?? current ?? 'code';
}

export function StepsPanel({ view, customer, base, onView, onEnded }: { view: VerificationView; customer?: Customer; base: string; onView(v: VerificationView): void; onEnded(): void }) {
  const [tab, setTab] = useState<Tab>(() => bestTab(view));
  const [progress, setProgress] = useState<string>();
  const seen = useRef(view.completedMethods);
  const doneKey = view.completedMethods.join(',');
  useEffect(() => {
    const fresh = view.completedMethods.filter((m) => !seen.current.includes(m));
    seen.current = view.completedMethods;
    const next = bestTab(view, tab);
    setTab(next);
    if (fresh.length) {
      const nextLabel = isHelpful(view, next) ? tabs.find((t) => t.tab === next)!.label : undefined;
      setProgress(`${fresh.map((m) => methodWords[m]).join(' and ')} confirmed.${nextLabel ? ` Next: ${nextLabel.toLowerCase()}.` : ''}`);
    }
    // only when a method is completed (here or by the IVR), not on every read
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [doneKey]);

  const entry = (t: Tab) => {
    if (isDone(view, t)) return <Alert color="green" variant="light" title="Done">{t === 'code' ? 'A one-time code was confirmed on this call.' : t === 'pin' ? 'The PIN was confirmed.' : t === 'question' ? 'A security question was answered.' : "The authenticator app's code was confirmed."}</Alert>;
    if (!isAvailable(view, t)) return <Text size="sm" c="dimmed">Not set up for this customer.</Text>;
    const hint = !isHelpful(view, t) && <Text size="sm" c="dimmed" mb="sm">Not needed for this level right now; another factor closes what is missing.</Text>;
    switch (t) {
      case 'code':
        return <>{hint}<CodeStep view={view} customer={customer} base={base} onView={onView} onEnded={onEnded} /></>;
      case 'pin':
        return (
          <>
            {hint}
            <StepEntry
              label="PIN"
              description="Type the digits as the caller says them. Never repeat the PIN back."
              submitLabel="Check PIN"
              masked
              numeric
              maxLength={16}
              inputId="pin-entry"
              autoFocus
              check={(pin) => api.post<VerificationView>(`${base}/pin`, { pin })}
              onView={onView}
              onEnded={onEnded}
            />
          </>
        );
      case 'question':
        return <>{hint}<QuestionStep base={base} onView={onView} onEnded={onEnded} alone={!view.completedMethods.includes('pin')} /></>;
      case 'totp':
        return (
          <>
            {hint}
            <StepEntry
              label="Code from the customer's authenticator app"
              description="The caller reads the 6 digits their app shows now."
              submitLabel="Check code"
              numeric
              maxLength={16}
              inputId="totp-entry"
              autoFocus
              check={(code) => api.post<VerificationView>(`${base}/totp`, { code })}
              onView={onView}
              onEnded={onEnded}
            />
          </>
        );
    }
  };

  return (
    <Card withBorder padding="md">
      <Title order={3} size="h4" mb="sm">Verify the caller</Title>
      {progress && (
        <Alert color="green" variant="light" role="status" mb="sm" py={8} data-testid="step-progress" withCloseButton onClose={() => setProgress(undefined)} closeButtonLabel="Dismiss">
          ✓ {progress}
        </Alert>
      )}
      <Tabs value={tab} onChange={(v) => v && setTab(v as Tab)} keepMounted={false}>
        <Tabs.List mb="md">
          {tabs.map((t) => (
            <Tabs.Tab key={t.tab} value={t.tab} disabled={!isAvailable(view, t.tab) && !isDone(view, t.tab)} rightSection={isDone(view, t.tab) ? <Badge size="xs" color="green" variant="light" aria-label="done">✓</Badge> : undefined}>
              {t.label}
            </Tabs.Tab>
          ))}
        </Tabs.List>
        {tabs.map((t) => (
          <Tabs.Panel key={t.tab} value={t.tab}>
            {entry(t.tab)}
          </Tabs.Panel>
        ))}
      </Tabs>
      <Group mt="md" gap={6}>
        <Text size="xs" c="dimmed">Codes, PINs and answers are checked by the server; this screen never sees them.</Text>
      </Group>
    </Card>
  );
}
