/**
 * A verification kept live: read once, then follow the server-sent events stream
 * (`/v1/tenants/<t>/verifications/<id>/events`, event `verification`, data = the view), falling back
 * to reading it every 2 s when the stream cannot be used. Stops once the flow is over. The signed
 * assertion arrives only on the response that verified the flow; it is kept aside so later reads
 * (which never carry it) do not drop it.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, seg } from '../../lib/api';
import { terminal, type VerificationView } from './types';

export type LiveMode = 'connecting' | 'stream' | 'polling' | 'ended';

export const POLL_MS = 2000;

/** Keeps the newer of two views: a finished flow never goes back to pending, and completed methods never shrink. */
export function newer(prev: VerificationView | undefined, next: VerificationView): VerificationView {
  if (!prev || prev.id !== next.id) return next;
  if (terminal(prev.state) && !terminal(next.state)) return prev;
  if (next.completedMethods.length < prev.completedMethods.length) return prev;
  return next;
}

export function useVerification(tenant: string, id: string) {
  const [view, setView] = useState<VerificationView>();
  const [loadError, setLoadError] = useState<unknown>();
  const [assertion, setAssertion] = useState<string>();
  const [mode, setMode] = useState<LiveMode>('connecting');
  const base = `/v1/tenants/${seg(tenant)}/verifications/${seg(id)}`;

  const apply = useCallback((next: VerificationView) => {
    if (next.assertion) setAssertion(next.assertion);
    setView((prev) => newer(prev, next));
  }, []);

  const refresh = useCallback(async () => {
    const v = await api.get<VerificationView>(base);
    apply(v);
    return v;
  }, [base, apply]);

  useEffect(() => {
    setLoadError(undefined);
    refresh().catch(setLoadError);
  }, [refresh]);

  const pending = view?.state === 'pending';
  const applyRef = useRef(apply);
  applyRef.current = apply;

  useEffect(() => {
    if (!pending) {
      if (view) setMode('ended');
      return;
    }
    let timer: ReturnType<typeof setInterval> | undefined;
    let es: EventSource | undefined;
    const poll = () => {
      setMode('polling');
      timer = setInterval(() => void api.get<VerificationView>(base).then((v) => applyRef.current(v)).catch(() => undefined), POLL_MS);
    };
    if (typeof EventSource === 'function') {
      setMode('connecting');
      es = new EventSource(`${base}/events`, { withCredentials: true });
      es.addEventListener('open', () => setMode('stream'));
      es.addEventListener('verification', (e) => {
        try {
          applyRef.current(JSON.parse((e as MessageEvent<string>).data) as VerificationView);
        } catch {
          /* a malformed event is ignored; the next one or a poll corrects the view */
        }
      });
      es.addEventListener('error', () => {
        es?.close();
        es = undefined;
        if (!timer) poll();
      });
    } else {
      poll();
    }
    return () => {
      es?.close();
      if (timer) clearInterval(timer);
    };
    // the subscription lives while the flow is pending; views arriving meanwhile do not restart it
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [base, pending]);

  return { view, loadError, assertion, mode, apply, refresh, base };
}
