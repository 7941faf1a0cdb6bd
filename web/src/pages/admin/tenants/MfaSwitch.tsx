/**
 * The per-tenant MFA switch on the tenants screen. The mode lives in the tenant's policy, so a change
 * reads the current policy, previews the new one (who it affects), asks for confirmation, then saves
 * a new policy version.
 */
import { Button, Group, Modal, SegmentedControl, Skeleton, Stack, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useState } from 'react';
import { ErrorAlert } from '../../../components/ErrorAlert';
import { ImpactSummary } from '../policy/ImpactSummary';
import { previewPolicy, readPolicy, savePolicy, setIn, type PolicyPreview, type PolicyRead } from '../policy/policy-api';
import { mfaModes, mfaModeWords, type MfaMode } from './mfa-modes';
import type { Tenant } from './tenant-list';

interface Pending {
  mode: MfaMode;
  current?: PolicyRead;
  preview?: PolicyPreview;
}

export function MfaSwitch({ tenant, mode, onChanged }: { tenant: Tenant; mode: MfaMode | undefined; onChanged(mode: MfaMode): void }) {
  const [pending, setPending] = useState<Pending | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);

  const start = async (next: MfaMode) => {
    setError(null);
    setPending({ mode: next });
    try {
      const current = await readPolicy(tenant.slug);
      const preview = await previewPolicy(tenant.slug, setIn(current.policy, ['mfa', 'mode'], next));
      setPending({ mode: next, current, preview });
    } catch (e) {
      setError(e);
    }
  };

  const confirm = async () => {
    if (!pending?.current) return;
    setSaving(true);
    setError(null);
    try {
      await savePolicy(tenant.slug, pending.current.version, setIn(pending.current.policy, ['mfa', 'mode'], pending.mode));
      notifications.show({ color: 'green', title: 'MFA switched', message: `${tenant.name}: MFA is now ${mfaModeWords[pending.mode].label.toLowerCase()}.` });
      onChanged(pending.mode);
      setPending(null);
    } catch (e) {
      setError(e);
    } finally {
      setSaving(false);
    }
  };

  const close = () => {
    if (saving) return;
    setPending(null);
    setError(null);
  };

  if (!mode) return <Skeleton h={28} w={220} aria-label="Loading MFA mode" />;
  return (
    <>
      <SegmentedControl
        size="xs"
        aria-label={`MFA for ${tenant.slug}`}
        value={mode}
        onChange={(v) => v !== mode && void start(v as MfaMode)}
        data={mfaModes.map((m) => ({ value: m, label: mfaModeWords[m].label }))}
        color={mfaModeWords[mode].color}
      />
      <Modal opened={!!pending} onClose={close} title={pending ? `Switch MFA to ${mfaModeWords[pending.mode].label.toLowerCase()} for ${tenant.name}?` : ''} size="lg" centered>
        {pending && (
          <Stack gap="md">
            <Text size="sm">{mfaModeWords[pending.mode].explain}</Text>
            <ErrorAlert error={error} title="The MFA mode could not be changed" />
            {pending.preview ? <ImpactSummary preview={pending.preview} /> : !error && <Skeleton h={160} aria-label="Working out who this affects" />}
            <Group justify="flex-end">
              <Button variant="default" onClick={close} disabled={saving}>Cancel</Button>
              <Button onClick={() => void confirm()} loading={saving} disabled={!pending.preview}>
                Switch to {mfaModeWords[pending.mode].label.toLowerCase()}
              </Button>
            </Group>
          </Stack>
        )}
      </Modal>
    </>
  );
}
