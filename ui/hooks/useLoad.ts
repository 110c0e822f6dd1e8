import { useCallback, useEffect, useRef, useState } from "react";
import { asCommandError } from "../api/core";
import type { CommandError } from "../api/core";

/** What a page loaded: the data, the error, whether a load is under way, and how to reload. */
export interface Loaded<T> {
  data: T | undefined;
  error: CommandError | undefined;
  loading: boolean;
  reload: () => Promise<void>;
}

/**
 * Loads data for a page and reloads it when `deps` change. With `everyMs`, reloads on
 * that period while mounted (lists whose rows change on their own). A reload keeps the
 * previous data on screen until the new data arrives.
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], everyMs?: number): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<CommandError>();
  const [loading, setLoading] = useState(true);
  const latest = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  const reload = useCallback(async () => {
    const ticket = ++latest.current;
    setLoading(true);
    try {
      const value = await loadRef.current();
      if (ticket === latest.current) {
        setData(value);
        setError(undefined);
      }
    } catch (e) {
      if (ticket === latest.current) setError(asCommandError(e));
    } finally {
      if (ticket === latest.current) setLoading(false);
    }
  }, []);

  useEffect(() => {
    void reload();
    if (!everyMs) return;
    const timer = window.setInterval(() => void reload(), everyMs);
    return () => window.clearInterval(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, everyMs]);

  return { data, error, loading, reload };
}
