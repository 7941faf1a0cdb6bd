/** Who is who in the audit log: user ids to emails (the tenant's users, and the signed-in user). */
import { api, seg } from '../../../lib/api';
import { useSession } from '../../../lib/session';
import { useAsync } from '../../../lib/use-async';
import type { AuditEvent } from './audit-api';

export interface Person {
  id: string;
  email: string;
  displayName: string;
}

export function useDirectory(tenant: string) {
  const { me, can } = useSession();
  const allowed = can('users.read');
  const { data } = useAsync(
    async (signal) => (allowed ? (await api.get<{ users: Person[] }>(`/v1/tenants/${seg(tenant)}/users?limit=500`, { signal })).users : []),
    [tenant, allowed],
  );
  const people = new Map<string, Person>((data ?? []).map((u) => [u.id, u]));
  if (me) people.set(me.userId, { id: me.userId, email: me.email, displayName: 'You' });
  return { people: data ?? [], byId: people, meId: me?.userId };
}

const short = (id: string) => (id.length > 12 ? id.slice(0, 8) + '…' : id);

/** Who did it; with `meId`, the signed-in user's own events say "(you)". */
export function actorWords(e: Pick<AuditEvent, 'actorType' | 'actorId'>, byId: Map<string, Person>, meId?: string): string {
  switch (e.actorType) {
    case 'user': {
      if (!e.actorId) return 'A user';
      const p = byId.get(e.actorId);
      if (p) return e.actorId === meId ? `${p.email} (you)` : p.email;
      return `User ${short(e.actorId)}`;
    }
    case 'anonymous':
      return 'Not signed in';
    case 'system':
      return 'Callwarden';
    case 'cli':
      return 'Command line';
    case 'api_key':
      return e.actorId ? `API key ${short(e.actorId)}` : 'API key';
    default:
      return e.actorId ? `${e.actorType} ${short(e.actorId)}` : e.actorType;
  }
}

export function targetWords(e: Pick<AuditEvent, 'targetType' | 'targetId'>, byId: Map<string, Person>): string {
  const id = e.targetId;
  switch (e.targetType) {
    case null:
    case undefined:
      return '—';
    case 'user':
      return id ? (byId.get(id)?.email ?? `User ${short(id)}`) : 'A user';
    case 'policy':
      return id ? `Policy version ${id}` : 'Policy';
    case 'tenant':
      return 'This tenant';
    case 'audit_log':
      return 'Audit log';
    case 'flow':
      return 'Sign-in flow';
    case 'role':
      return id ? `Role ${id}` : 'Role';
    default: {
      const t = e.targetType.replace(/_/g, ' ');
      return id ? `${t[0]!.toUpperCase()}${t.slice(1)} ${short(id)}` : t;
    }
  }
}
