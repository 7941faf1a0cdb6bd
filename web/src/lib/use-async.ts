/** Loads data for a screen with loading and error states; `reload` fetches again. */
import { useCallback, useEffect, useRef, useState } from 'react';

export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[]) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(true);
  const ctrl = useRef<AbortController | null>(null);
  const reload = useCallback(async () => {
    ctrl.current?.abort();
    const c = new AbortController();
    ctrl.current = c;
    setLoading(true);
    try {
      const d = await load(c.signal);
      if (!c.signal.aborted) {
        setData(d);
        setError(undefined);
      }
    } catch (e) {
      if (!c.signal.aborted) setError(e);
    } finally {
      if (!c.signal.aborted) setLoading(false);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  useEffect(() => {
    void reload();
    return () => ctrl.current?.abort();
  }, [reload]);
  return { data, error, loading, reload, setData };
}
