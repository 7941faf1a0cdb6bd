/** Test fixtures that insert rows directly through the repositories (no services involved). */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Store } from '../../src/storage/store.js';
import type { TenantRow } from '../../src/storage/repositories/tenants.js';
import type { UserRow } from '../../src/storage/repositories/users.js';

/** A short random suffix so fixtures in one shared store never collide. */
export const uniq = (): string => randomBytes(5).toString('hex');

/** A random 32-byte value, the shape of a stored token hash. */
export const hash32 = (): Buffer => randomBytes(32);

export async function seedTenant(store: Store, opts: { slug?: string; policy?: unknown; now?: Date; isPlatform?: boolean } = {}): Promise<TenantRow> {
  return store.tenants.create({
    id: randomUUID(),
    slug: opts.slug ?? `t-${uniq()}`,
    name: 'Test tenant',
    isPlatform: opts.isPlatform ?? false,
    policy: opts.policy ?? { test: true },
    now: opts.now ?? new Date(),
    createdBy: null,
  });
}

export async function seedUser(
  store: Store,
  tenantId: string,
  opts: { email?: string; roles?: string[]; status?: 'invited' | 'active'; passwordHash?: string | null; now?: Date } = {},
): Promise<UserRow> {
  return store.users.create({
    id: randomUUID(),
    tenantId,
    email: opts.email ?? `u-${uniq()}@example.com`,
    displayName: 'Test user',
    roles: opts.roles ?? ['agent'],
    status: opts.status ?? 'active',
    passwordHash: opts.passwordHash ?? (opts.status === 'invited' ? null : 'argon2-placeholder'),
    now: opts.now ?? new Date(),
  });
}

/** A fresh tenant with one user in it. */
export async function seedTenantAndUser(
  store: Store,
  user: Parameters<typeof seedUser>[2] = {},
): Promise<{ tenant: TenantRow; user: UserRow }> {
  const tenant = await seedTenant(store);
  return { tenant, user: await seedUser(store, tenant.id, user) };
}

/** 1..n (or from..from+n-1). */
export const range = (n: number, from = 1): number[] => Array.from({ length: n }, (_, i) => i + from);
/** `base` plus whole seconds. */
export const at = (base: Date, seconds: number): Date => new Date(base.getTime() + seconds * 1000);
