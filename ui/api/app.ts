import { call } from "./core";

/** What `app_info` returns. */
export interface AppInfo {
  version: string;
  state_dir: string;
  log_dir: string | null;
}

/** The app's version, state directory and log folder. */
export function appInfo(): Promise<AppInfo> {
  return call<AppInfo>("app_info");
}
