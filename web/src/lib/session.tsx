/** The signed-in user (GET /v1/me), shared by every screen; `refresh` after sign-in, `signOut` ends it. */
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { api, setUnauthenticatedHandler } from './api';

export interface Me {
  userId: string;
  email: string;
  tenantId: string;
  tenant: string;
  roles: string[];
  permissions: string[];
  session: { id: string; aal: number; methods: string[]; authTime: string; expiresAt: string };
}

interface SessionValue {
  me: Me | null;
  loading: boolean;
  /** Set when the server ended the session while the console was open. */
  ended: boolean;
  refresh(): Promise<Me | null>;
  signOut(): Promise<void>;
  can(permission: string): boolean;
  isOperator: boolean;
}

const Ctx = createContext<SessionValue | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null>(null);
  const [loading, setLoading] = useState(true);
  const [ended, setEnded] = useState(false);
  const refresh = useCallback(async () => {
    try {
      const m = await api.get<Me>('/v1/me');
      setMe(m);
      setEnded(false);
      return m;
    } catch {
      setMe(null);
      return null;
    } finally {
      setLoading(false);
    }
  }, []);
  const signOut = useCallback(async () => {
    await api.post('/v1/auth/logout').catch(() => undefined);
    setMe(null);
  }, []);
  useEffect(() => {
    void refresh();
    setUnauthenticatedHandler(() => {
      setMe((prev) => {
        if (prev) setEnded(true);
        return null;
      });
    });
    return () => setUnauthenticatedHandler(undefined);
  }, [refresh]);
  // a session ended elsewhere (disabled user, revoked session) closes the console within 30 s even when idle
  useEffect(() => {
    if (!me) return;
    const timer = setInterval(() => void api.get<Me>('/v1/me').catch(() => undefined), 30_000);
    return () => clearInterval(timer);
  }, [me]);
  const value: SessionValue = {
    me,
    loading,
    ended,
    refresh,
    signOut,
    can: (p) => !!me?.permissions.includes(p),
    isOperator: !!me?.permissions.includes('platform.tenants.manage'),
  };
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useSession(): SessionValue {
  const v = useContext(Ctx);
  if (!v) throw new Error('useSession outside SessionProvider');
  return v;
}
