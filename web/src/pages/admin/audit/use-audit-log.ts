/** The audit log for a tenant and filters: the newest page, then older pages on demand. */
import { useCallback, useEffect, useRef, useState } from 'react';
import { dateRangeError, fetchEvents, type AuditEvent, type AuditFilters } from './audit-api';

export function useAuditLog(tenant: string, filters: AuditFilters) {
  const [events, setEvents] = useState<AuditEvent[] | undefined>(undefined);
  const [next, setNext] = useState<number | null>(null);
  const [loading, setLoading] = useState(true);
  const [loadingMore, setLoadingMore] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [generation, setGeneration] = useState(0);
  const ctrl = useRef<AbortController | null>(null);
  const key = JSON.stringify(filters);

  useEffect(() => {
    if (!tenant || dateRangeError(filters)) return;
    ctrl.current?.abort();
    const c = new AbortController();
    ctrl.current = c;
    setLoading(true);
    fetchEvents(tenant, filters, null, c.signal)
      .then((p) => {
        if (c.signal.aborted) return;
        setEvents(p.events);
        setNext(p.nextBefore);
        setError(null);
      })
      .catch((e) => !c.signal.aborted && setError(e))
      .finally(() => !c.signal.aborted && setLoading(false));
    return () => c.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [tenant, key, generation]);

  const loadMore = useCallback(async () => {
    if (next === null) return;
    const c = ctrl.current ?? new AbortController();
    setLoadingMore(true);
    try {
      const p = await fetchEvents(tenant, filters, next, c.signal);
      if (c.signal.aborted) return;
      setEvents((prev) => [...(prev ?? []), ...p.events]);
      setNext(p.nextBefore);
      setError(null);
    } catch (e) {
      if (!c.signal.aborted) setError(e);
    } finally {
      setLoadingMore(false);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [tenant, key, next]);

  return { events, hasMore: next !== null, loading, loadingMore, error, loadMore, refresh: () => setGeneration((g) => g + 1) };
}
