import { call } from "./core";
import type { AppInfo } from "./generated/AppInfo";

// Generated from the shell's Rust type (ui/api/generated/, see src-tauri/src/bindings.rs).
export type { AppInfo };

/** The app's version, state directory and log folder. */
export function appInfo(): Promise<AppInfo> {
  return call<AppInfo>("app_info");
}
