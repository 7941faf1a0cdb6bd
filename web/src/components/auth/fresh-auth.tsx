/**
 * Actions that need a recent authentication (adding or removing a sign-in method, new recovery
 * codes): run the action; when the server answers `reauthentication_required`, ask for the password
 * (and second factor) in a modal, then run it again. Cancelling rejects with ReauthCanceled.
 */
import { createContext, useCallback, useContext, useRef, useState, type ReactNode } from 'react';
import { ApiError } from '../../lib/api';
import { ReauthModal } from './ReauthModal';

export class ReauthCanceled extends Error {
  constructor() {
    super('Re-authentication canceled');
  }
}

export const isCanceled = (e: unknown) => e instanceof ReauthCanceled;

type WithFreshAuth = <T>(action: () => Promise<T>, purpose: string) => Promise<T>;

const Ctx = createContext<WithFreshAuth | null>(null);

export function FreshAuthProvider({ children }: { children: ReactNode }) {
  const [purpose, setPurpose] = useState<string | null>(null);
  const waiter = useRef<{ resolve(): void; reject(e: unknown): void } | null>(null);
  const withFreshAuth = useCallback(async <T,>(action: () => Promise<T>, why: string): Promise<T> => {
    try {
      return await action();
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 'reauthentication_required')) throw e;
      await new Promise<void>((resolve, reject) => {
        waiter.current = { resolve, reject };
        setPurpose(why);
      });
      return action();
    }
  }, []);
  const settle = (ok: boolean) => {
    const w = waiter.current;
    waiter.current = null;
    setPurpose(null);
    if (ok) w?.resolve();
    else w?.reject(new ReauthCanceled());
  };
  return (
    <Ctx.Provider value={withFreshAuth}>
      {children}
      <ReauthModal opened={purpose !== null} purpose={purpose ?? ''} onDone={() => settle(true)} onCancel={() => settle(false)} />
    </Ctx.Provider>
  );
}

export function useFreshAuth(): WithFreshAuth {
  const v = useContext(Ctx);
  if (!v) throw new Error('useFreshAuth outside FreshAuthProvider');
  return v;
}
