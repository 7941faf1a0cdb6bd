/** The operator creates a tenant: slug, name, MFA mode and, optionally, its first administrator. */
import { Button, Group, Input, Modal, SegmentedControl, Stack, Text, TextInput } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useState, type FormEvent } from 'react';
import { ErrorAlert } from '../../../components/ErrorAlert';
import { api, ApiError } from '../../../lib/api';
import { mfaModes, mfaModeWords, type MfaMode } from './mfa-modes';
import type { Tenant } from './tenant-list';

const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;

/** "Northwind Support" -> "northwind-support" (until the slug is typed by hand). */
const suggestSlug = (name: string) =>
  name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+/, '').slice(0, 40).replace(/-+$/, '');

export function CreateTenantModal({ opened, onClose, onCreated }: { opened: boolean; onClose(): void; onCreated(t: Tenant): void }) {
  const [slug, setSlug] = useState('');
  const [slugTouched, setSlugTouched] = useState(false);
  const [name, setName] = useState('');
  const [mode, setMode] = useState<MfaMode>('optional');
  const [adminEmail, setAdminEmail] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});

  const reset = () => {
    setSlug('');
    setSlugTouched(false);
    setName('');
    setMode('optional');
    setAdminEmail('');
    setError(null);
    setFieldErrors({});
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const errs: Record<string, string> = {};
    const s = slug.trim().toLowerCase();
    if (!SLUG.test(s)) errs.slug = 'Use 1-40 lower-case letters, digits or dashes (not starting or ending with a dash).';
    else if (s === 'platform') errs.slug = '"platform" is reserved for the operators.';
    if (!name.trim()) errs.name = 'Enter the name people will see.';
    if (adminEmail.trim() && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(adminEmail.trim())) errs.adminEmail = 'That email address is not valid.';
    setFieldErrors(errs);
    if (Object.keys(errs).length) return;
    setBusy(true);
    setError(null);
    try {
      const r = await api.post<{ tenant: Tenant; admin?: { email: string } }>('/v1/tenants', {
        slug: s,
        name: name.trim(),
        mfaMode: mode,
        ...(adminEmail.trim() ? { adminEmail: adminEmail.trim() } : {}),
      });
      notifications.show({
        color: 'green',
        title: 'Tenant created',
        message: r.admin ? `${r.tenant.name} is ready; a setup link was sent to ${r.admin.email}.` : `${r.tenant.name} is ready.`,
      });
      reset();
      onCreated(r.tenant);
    } catch (err) {
      const field = err instanceof ApiError ? err.details?.field : undefined;
      if (field === 'slug' || field === 'email') setFieldErrors({ [field === 'email' ? 'adminEmail' : 'slug']: (err as ApiError).words });
      else setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal opened={opened} onClose={() => !busy && onClose()} title="New tenant" size="md" centered>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <Stack gap="sm">
          <ErrorAlert error={error} title="The tenant could not be created" />
          <TextInput
            label="Name"
            description="Shown to the tenant's staff, e.g. the contact center's name."
            value={name}
            onChange={(e) => {
              const v = e.currentTarget.value;
              setName(v);
              if (!slugTouched) setSlug(suggestSlug(v));
            }}
            error={fieldErrors.name}
            required
            data-autofocus
            maxLength={200}
          />
          <TextInput
            label="Slug"
            description="Staff type it at sign-in. Lower-case letters, digits and dashes."
            value={slug}
            onChange={(e) => {
              setSlugTouched(true);
              setSlug(e.currentTarget.value);
            }}
            error={fieldErrors.slug}
            required
            maxLength={40}
            autoComplete="off"
            spellCheck={false}
          />
          <Stack gap={4}>
            <Input.Label id="new-tenant-mfa">Multi-factor authentication</Input.Label>
            <SegmentedControl aria-labelledby="new-tenant-mfa" value={mode} onChange={(v) => setMode(v as MfaMode)} data={mfaModes.map((m) => ({ value: m, label: mfaModeWords[m].label }))} fullWidth />
            <Text size="xs" c="dimmed">{mfaModeWords[mode].explain}</Text>
          </Stack>
          <TextInput
            label="First administrator's email (optional)"
            description="They receive a one-time setup link."
            type="email"
            value={adminEmail}
            onChange={(e) => setAdminEmail(e.currentTarget.value)}
            error={fieldErrors.adminEmail}
            maxLength={254}
            autoComplete="off"
          />
          <Group justify="flex-end" mt="xs">
            <Button variant="default" onClick={onClose} disabled={busy}>Cancel</Button>
            <Button type="submit" loading={busy}>Create tenant</Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
