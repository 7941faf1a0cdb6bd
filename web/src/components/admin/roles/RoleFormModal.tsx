/** Create a custom role (name, description, optionally starting from a built-in role) or edit its description. */
import { Button, Group, Modal, Select, Stack, Text, TextInput, Textarea } from '@mantine/core';
import { useEffect, useState } from 'react';
import { ErrorAlert } from '../../ErrorAlert';
import { rolesApi } from '../admin-api';
import { roleLabel } from '../permissions';
import type { Role } from '../types';

const NAME = /^[a-z][a-z0-9_]{1,39}$/;

interface Props {
  opened: boolean;
  tenant: string;
  /** The role being edited; absent to create one. */
  editing: Role | null;
  roles: Role[];
  /** Permissions a custom role may hold. */
  assignable: string[];
  onClose(): void;
  onSaved(r: Role): void;
}

export function RoleFormModal({ opened, tenant, editing, roles, assignable, onClose, onSaved }: Props) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [from, setFrom] = useState<string | null>('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (!opened) return;
    setName(editing?.name ?? '');
    setDescription(editing?.description ?? '');
    setFrom('');
    setError(null);
  }, [opened, editing]);

  const taken = !editing && roles.some((r) => r.name === name);
  const nameError = !editing && name && (!NAME.test(name) ? 'Use 2–40 lowercase letters, digits or underscores, starting with a letter.' : taken ? 'A role with this name already exists.' : undefined);
  const valid = editing || (NAME.test(name) && !taken);

  const submit = async () => {
    if (!valid) return;
    setBusy(true);
    setError(null);
    try {
      const base = editing ? editing.permissions : (roles.find((r) => r.name === from)?.permissions.filter((p) => assignable.includes(p)) ?? []);
      const saved = await rolesApi.save(tenant, editing?.name ?? name, { description: description.trim(), permissions: base });
      onSaved(saved);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal opened={opened} onClose={() => !busy && onClose()} title={editing ? `Edit ${editing.name}` : 'New custom role'} centered size="md">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <Stack gap="sm">
          {!editing && (
            <TextInput
              label="Role name"
              description="Lowercase, e.g. qa_reviewer. It cannot be changed later."
              required
              value={name}
              onChange={(e) => setName(e.currentTarget.value.toLowerCase())}
              error={nameError || undefined}
              autoComplete="off"
              data-autofocus
            />
          )}
          <Textarea label="Description" description="What people with this role do." autosize minRows={2} maxLength={500} value={description} onChange={(e) => setDescription(e.currentTarget.value)} />
          {!editing && (
            <Select
              label="Start with the permissions of"
              data={[{ value: '', label: 'No permissions (choose them in the matrix)' }, ...roles.map((r) => ({ value: r.name, label: roleLabel(r.name) }))]}
              value={from}
              onChange={setFrom}
              allowDeselect={false}
            />
          )}
          {!editing && <Text size="xs" c="dimmed">After creating the role, tick its permissions in the matrix and save.</Text>}
          <ErrorAlert error={error} />
          <Group justify="flex-end" gap="xs">
            <Button variant="default" onClick={onClose} disabled={busy}>Cancel</Button>
            <Button type="submit" loading={busy} disabled={!valid}>{editing ? 'Save' : 'Create role'}</Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
