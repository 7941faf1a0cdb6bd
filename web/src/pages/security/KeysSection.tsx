/**
 * Security keys and passkeys: each with its name, what kind it is (synced passkey or device-bound,
 * with or without PIN or biometrics), when it was added and last used, and warnings (suspended by an
 * administrator, a use count gone backwards); add, rename and remove (fresh authentication).
 */
import { Badge, Button, Card, Group, Modal, Paper, Stack, Text, TextInput, Tooltip } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useState } from 'react';
import { isCanceled, useFreshAuth } from '../../components/auth/fresh-auth';
import { keysSupported } from '../../components/auth/webauthn';
import { api, seg } from '../../lib/api';
import { errorWords } from '../../lib/errors';
import { AddKeyButtons } from './AddKey';
import { ConfirmDialog } from './ConfirmDialog';
import { formatDateTime, timeAgo } from './format';
import type { Factor } from './types';

const flagWords: Record<string, { label: string; hint: string }> = {
  counter_regression: { label: 'Possible copy', hint: 'This key reported a lower use count than before, which can mean it was copied. Tell your administrator and consider removing it.' },
};

/** "Synced passkey" or "Device-bound", from the key's facts. */
export function keyType(f: Factor): string {
  return f.key?.deviceType === 'multiDevice' ? 'Synced passkey' : 'Device-bound key';
}

export function KeysSection({ factors, reload }: { factors: Factor[]; reload(): void }) {
  const withFreshAuth = useFreshAuth();
  const keys = factors.filter((f) => f.kind === 'webauthn');
  const [removing, setRemoving] = useState<Factor | null>(null);
  const [renaming, setRenaming] = useState<Factor | null>(null);
  const [busyId, setBusyId] = useState<string | null>(null);
  const supported = keysSupported();

  const remove = async () => {
    const f = removing;
    if (!f) return;
    setRemoving(null);
    setBusyId(f.id);
    try {
      await withFreshAuth(() => api.del(`/v1/me/factors/${seg(f.id)}`), 'remove this key');
      notifications.show({ color: 'teal', title: 'Key removed', message: `${f.label} can no longer be used to sign in.` });
      reload();
    } catch (e) {
      if (!isCanceled(e)) notifications.show({ color: 'red', title: 'Could not remove it', message: errorWords(e) });
    } finally {
      setBusyId(null);
    }
  };

  return (
    <Card withBorder radius="md" p="lg" mt="md">
      <Group justify="space-between" align="flex-start" mb="md" gap="sm">
        <Stack gap={2} style={{ flex: '1 1 280px', minWidth: 0 }}>
          <Text fw={700} component="h2" size="md" m={0}>Security keys and passkeys</Text>
          <Text size="sm" c="dimmed">
            The safest second step: a key only answers this site, so a look-alike page cannot trick it. A passkey can also sign you in without a password when your organization allows it.
          </Text>
        </Stack>
        {supported && <AddKeyButtons onAdded={reload} />}
      </Group>
      {!supported && <Text size="sm" c="orange.8" mb="sm">This browser cannot use security keys or passkeys. Open this page in a current version of Chrome, Edge, Firefox or Safari to add one.</Text>}
      {keys.length === 0 ? (
        <Text size="sm" c="dimmed">No security keys or passkeys yet.</Text>
      ) : (
        <Stack component="ul" gap="xs" aria-label="Security keys and passkeys" style={{ listStyle: 'none', padding: 0, margin: 0 }}>
          {keys.map((f) => (
            <Paper component="li" key={f.id} withBorder radius="sm" p="sm" data-factor-id={f.id}>
              <Group justify="space-between" gap="sm" align="center">
                <Stack gap={4} style={{ flex: '1 1 260px', minWidth: 0 }}>
                  <Group gap={6}>
                    <Text size="sm" fw={600} style={{ overflowWrap: 'anywhere' }} data-testid="key-name">{f.label}</Text>
                    <Badge variant="light" color={f.key?.deviceType === 'multiDevice' ? 'indigo' : 'gray'} tt="none">{keyType(f)}</Badge>
                    <Badge variant="outline" color="gray" tt="none">{f.key?.userVerified ? 'PIN or biometrics' : 'Touch only'}</Badge>
                    {f.suspended && <Badge color="red" variant="light" tt="none">Suspended by your administrator</Badge>}
                    {f.key?.flags.map((flag) => (
                      <Tooltip key={flag} label={flagWords[flag]?.hint ?? flag} multiline w={280}>
                        <Badge color="orange" variant="light" tt="none" tabIndex={0}>{flagWords[flag]?.label ?? flag.replace(/_/g, ' ')}</Badge>
                      </Tooltip>
                    ))}
                  </Group>
                  <Text size="xs" c="dimmed">
                    {f.key?.model ? <>{f.key.model} · </> : null}Added {formatDateTime(f.createdAt)} · Last used <span title={f.lastUsedAt ? formatDateTime(f.lastUsedAt) : undefined}>{timeAgo(f.lastUsedAt).toLowerCase()}</span>
                  </Text>
                </Stack>
                <Group gap="xs" wrap="nowrap">
                  <Button size="xs" variant="default" onClick={() => setRenaming(f)} aria-label={`Rename ${f.label}`}>Rename</Button>
                  <Button size="xs" variant="light" color="red" loading={busyId === f.id} onClick={() => setRemoving(f)} aria-label={`Remove ${f.label}`}>Remove</Button>
                </Group>
              </Group>
            </Paper>
          ))}
        </Stack>
      )}
      <ConfirmDialog opened={!!removing} title="Remove this key?" confirmLabel="Remove" danger onConfirm={() => void remove()} onCancel={() => setRemoving(null)}>
        {removing?.label} will no longer sign you in. If it is your only second step and your organization requires one, you will be asked to set up another at your next sign-in.
      </ConfirmDialog>
      <RenameModal factor={renaming} onClose={() => setRenaming(null)} onRenamed={() => { setRenaming(null); reload(); }} />
    </Card>
  );
}

function RenameModal({ factor, onClose, onRenamed }: { factor: Factor | null; onClose(): void; onRenamed(): void }) {
  return (
    <Modal opened={!!factor} onClose={onClose} title={<Text fw={700} size="lg">Rename key</Text>} centered size="sm">
      {factor && <RenameForm factor={factor} onClose={onClose} onRenamed={onRenamed} />}
    </Modal>
  );
}

function RenameForm({ factor, onClose, onRenamed }: { factor: Factor; onClose(): void; onRenamed(): void }) {
  const withFreshAuth = useFreshAuth();
  const [label, setLabel] = useState(factor.label);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const name = label.trim();
  const save = async () => {
    if (!name || busy) return;
    setBusy(true);
    setError(null);
    try {
      await withFreshAuth(() => api.patch(`/v1/me/factors/${seg(factor.id)}`, { label: name }), 'rename this key');
      notifications.show({ color: 'teal', title: 'Key renamed', message: `It is now called ${name}.` });
      onRenamed();
    } catch (e) {
      if (!isCanceled(e)) setError(errorWords(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={(e) => { e.preventDefault(); void save(); }} noValidate>
      <Stack gap="md">
        <TextInput label="Name" value={label} onChange={(e) => setLabel(e.currentTarget.value)} maxLength={64} error={error ?? (name ? undefined : 'Enter a name.')} data-autofocus />
        <Group justify="flex-end" gap="sm">
          <Button variant="default" onClick={onClose}>Cancel</Button>
          <Button type="submit" loading={busy} disabled={!name || name === factor.label}>Save</Button>
        </Group>
      </Stack>
    </form>
  );
}
