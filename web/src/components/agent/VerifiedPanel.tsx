/** The verified badge: how the caller was verified, and the signed assertion when this screen received it. */
import { Badge, Button, Card, Code, CopyButton, Collapse, DataList, Group, Stack, Text, ThemeIcon, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { navigate } from '../../lib/router';
import { readAssertion } from './jws';
import type { VerificationView } from './types';
import { useNow, secondsUntil } from './useNow';
import { clock, dateTimeOf, levelWords, methodWords } from './words';

export function VerifiedPanel({ view, assertion }: { view: VerificationView; assertion?: string }) {
  const a = assertion ? readAssertion(assertion) : undefined;
  const [shown, { toggle }] = useDisclosure(false);
  const now = useNow(1000);
  const expIso = a?.exp ? new Date(a.exp * 1000).toISOString() : undefined;
  const left = secondsUntil(expIso, now);
  return (
    <Card withBorder padding="lg" component="section" aria-labelledby="verified-heading" style={{ borderColor: 'var(--mantine-color-green-6)', borderWidth: 2 }} bg="var(--mantine-color-green-light)">
      <Group gap="md" wrap="nowrap" mb="md">
        <ThemeIcon size={48} radius="xl" color="green" aria-hidden>
          <Text fw={900} size="xl" c="white">✓</Text>
        </ThemeIcon>
        <div>
          <Title order={2} id="verified-heading" c="green.9">Caller verified</Title>
          <Text size="sm">Level {levelWords(view.level)} {view.verifiedAt && <>at {dateTimeOf(view.verifiedAt)}</>}</Text>
        </div>
      </Group>
      <DataList size="sm" labelWidth={150} gap={6} aria-label="Verification details">
        <DataList.Item>
          <DataList.ItemLabel>Methods</DataList.ItemLabel>
          <DataList.ItemValue>
            <Group gap={6}>{view.completedMethods.map((m) => <Badge key={m} color="green" tt="none">{methodWords[m]}</Badge>)}</Group>
          </DataList.ItemValue>
        </DataList.Item>
        <DataList.Item>
          <DataList.ItemLabel>Interaction</DataList.ItemLabel>
          <DataList.ItemValue><Text span ff="monospace" size="sm">{view.interactionId}</Text></DataList.ItemValue>
        </DataList.Item>
        {a && (
          <>
            <DataList.Item>
              <DataList.ItemLabel>Assertion issued</DataList.ItemLabel>
              <DataList.ItemValue>{a.iat ? dateTimeOf(new Date(a.iat * 1000).toISOString()) : '—'}</DataList.ItemValue>
            </DataList.Item>
            <DataList.Item>
              <DataList.ItemLabel>Assertion expires</DataList.ItemLabel>
              <DataList.ItemValue>
                {expIso ? dateTimeOf(expIso) : '—'}{' '}
                {expIso && <Badge variant="light" color={left > 0 ? 'green' : 'gray'} tt="none">{left > 0 ? `valid for ${clock(left)}` : 'expired'}</Badge>}
              </DataList.ItemValue>
            </DataList.Item>
            <DataList.Item>
              <DataList.ItemLabel>Signing key id</DataList.ItemLabel>
              <DataList.ItemValue><Text span ff="monospace" size="sm">{a.kid ?? '—'}</Text> {a.alg && <Text span size="xs" c="dimmed">({a.alg})</Text>}</DataList.ItemValue>
            </DataList.Item>
            {a.jti && (
              <DataList.Item>
                <DataList.ItemLabel>Assertion id</DataList.ItemLabel>
                <DataList.ItemValue><Text span ff="monospace" size="sm">{a.jti}</Text></DataList.ItemValue>
              </DataList.Item>
            )}
          </>
        )}
      </DataList>
      {assertion ? (
        <Stack gap="xs" mt="md">
          <Group gap="sm">
            <CopyButton value={assertion}>
              {({ copied, copy }) => <Button color={copied ? 'teal' : 'green'} onClick={copy}>{copied ? 'Copied' : 'Copy assertion'}</Button>}
            </CopyButton>
            <Button variant="subtle" color="green" onClick={toggle} aria-expanded={shown}>{shown ? 'Hide token' : 'Show token'}</Button>
            <Button variant="default" ml="auto" onClick={() => navigate('/agent')}>Verify another caller</Button>
          </Group>
          <Collapse expanded={shown}>
            <Code block data-testid="assertion-jws" style={{ wordBreak: 'break-all', whiteSpace: 'pre-wrap' }}>{assertion}</Code>
          </Collapse>
          <Text size="xs" c="dimmed">Paste the assertion into the CRM: it proves this verification for this call, signed with the tenant's key, for 5 minutes.</Text>
        </Stack>
      ) : (
        <Group mt="md" justify="space-between" wrap="nowrap" align="flex-end">
          <Text size="sm" c="dimmed" maw={440}>
            The signed assertion is handed once, to whoever completed the last step (for example the IVR), and this screen did not receive it. The details above are the server's record.
          </Text>
          <Button variant="default" onClick={() => navigate('/agent')}>Verify another caller</Button>
        </Group>
      )}
    </Card>
  );
}
