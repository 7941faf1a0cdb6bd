/** Each listed user's sign-in methods, as the user list reports them (active factor kinds). */
import { useMemo } from 'react';
import type { AdminUser, FactorSummary } from '../../../components/admin/types';

export function useFactorSummaries(_tenant: string, users: AdminUser[] | undefined): Record<string, FactorSummary[] | null | undefined> {
  return useMemo(() => Object.fromEntries((users ?? []).map((u) => [u.id, u.methods.map((kind) => ({ kind, label: '' }))])), [users]);
}
