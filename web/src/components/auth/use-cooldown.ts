/** A countdown in whole seconds, for "try again in ..." after a rate limit or attempt delay. */
import { useCallback, useEffect, useState } from 'react';

export function useCooldown(): { secondsLeft: number; start(seconds: number | undefined): void; clear(): void } {
  const [until, setUntil] = useState(0);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (until <= Date.now()) return;
    const timer = setInterval(() => {
      setNow(Date.now());
      if (Date.now() >= until) clearInterval(timer);
    }, 250);
    return () => clearInterval(timer);
  }, [until]);
  const start = useCallback((seconds: number | undefined) => {
    if (!seconds || seconds <= 0) return;
    setNow(Date.now());
    setUntil(Date.now() + seconds * 1000);
  }, []);
  const clear = useCallback(() => setUntil(0), []);
  return { secondsLeft: Math.max(0, Math.ceil((until - now) / 1000)), start, clear };
}
