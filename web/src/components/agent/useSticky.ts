/** State that outlives its component for this page load (a tab switched away and back keeps it), by key. */
import { useCallback, useState } from 'react';

const kept = new Map<string, unknown>();

export function useSticky<T>(key: string, initial: T): [T, (v: T) => void] {
  const [value, setValue] = useState<T>(() => (kept.has(key) ? (kept.get(key) as T) : initial));
  const set = useCallback(
    (v: T) => {
      kept.set(key, v);
      setValue(v);
    },
    [key],
  );
  return [value, set];
}
