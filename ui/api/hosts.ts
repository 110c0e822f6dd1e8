// Remote hosts reached over SSH, where the same pgrelocate runs as an agent (issue 13).

import { call, channel } from "./core";

import type { AddHostRequest } from "./generated/AddHostRequest";
import type { AgentPlacement } from "./generated/AgentPlacement";
import type { Facts } from "./generated/Facts";
import type { HostCheck } from "./generated/HostCheck";
import type { HostKey } from "./generated/HostKey";
import type { HostProgress } from "./generated/HostProgress";
import type { HostRecord } from "./generated/HostRecord";

// The types are generated from the engine's Rust types (ui/api/generated/, see
// src-tauri/src/bindings.rs); this file only names them for the pages.
export type { AddHostRequest, AgentPlacement, Facts, HostCheck, HostKey, HostProgress, HostRecord };

export const listHosts = () => call<HostRecord[]>("host_list");

/** Adds a host; its steps go to `onProgress`. Fails with `host_key_unknown` for a key not trusted yet. */
export const addHost = (request: AddHostRequest, onProgress: (step: HostProgress) => void) =>
  call<HostCheck>("host_add", { request, onProgress: channel(onProgress) });

/** The keys a not-yet-trusted host offers (nothing is trusted or stored). */
export const offeredHostKeys = (request: AddHostRequest) => call<HostKey[]>("host_offered_keys", { request });

/** Reaches a host, makes sure its agent runs and reads its facts; steps go to `onProgress`. */
export const checkHost = (name: string, onProgress: (step: HostProgress) => void) =>
  call<HostCheck>("host_check", { name, onProgress: channel(onProgress) });

export const removeHost = (name: string) => call<null>("host_remove", { name });
