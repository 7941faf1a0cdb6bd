/** After a forced enrollment: the recovery codes, shown once, and "I have saved these" before going on. */
import { Button, Checkbox, Stack } from '@mantine/core';
import { useState } from 'react';
import { RecoveryCodes } from '../../components/auth/RecoveryCodes';

export function SavedCodesStep({ codes, who, onContinue, busy }: { codes: string[]; who: { email: string; tenant: string }; onContinue(): void; busy: boolean }) {
  const [saved, setSaved] = useState(false);
  return (
    <Stack gap="md">
      <RecoveryCodes codes={codes} who={who} />
      <Checkbox label="I have saved these codes somewhere safe" checked={saved} onChange={(e) => setSaved(e.currentTarget.checked)} />
      <Button size="md" fullWidth disabled={!saved} loading={busy} onClick={onContinue}>Continue</Button>
    </Stack>
  );
}
