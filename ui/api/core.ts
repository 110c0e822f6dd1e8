// The one place that calls `invoke`: every wrapper in ui/api/ goes through `call`, so a
// rejected command always arrives as a `CommandError`.

import { Channel, invoke } from "@tauri-apps/api/core";
import type { CommandError } from "./generated/CommandError";
import type { ErrorCode } from "./generated/ErrorCode";

/** How every command fails: a stable code (the engine's, generated) and a message for people. */
export type { CommandError, ErrorCode };

/** Turns whatever a rejected `invoke` carried into a `CommandError`. */
export function asCommandError(err: unknown): CommandError {
  if (typeof err === "object" && err !== null && "code" in err && "message" in err) {
    const e = err as { code: unknown; message: unknown };
    return { code: String(e.code) as ErrorCode, message: String(e.message) };
  }
  return { code: "ipc", message: err instanceof Error ? err.message : String(err) };
}

/** IPC measures kept before they are cleared. */
const MEASURES_KEPT = 500;

/** Invokes a command; a rejection becomes a `CommandError`. Each call leaves a User Timing
 * measure (`ipc <command>`), so the Web Inspector and the window tests see what a page waits for. */
export async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  const sent = performance.now();
  try {
    return await invoke<T>(cmd, args);
  } catch (err) {
    throw asCommandError(err);
  } finally {
    // Best effort: timing must never fail a command. The browser keeps measures until they
    // are cleared: a page left open for weeks keeps the newest few hundred.
    try {
      if (performance.getEntriesByType("measure").length >= MEASURES_KEPT) performance.clearMeasures();
      performance.measure(`ipc ${cmd}`, { start: sent, end: performance.now() });
    } catch {
      /* a browser without User Timing Level 3 */
    }
  }
}

/** A channel whose messages go to `onEvent` (long work streams its events through one). */
export function channel<E>(onEvent: (event: E) => void): Channel<E> {
  return new Channel<E>(onEvent);
}
