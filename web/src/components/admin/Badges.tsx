/** Small status pieces shared by the admin screens: role badges, a user's status, MFA enrollment. */
import { Badge, Group, Skeleton, Stack, Text, Tooltip } from '@mantine/core';
import { factorLabel, isSecondFactor, roleLabel, roleShortLabel } from './permissions';
import type { AdminUser, FactorSummary } from './types';

export function RoleBadges({ roles }: { roles: string[] }) {
  if (!roles.length) return <Text size="sm" c="dimmed">No roles</Text>;
  return (
    <Group gap={4}>
      {roles.map((r) => (
        <Tooltip key={r} label={roleLabel(r)} disabled={roleLabel(r) === roleShortLabel(r)}>
          <Badge variant="light" color={r === 'tenant_admin' || r === 'platform_operator' ? 'violet' : 'blue'} tt="none" radius="sm" style={{ flexShrink: 0, overflow: 'visible' }}>
            {roleShortLabel(r)}
          </Badge>
        </Tooltip>
      ))}
    </Group>
  );
}

const statusLook: Record<AdminUser['status'], { color: string; label: string; hint: string }> = {
  active: { color: 'green', label: 'Active', hint: 'Can sign in' },
  invited: { color: 'yellow', label: 'Invited', hint: 'Has not finished setting up the account yet' },
  disabled: { color: 'gray', label: 'Disabled', hint: 'Cannot sign in; every session was ended' },
};

export function UserStatusBadge({ user }: { user: Pick<AdminUser, 'status' | 'locked'> }) {
  const look = statusLook[user.status];
  return (
    <Group gap={4} wrap="nowrap">
      <Tooltip label={look.hint}>
        <Badge color={look.color} variant="dot" tt="none" style={{ flexShrink: 0, overflow: 'visible' }}>{look.label}</Badge>
      </Tooltip>
      {user.locked && (
        <Tooltip label="Locked after too many failed attempts">
          <Badge color="red" variant="light" tt="none">Locked</Badge>
        </Tooltip>
      )}
    </Group>
  );
}

/**
 * MFA enrollment from a user's factors (`undefined` while loading, `null` when it could not be read):
 * a yes/no badge and the second factors by name; recovery codes only back them up.
 */
export function MfaSummary({ factors, stacked = false }: { factors: FactorSummary[] | null | undefined; stacked?: boolean }) {
  if (factors === undefined) return <Skeleton h={18} w={90} aria-label="Loading sign-in methods" />;
  if (factors === null) return <Text size="sm" c="dimmed">Unknown</Text>;
  const second = [...new Set(factors.filter((f) => isSecondFactor(f.kind)).map((f) => factorLabel(f.kind)))];
  if (!second.length) return <Badge color="orange" variant="light" tt="none" style={{ overflow: 'visible' }}>Not enrolled</Badge>;
  const parts = (
    <>
      <Badge color="teal" variant="light" tt="none" style={{ flexShrink: 0, alignSelf: 'flex-start', overflow: 'visible' }}>Enrolled</Badge>
      <Text size="xs" c="dimmed">{second.join(', ')}</Text>
    </>
  );
  return stacked ? <Stack gap={2}>{parts}</Stack> : <Group gap={6} wrap="nowrap">{parts}</Group>;
}
