/** New recovery codes, shown once: copy or download them, confirm they are saved, done. */
import { Alert, Button, Checkbox, Modal, Stack, Text } from '@mantine/core';
import { useState } from 'react';
import { RecoveryCodes } from '../../components/auth/RecoveryCodes';
import { useSession } from '../../lib/session';

export function SavedCodesModal({ codes, title = 'Your new recovery codes', intro, onDone }: { codes: string[] | null; title?: string; intro?: string; onDone(): void }) {
  return (
    <Modal opened={!!codes} onClose={() => undefined} withCloseButton={false} closeOnClickOutside={false} closeOnEscape={false} title={<Text fw={700} size="lg">{title}</Text>} centered size="md">
      {codes && <Body codes={codes} intro={intro} onDone={onDone} />}
    </Modal>
  );
}

function Body({ codes, intro, onDone }: { codes: string[]; intro?: string; onDone(): void }) {
  const { me } = useSession();
  const [saved, setSaved] = useState(false);
  return (
    <Stack gap="md">
      <Text size="sm">{intro ?? 'Each code signs you in once if you cannot use your authenticator app. Any codes you had before no longer work.'}</Text>
      <Alert color="yellow" variant="light" p="xs">These codes are shown only now. Save them in a password manager or print them.</Alert>
      <RecoveryCodes codes={codes} who={{ email: me?.email, tenant: me?.tenant }} />
      <Checkbox label="I have saved these codes somewhere safe" checked={saved} onChange={(e) => setSaved(e.currentTarget.checked)} />
      <Button disabled={!saved} onClick={onDone}>Done</Button>
    </Stack>
  );
}
