/** Calls to the tenant-administration API: users, approvals, roles. */
import { api, seg } from '../../lib/api';
import type { AdminUser, AdminUserDetail, Approval, Role } from './types';

const t = (tenant: string) => `/v1/tenants/${seg(tenant)}`;
const u = (tenant: string, id: string) => `${t(tenant)}/users/${seg(id)}`;

export const usersApi = {
  list: (tenant: string, signal?: AbortSignal) => api.get<{ users: AdminUser[] }>(`${t(tenant)}/users?limit=500`, { signal }),
  get: (tenant: string, id: string, signal?: AbortSignal) => api.get<AdminUserDetail>(u(tenant, id), { signal }),
  invite: (tenant: string, body: { email: string; displayName?: string; roles: string[] }) => api.post<AdminUser>(`${t(tenant)}/users`, body),
  setRoles: (tenant: string, id: string, roles: string[]) => api.put<AdminUser>(`${u(tenant, id)}/roles`, { roles }),
  disable: (tenant: string, id: string) => api.post(`${u(tenant, id)}/disable`),
  enable: (tenant: string, id: string) => api.post(`${u(tenant, id)}/enable`),
  unlock: (tenant: string, id: string) => api.post(`${u(tenant, id)}/unlock`),
  resendInvitation: (tenant: string, id: string) => api.post(`${u(tenant, id)}/resend-invitation`),
  /** Asks for every second factor to be removed; a second administrator approves it. */
  requestFactorReset: (tenant: string, id: string, reason: string) => api.post<{ approval: Approval }>(`${u(tenant, id)}/reset-factors`, { reason }),
  /** One factor (a security key, the authenticator app) cannot be used until resumed. */
  suspendFactor: (tenant: string, id: string, factorId: string) => api.post(`${u(tenant, id)}/factors/${seg(factorId)}/suspend`),
  resumeFactor: (tenant: string, id: string, factorId: string) => api.post(`${u(tenant, id)}/factors/${seg(factorId)}/resume`),
};

export const approvalsApi = {
  list: (tenant: string, status: 'pending' | 'all', signal?: AbortSignal) => api.get<{ approvals: Approval[] }>(`${t(tenant)}/approvals?status=${status}`, { signal }),
  approve: (tenant: string, id: string) => api.post<{ approval: Approval }>(`${t(tenant)}/approvals/${seg(id)}/approve`),
  reject: (tenant: string, id: string, reason?: string) => api.post<{ approval: Approval }>(`${t(tenant)}/approvals/${seg(id)}/reject`, reason ? { reason } : {}),
  cancel: (tenant: string, id: string) => api.post<{ approval: Approval }>(`${t(tenant)}/approvals/${seg(id)}/cancel`),
};

export const rolesApi = {
  save: (tenant: string, name: string, body: { description: string; permissions: string[] }) => api.put<Role>(`${t(tenant)}/roles/${seg(name)}`, body),
  remove: (tenant: string, name: string) => api.del(`${t(tenant)}/roles/${seg(name)}`),
};
