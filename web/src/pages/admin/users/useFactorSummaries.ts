/** Each listed user's sign-in methods, as the user list reports them (active factor kinds). */
import { useMemo } from 'react';
import type { AdminUser, UserFactor } from '../../../components/admin/types';

export function useFactorSummaries(_tenant: string, users: AdminUser[] | undefined): Record<string, UserFactor[] | null | undefined> {
  return useMemo(() => Object.fromEntries((users ?? []).map((u) => [u.id, u.methods.map((kind) => ({ kind, label: '' }))])), [users]);
}
