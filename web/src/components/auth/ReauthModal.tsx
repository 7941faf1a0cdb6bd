/**
 * "Confirm it's you": a re-authentication flow (POST /v1/me/reauth, then the same password and
 * second-factor steps as sign-in) that refreshes the current session's authentication time.
 */
import { Modal, Text } from '@mantine/core';
import { api } from '../../lib/api';
import { ConfirmFlow } from './ConfirmFlow';
import type { StepResult } from './flow';

export function ReauthModal({ opened, purpose, onDone, onCancel }: { opened: boolean; purpose: string; onDone(): void; onCancel(): void }) {
  return (
    <Modal opened={opened} onClose={onCancel} title={<Text fw={700} size="lg">Confirm it’s you</Text>} centered size="md" closeOnClickOutside={false}>
      {opened && (
        <ConfirmFlow
          passwordIntro={`For your security, enter your password to ${purpose}.`}
          begin={() => api.post<StepResult>('/v1/me/reauth')}
          onDone={onDone}
          onCancel={onCancel}
        />
      )}
    </Modal>
  );
}
