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

/** Invokes a command; a rejection becomes a `CommandError`. */
export async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (err) {
    throw asCommandError(err);
  }
}

/** A channel whose messages go to `onEvent` (long work streams its events through one). */
export function channel<E>(onEvent: (event: E) => void): Channel<E> {
  return new Channel<E>(onEvent);
}
