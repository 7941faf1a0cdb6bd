/** Where to go after signing in: only a path on this site ("/..."), never another origin ("//host", "/\host"). */
export function safeNext(raw: string | null | undefined, fallback = '/'): string {
  if (!raw || !raw.startsWith('/') || raw.startsWith('//') || raw.startsWith('/\\')) return fallback;
  if (/[\u0000-\u001f]/.test(raw)) return fallback;
  try {
    const u = new URL(raw, location.origin);
    if (u.origin !== location.origin) return fallback;
    if (u.pathname === '/signin' || u.pathname === '/setup') return fallback;
    return u.pathname + u.search + u.hash;
  } catch {
    return fallback;
  }
}

const TENANT_KEY = 'callwarden.lastTenant';

export const lastTenant = {
  get: (): string => {
    try {
      return localStorage.getItem(TENANT_KEY) ?? '';
    } catch {
      return '';
    }
  },
  set: (t: string): void => {
    try {
      localStorage.setItem(TENANT_KEY, t);
    } catch {
      /* private mode: nothing to remember */
    }
  },
};
