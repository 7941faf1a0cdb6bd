/**
 * The tenant the admin and agent screens act in: the user's own, or for a platform operator the one
 * picked in the header (kept for the browser tab).
 */
import { createContext, useContext, useState, type ReactNode } from 'react';
import { useSession } from './session';

const Ctx = createContext<{ tenant: string; setTenant(t: string): void } | null>(null);
const KEY = 'callwarden.tenant';

export function TenantProvider({ children }: { children: ReactNode }) {
  const { me, isOperator } = useSession();
  const [picked, setPicked] = useState<string | null>(() => sessionStorage.getItem(KEY));
  const tenant = isOperator && picked ? picked : (me?.tenant ?? '');
  const setTenant = (t: string) => {
    sessionStorage.setItem(KEY, t);
    setPicked(t);
  };
  return <Ctx.Provider value={{ tenant, setTenant }}>{children}</Ctx.Provider>;
}

export function useTenant() {
  const v = useContext(Ctx);
  if (!v) throw new Error('useTenant outside TenantProvider');
  return v;
}
