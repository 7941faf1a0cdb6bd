/**
 * Each listed user's sign-in methods (the list endpoint does not carry them): read from the user's
 * detail, a few at a time. `undefined` while loading, `null` when it could not be read.
 */
import { useEffect, useState } from 'react';
import { usersApi } from '../../../components/admin/admin-api';
import type { AdminUser, UserFactor } from '../../../components/admin/types';

const PARALLEL = 4;

export function useFactorSummaries(tenant: string, users: AdminUser[] | undefined): Record<string, UserFactor[] | null | undefined> {
  const [byUser, setByUser] = useState<Record<string, UserFactor[] | null | undefined>>({});
  useEffect(() => {
    if (!users || !tenant) return;
    const ctrl = new AbortController();
    // invited users have not set up the account, so they have no sign-in methods yet
    setByUser((prev) => Object.fromEntries(users.map((u) => [u.id, u.status === 'invited' ? [] : prev[u.id]])));
    const queue = users.filter((u) => u.status !== 'invited').map((u) => u.id);
    const worker = async () => {
      for (let id = queue.shift(); id && !ctrl.signal.aborted; id = queue.shift()) {
        let factors: UserFactor[] | null;
        try {
          factors = (await usersApi.get(tenant, id, ctrl.signal)).factors;
        } catch {
          factors = null;
        }
        if (!ctrl.signal.aborted) setByUser((m) => ({ ...m, [id]: factors }));
      }
    };
    for (let i = 0; i < PARALLEL; i++) void worker();
    return () => ctrl.abort();
  }, [tenant, users]);
  return byUser;
}
