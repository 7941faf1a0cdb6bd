/**
 * Adding a security key (a roaming USB/NFC key) or a passkey (this device's fingerprint, face or
 * screen lock, or a phone): the registration starts with fresh authentication, the user names the
 * key, the browser asks the key, and the answer is sent back. The first second factor of an account
 * brings recovery codes, shown once.
 */
import { Button, Group, Modal, Stack, Text, TextInput } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useState } from 'react';
import type { ResponseOf } from '../../api';
import type { AuthProblem } from '../../components/auth/auth-errors';
import { isCanceled, useFreshAuth } from '../../components/auth/fresh-auth';
import { ProblemAlert } from '../../components/auth/ProblemAlert';
import { createKey, keyProblem, type CreationOptions } from '../../components/auth/webauthn';
import { api, seg } from '../../lib/api';
import { errorWords } from '../../lib/errors';
import { SavedCodesModal } from './SavedCodesModal';

export type KeyKind = 'security_key' | 'passkey';
type Registration = ResponseOf<'/v1/me/factors/webauthn', 'post', 201>;
type Registered = ResponseOf<'/v1/me/factors/webauthn/{registrationId}', 'post'>;

const kinds: Record<KeyKind, { add: string; title: string; purpose: string; intro: string; placeholder: string }> = {
  security_key: {
    add: 'Add security key',
    title: 'Add a security key',
    purpose: 'add a security key',
    intro: 'A USB or NFC key such as a YubiKey. After you continue, insert the key (or hold it near) and touch it when it blinks.',
    placeholder: 'Blue YubiKey',
  },
  passkey: {
    add: 'Add passkey',
    title: 'Add a passkey',
    purpose: 'add a passkey',
    intro: 'A passkey on this device (fingerprint, face or screen lock) or on your phone. It can also sign you in without a password.',
    placeholder: 'Work laptop',
  },
};

const problemOf = (e: unknown): AuthProblem => keyProblem(e, 'register') ?? { title: 'The key was not added', message: errorWords(e) };

export function AddKeyButtons({ onAdded, disabled }: { onAdded(): void; disabled?: boolean }) {
  const withFreshAuth = useFreshAuth();
  const [starting, setStarting] = useState<KeyKind | null>(null);
  const [open, setOpen] = useState<{ kind: KeyKind; reg: Registration | null } | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);

  const begin = (kind: KeyKind) => withFreshAuth(() => api.post<Registration>('/v1/me/factors/webauthn', { kind }), kinds[kind].purpose);

  const start = async (kind: KeyKind) => {
    setStarting(kind);
    try {
      setOpen({ kind, reg: await begin(kind) });
    } catch (e) {
      if (!isCanceled(e)) {
        const p = problemOf(e);
        notifications.show({ color: 'red', title: 'Could not start adding the key', message: p.message });
      }
    } finally {
      setStarting(null);
    }
  };

  const added = (r: Registered, kind: KeyKind) => {
    setOpen(null);
    notifications.show({ color: 'teal', title: kind === 'passkey' ? 'Passkey added' : 'Security key added', message: `${r.label} can now be used to sign in.` });
    if (r.recoveryCodes?.length) setCodes(r.recoveryCodes);
    else onAdded();
  };

  return (
    <>
      <Group gap="xs">
        {(Object.keys(kinds) as KeyKind[]).map((k) => (
          <Button key={k} variant={k === 'security_key' ? 'filled' : 'light'} onClick={() => void start(k)} loading={starting === k} disabled={disabled || (!!starting && starting !== k)}>
            {kinds[k].add}
          </Button>
        ))}
      </Group>
      <Modal opened={!!open} onClose={() => setOpen(null)} title={<Text fw={700} size="lg">{open ? kinds[open.kind].title : ''}</Text>} centered size="md" closeOnClickOutside={false}>
        {open && (
          <RegisterBody
            kind={open.kind}
            registration={open.reg}
            begin={() => begin(open.kind)}
            finish={(reg, credential, label) =>
              withFreshAuth(() => api.post<Registered>(`/v1/me/factors/webauthn/${seg(reg.registrationId)}`, { credential, label }), kinds[open.kind].purpose)
            }
            onDone={(r) => added(r, open.kind)}
            onCancel={() => setOpen(null)}
          />
        )}
      </Modal>
      <SavedCodesModal
        codes={codes}
        title="Save your recovery codes"
        intro="Your key is set up. If you lose it, each of these codes signs you in once."
        onDone={() => { setCodes(null); onAdded(); }}
      />
    </>
  );
}

function RegisterBody({ kind, registration, begin, finish, onDone, onCancel }: {
  kind: KeyKind;
  registration: Registration | null;
  begin(): Promise<Registration>;
  finish(reg: Registration, credential: unknown, label: string | undefined): Promise<Registered>;
  onDone(r: Registered): void;
  onCancel(): void;
}) {
  const [label, setLabel] = useState('');
  const [reg, setReg] = useState(registration);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<AuthProblem | null>(null);
  const words = kinds[kind];

  const register = async () => {
    setBusy(true);
    setProblem(null);
    try {
      // a challenge lasts 5 minutes and serves one answer: after a failure or a long pause, a new one
      const current = reg && new Date(reg.expiresAt).getTime() > Date.now() + 5_000 ? reg : await begin();
      setReg(current);
      const credential = await createKey(current.options as CreationOptions);
      onDone(await finish(current, credential, label.trim() || undefined));
    } catch (e) {
      setReg(null);
      if (!isCanceled(e)) setProblem(problemOf(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(e) => { e.preventDefault(); if (!busy) void register(); }} noValidate>
      <Stack gap="md">
        <Text size="sm">{words.intro}</Text>
        <ProblemAlert problem={problem} />
        <TextInput
          label="Name"
          description="So you can tell your keys apart, for example where you keep it."
          placeholder={words.placeholder}
          value={label}
          onChange={(e) => setLabel(e.currentTarget.value)}
          maxLength={64}
          data-autofocus
        />
        <Group justify="flex-end" gap="sm">
          <Button variant="default" onClick={onCancel}>Cancel</Button>
          <Button type="submit" loading={busy}>{problem ? 'Try again' : 'Continue'}</Button>
        </Group>
      </Stack>
    </form>
  );
}
