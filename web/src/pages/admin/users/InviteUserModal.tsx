/** Invite a user: an email and roles; the server sends a one-time setup link (an admin never picks a password). */
import { Alert, Button, Group, Modal, Stack, Text, TextInput } from '@mantine/core';
import { useEffect, useState } from 'react';
import { usersApi } from '../../../components/admin/admin-api';
import type { Role } from '../../../components/admin/types';
import { ErrorAlert } from '../../../components/ErrorAlert';
import type { ApiError } from '../../../lib/api';
import { RoleChecklist } from './RoleChecklist';

const looksLikeEmail = (v: string) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v.trim());

export function InviteUserModal({ opened, tenant, roles, onClose, onInvited }: { opened: boolean; tenant: string; roles: Role[]; onClose(): void; onInvited(): void }) {
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [picked, setPicked] = useState<string[]>(['agent']);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [tried, setTried] = useState(false);

  const reset = () => {
    setEmail('');
    setName('');
    setPicked(['agent']);
    setError(null);
    setSentTo(null);
    setTried(false);
  };
  useEffect(() => {
    if (opened) reset();
  }, [opened]);

  const emailError = tried && !looksLikeEmail(email) ? 'Enter an email address, like name@example.com' : undefined;
  const rolesError = tried && picked.length === 0 ? 'Pick at least one role' : undefined;
  const fieldError = (e: unknown) => (e as ApiError | null)?.details?.field === 'email' ? (e as ApiError).words : undefined;

  const submit = async () => {
    setTried(true);
    if (!looksLikeEmail(email) || picked.length === 0) return;
    setBusy(true);
    setError(null);
    try {
      const u = await usersApi.invite(tenant, { email: email.trim(), roles: picked, ...(name.trim() ? { displayName: name.trim() } : {}) });
      setSentTo(u.email);
      onInvited();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal opened={opened} onClose={() => !busy && onClose()} title="Invite user" size="lg" centered>
      {sentTo ? (
        <Stack gap="md">
          <Alert color="green" variant="light" title="Invitation sent" role="status">
            A one-time setup link was sent to <strong>{sentTo}</strong>. They choose their own password with it; the link works once and
            expires. You can send a new one from their details while the invitation is open.
          </Alert>
          <Group justify="flex-end" gap="xs">
            <Button variant="default" onClick={reset}>Invite another</Button>
            <Button onClick={onClose} data-autofocus>Done</Button>
          </Group>
        </Stack>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
          noValidate
        >
          <Stack gap="md">
            <Text size="sm" c="dimmed">The person gets an email with a one-time link to choose a password and, if your policy requires it, set up a second factor.</Text>
            <Group grow align="flex-start">
              <TextInput
                label="Email"
                type="email"
                required
                autoComplete="off"
                value={email}
                onChange={(e) => setEmail(e.currentTarget.value)}
                error={emailError ?? fieldError(error)}
                data-autofocus
              />
              <TextInput label="Name (optional)" value={name} onChange={(e) => setName(e.currentTarget.value)} autoComplete="off" />
            </Group>
            <RoleChecklist roles={roles} value={picked} onChange={setPicked} error={rolesError} />
            {!fieldError(error) && <ErrorAlert error={error} />}
            <Group justify="flex-end" gap="xs">
              <Button variant="default" onClick={onClose} disabled={busy}>Cancel</Button>
              <Button type="submit" loading={busy}>Send invitation</Button>
            </Group>
          </Stack>
        </form>
      )}
    </Modal>
  );
}
