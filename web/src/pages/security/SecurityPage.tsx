/**
 * /security: the signed-in user's own sign-in methods (authenticator app, security keys and
 * passkeys), recovery codes, password, sessions and recent activity. Changing sign-in methods asks
 * for fresh authentication when the server wants it.
 */
import { Badge, Group, Paper, SimpleGrid, Skeleton, Stack, Tabs, Text } from '@mantine/core';
import { useState, type ReactNode } from 'react';
import { FreshAuthProvider } from '../../components/auth/fresh-auth';
import { ErrorAlert } from '../../components/ErrorAlert';
import { PageTitle } from '../../components/PageTitle';
import { api } from '../../lib/api';
import { useSession } from '../../lib/session';
import { useAsync } from '../../lib/use-async';
import { ActivitySection } from './ActivitySection';
import { FactorsSection } from './FactorsSection';
import { methodsInWords } from './format';
import { KeysSection } from './KeysSection';
import { PasswordSection } from './PasswordSection';
import { RecoverySection } from './RecoverySection';
import { SessionsSection } from './SessionsSection';
import { RECOVERY_CODE_COUNT, type Factor } from './types';

const tabs = [
  { value: 'methods', label: 'Sign-in methods' },
  { value: 'recovery', label: 'Recovery codes' },
  { value: 'password', label: 'Password' },
  { value: 'sessions', label: 'Sessions' },
  { value: 'activity', label: 'Recent activity' },
] as const;
type Tab = (typeof tabs)[number]['value'];

const initialTab = (): Tab => {
  const h = location.hash.replace(/^#/, '');
  return (tabs.find((t) => t.value === h)?.value ?? 'methods') as Tab;
};

export function SecurityPage() {
  const { me } = useSession();
  const [tab, setTab] = useState<Tab>(initialTab);
  const factors = useAsync((signal) => api.get<{ factors: Factor[] }>('/v1/me/factors', { signal }).then((r) => r.factors), []);
  const list = factors.data ?? [];
  const totp = list.find((f) => f.kind === 'totp');
  const keys = list.filter((f) => f.kind === 'webauthn').length;
  const second = [totp && 'Authenticator app', keys && (keys === 1 ? '1 security key' : `${keys} security keys`)].filter(Boolean).join(' + ');
  const codes = list.find((f) => f.kind === 'recovery_code');
  const select = (v: string | null) => {
    if (!v) return;
    setTab(v as Tab);
    if (v === 'methods' || v === 'recovery') void factors.reload(); // codes may have been used meanwhile
    history.replaceState(null, '', `${location.pathname}${location.search}#${v}`);
  };
  const reload = () => void factors.reload();

  return (
    <FreshAuthProvider>
      <PageTitle title="Sign-in & security" description={me ? `How ${me.email} signs in to ${me.tenant}, and where you are signed in.` : undefined} />
      <SimpleGrid cols={3} spacing="md" mb="md">
        <Stat label="Two-step verification" loading={factors.loading && !factors.data}>
          <Group gap="xs">
            <Badge color={second ? 'teal' : 'orange'} variant="light" tt="none" size="lg">{second ? 'On' : 'Off'}</Badge>
            <Text size="sm" c="dimmed">{second || 'Password only'}</Text>
          </Group>
        </Stat>
        <Stat label="Recovery codes" loading={factors.loading && !factors.data}>
          <Text size="lg" fw={700}>{codes?.remaining !== undefined ? `${codes.remaining} of ${RECOVERY_CODE_COUNT} left` : 'None'}</Text>
        </Stat>
        <Stat label="This session">
          <Text size="sm" fw={600}>{methodsInWords(me?.session.methods)}</Text>
          <Text size="xs" c="dimmed">{me && me.session.aal >= 2 ? `Multi-factor sign-in (AAL${me.session.aal})` : 'Single-factor sign-in (AAL1)'}</Text>
        </Stat>
      </SimpleGrid>
      <Tabs value={tab} onChange={select} keepMounted={false}>
        <Tabs.List mb="md">
          {tabs.map((t) => <Tabs.Tab key={t.value} value={t.value}>{t.label}</Tabs.Tab>)}
        </Tabs.List>
        <Tabs.Panel value="methods">
          <ErrorAlert error={factors.error} title="Could not load your sign-in methods" />
          {factors.loading && !factors.data ? <Skeleton h={180} radius="md" /> : factors.data && (
            <>
              <FactorsSection factors={list} reload={reload} onManageRecovery={() => select('recovery')} onChangePassword={() => select('password')} />
              <KeysSection factors={list} reload={reload} />
            </>
          )}
        </Tabs.Panel>
        <Tabs.Panel value="recovery">
          <ErrorAlert error={factors.error} title="Could not load your recovery codes" />
          {factors.loading && !factors.data ? <Skeleton h={140} radius="md" /> : factors.data && <RecoverySection factors={list} reload={reload} />}
        </Tabs.Panel>
        <Tabs.Panel value="password"><PasswordSection /></Tabs.Panel>
        <Tabs.Panel value="sessions"><SessionsSection /></Tabs.Panel>
        <Tabs.Panel value="activity"><ActivitySection /></Tabs.Panel>
      </Tabs>
    </FreshAuthProvider>
  );
}

function Stat({ label, loading, children }: { label: string; loading?: boolean; children: ReactNode }) {
  return (
    <Paper withBorder radius="md" p="sm" px="md">
      <Stack gap={4}>
        <Text size="xs" c="dimmed" tt="uppercase" fw={700}>{label}</Text>
        {loading ? <Skeleton h={24} w="60%" /> : children}
      </Stack>
    </Paper>
  );
}
