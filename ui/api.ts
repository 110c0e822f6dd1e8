// Typed wrappers over the Rust commands. Components call these, never `invoke` directly,
// so a command's name and shape are written down once.

import { invoke } from "@tauri-apps/api/core";

/** How every command fails: a stable code and a message for people. */
export interface CommandError {
  code: string;
  message: string;
}

/** What `app_info` returns. */
export interface AppInfo {
  version: string;
  state_dir: string;
}

/** Status of an instance, as in the console's Status column. */
export type InstanceStatus =
  | "running"
  | "stopped"
  | "creating"
  | "migrating_in"
  | "maintaining"
  | "fenced"
  | "error";

/** One row of the Instances page. */
export interface Instance {
  id: string;
  name: string;
  status: InstanceStatus;
  role: "primary" | "standby";
  /** Server version, e.g. "15.18". */
  engine_version: string;
  kind: "managed" | "external";
  host: string;
  port: number;
  /** Disk use of the data folder; managed instances only. */
  storage: { used_bytes: number; free_bytes: number } | null;
}

/** Turns whatever a rejected `invoke` carried into a `CommandError`. */
export function asCommandError(err: unknown): CommandError {
  if (typeof err === "object" && err !== null && "code" in err && "message" in err) {
    const e = err as { code: unknown; message: unknown };
    return { code: String(e.code), message: String(e.message) };
  }
  return { code: "ipc", message: String(err) };
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (err) {
    throw asCommandError(err);
  }
}

/** The app's version and state directory. */
export function appInfo(): Promise<AppInfo> {
  return call<AppInfo>("app_info");
}
