/** Live data: load now, then again 2 s after each answer (never two loads at once), until unmounted. */
import { useEffect, useState } from 'preact/hooks';
import { asApiError, type ApiError } from './api.ts';

export const POLL_MS = 2000;

export interface Polled<T> {
  value?: T;
  error?: ApiError;
  /** load again now (after an action) */
  refresh(): void;
}

export function usePoll<T>(load: () => Promise<T>, deps: unknown[]): Polled<T> {
  const [state, setState] = useState<{ value?: T; error?: ApiError }>({});
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      try {
        const value = await load();
        if (!stopped) setState({ value });
      } catch (error) {
        // keep what was shown: a failed poll should not blank the page
        if (!stopped) setState((previous) => ({ value: previous.value, error: asApiError(error) }));
      }
      if (!stopped) timer = setTimeout(run, POLL_MS);
    };
    void run();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
    // the caller names what the load depends on
  }, [...deps, tick]);
  return { ...state, refresh: () => setTick((n) => n + 1) };
}
