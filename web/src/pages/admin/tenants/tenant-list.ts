/** The operator's list of tenants (GET /v1/tenants), shared by the tenants screen and the header picker. */
import { useEffect, useState } from 'react';
import { api } from '../../../lib/api';
import { useAsync } from '../../../lib/use-async';

export interface Tenant {
  id: string;
  slug: string;
  name: string;
  isPlatform: boolean;
  policyVersion: number;
  createdAt: string;
  disabledAt: string | null;
}

const listeners = new Set<() => void>();

/** Tells every mounted list (the picker, the tenants screen) to load again, e.g. after a tenant was created. */
export function tenantsChanged(): void {
  for (const l of listeners) l();
}

/** The tenants, for a platform operator; `enabled: false` loads nothing (other users cannot list tenants). */
export function useTenantList(enabled: boolean) {
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    const l = () => setGeneration((g) => g + 1);
    listeners.add(l);
    return () => void listeners.delete(l);
  }, []);
  return useAsync(
    async (signal) => (enabled ? (await api.get<{ tenants: Tenant[] }>('/v1/tenants', { signal })).tenants : []),
    [enabled, generation],
  );
}
