/** Loading and empty states for admin tables. */
import { EmptyState, Skeleton, Stack } from '@mantine/core';
import type { ReactNode } from 'react';

export function TableSkeleton({ rows = 5, label }: { rows?: number; label: string }) {
  return (
    <Stack gap="xs" aria-busy="true" aria-label={label}>
      {Array.from({ length: rows }, (_, i) => <Skeleton key={i} h={36} radius="sm" />)}
    </Stack>
  );
}

export function Empty({ title, description, action, icon = '○' }: { title: string; description?: ReactNode; action?: ReactNode; icon?: ReactNode }) {
  return (
    <EmptyState py="xl" title={title} description={description} icon={<span aria-hidden="true" style={{ fontSize: 22 }}>{icon}</span>} withIndicatorBackground>
      {action && <EmptyState.Actions>{action}</EmptyState.Actions>}
    </EmptyState>
  );
}
