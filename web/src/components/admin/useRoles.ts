/** The tenant's roles (built-in and custom) and the permissions a custom role may hold. */
import { api, seg } from '../../lib/api';
import { useAsync } from '../../lib/use-async';
import type { RolesResponse } from './types';

export function useRoles(tenant: string, enabled = true) {
  return useAsync<RolesResponse | null>(
    (signal) => (enabled && tenant ? api.get<RolesResponse>(`/v1/tenants/${seg(tenant)}/roles`, { signal }) : Promise.resolve(null)),
    [tenant, enabled],
  );
}
