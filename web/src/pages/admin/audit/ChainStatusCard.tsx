/**
 * The audit log's verification status: verified, nothing sealed yet, or broken (which event and
 * how), the last signed checkpoint the chain was held to, and events left out for lacking the
 * server's key.
 */
import { Alert, Badge, Button, Group, List, Paper, Skeleton, Stack, Text } from '@mantine/core';
import { errorWords } from '../../../lib/errors';
import type { ChainProblem, ChainReport } from './audit-api';
import { formatDateTime } from './format';

const problemWords: Record<string, string> = {
  edited: 'changed after it was sealed',
  deleted: 'events are missing',
  reordered: 'moved or rewritten',
  head_mismatch: 'the chain head does not match',
  inserted: "added without the server's key",
  withheld: 'kept out of the chain',
  truncated: 'the chain was cut back',
  rewritten: 'the chain was rewritten',
};

const where = (p: ChainProblem) =>
  p.eventId === null ? 'Chain head' : p.chainSeq === null ? `Event #${p.eventId} (not in the chain)` : `Event #${p.eventId} (chain position ${p.chainSeq})`;

export function ChainStatusCard({ report, error, loading, checkedAt, onCheck, onShowEvent }: {
  report: ChainReport | undefined;
  error: unknown;
  loading: boolean;
  checkedAt: string | null;
  onCheck(): void;
  onShowEvent(id: number): void;
}) {
  const t = report?.tenants[0];
  const sealed = t?.sealed ?? 0;
  const unsealed = t?.unsealed ?? 0;
  const broken = report && !report.ok;
  const first = t?.problems[0];
  const checkpoint = t?.checkpoint ?? null;
  const fileProblems = report?.checkpoints?.problems ?? [];
  const color = error ? 'gray' : broken ? 'red' : sealed > 0 ? 'green' : 'gray';
  const status = error
    ? 'Could not check'
    : !report
      ? 'Checking…'
      : broken
        ? `Broken at ${first ? where(first).toLowerCase() : 'an event'}`
        : sealed > 0
          ? 'Chain verified'
          : 'Nothing sealed yet';
  return (
    <Paper withBorder radius="md" p="md" mb="md" data-testid="chain-status" aria-label="Audit chain verification" component="section" style={broken ? { borderColor: 'var(--mantine-color-red-6)' } : undefined}>
      <Group justify="space-between" align="flex-start" wrap="nowrap">
        <Stack gap={4}>
          <Group gap="xs">
            <Text fw={700}>Tamper evidence</Text>
            <Badge color={color} variant={broken ? 'filled' : 'light'} tt="none" size="lg" data-testid="chain-verdict">{status}</Badge>
          </Group>
          {!report && !error ? (
            <Skeleton h={16} w={360} />
          ) : error ? (
            <Text size="sm" c="dimmed">{errorWords(error)}</Text>
          ) : broken ? (
            <Text size="sm" c="red.8">
              The audit log no longer matches what was sealed: someone changed the stored events outside Callwarden. Keep an export from before this time and investigate.
            </Text>
          ) : sealed > 0 ? (
            <Text size="sm">
              Every sealed event is unchanged: verified up to chain position {t?.headSeq ?? sealed} ({sealed} sealed event{sealed === 1 ? '' : 's'}).
            </Text>
          ) : (
            <Text size="sm">Events are sealed into the hash chain shortly after they happen.</Text>
          )}
          {report && !error && (
            <Text size="xs" c="dimmed">
              {sealed} sealed · {unsealed} waiting to be sealed{t?.quarantined ? ` · ${t.quarantined} left out (no valid MAC)` : ''}{checkedAt ? ` · checked ${formatDateTime(checkedAt)}` : ''}
            </Text>
          )}
          {report && !error && (
            <Text size="xs" c="dimmed" data-testid="chain-checkpoint">
              {checkpoint
                ? `Last checkpoint: chain position ${checkpoint.seq}, signed ${formatDateTime(checkpoint.sealedAt)} (key ${checkpoint.keyId}, ${checkpoint.source === 'file' ? 'checkpoint file' : 'signed chain head'})`
                : 'No signed checkpoint yet'}
              {t?.macs === 'checked' ? ' · every event’s MAC checked' : ''}
            </Text>
          )}
        </Stack>
        <Button variant="default" size="xs" onClick={onCheck} loading={loading} style={{ flexShrink: 0 }}>Check again</Button>
      </Group>
      {broken && t && t.problems.length > 0 && (
        <Alert color="red" variant="light" mt="sm" title={`${t.problems.length} problem${t.problems.length === 1 ? '' : 's'} found`}>
          <List size="sm" spacing={4}>
            {t.problems.slice(0, 8).map((p, i) => (
              <List.Item key={i}>
                <b>{where(p)}</b>: {problemWords[p.kind] ?? p.kind}. <Text span size="xs" c="dimmed">{p.detail}</Text>
                {p.eventId !== null && (
                  <Button variant="subtle" size="compact-xs" ml={4} onClick={() => onShowEvent(p.eventId!)}>View event</Button>
                )}
              </List.Item>
            ))}
          </List>
          {t.problems.length > 8 && <Text size="xs" mt={4}>and {t.problems.length - 8} more.</Text>}
        </Alert>
      )}
      {fileProblems.length > 0 && (
        <Alert color="red" variant="light" mt="sm" title="The checkpoint file holds invalid checkpoints">
          <List size="sm" spacing={4}>
            {fileProblems.slice(0, 4).map((p) => (
              <List.Item key={p.line}>Line {p.line}: {p.detail}</List.Item>
            ))}
          </List>
        </Alert>
      )}
    </Paper>
  );
}
