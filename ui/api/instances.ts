// Instances, their credentials and what their detail pages read.

import { call } from "./core";

import type { AdoptInput } from "./generated/AdoptInput";
import type { ConnectionInput } from "./generated/ConnectionInput";
import type { ConnectionTest } from "./generated/ConnectionTest";
import type { Credential } from "./generated/Credential";
import type { Installation } from "./generated/Installation";
import type { InstanceList } from "./generated/InstanceList";
import type { InstanceRecord } from "./generated/InstanceRecord";
import type { InstanceStatus } from "./generated/InstanceStatus";
import type { LogTail } from "./generated/LogTail";
import type { Parameter } from "./generated/Parameter";
import type { Removal } from "./generated/Removal";
import type { SandboxPlan } from "./generated/SandboxPlan";
import type { Started } from "./generated/Started";

// The types are generated from the engine's Rust types (ui/api/generated/, see
// src-tauri/src/bindings.rs); this file only names them for the pages.
export type {
  AdoptInput,
  ConnectionInput,
  ConnectionTest,
  Credential,
  Installation,
  InstanceList,
  InstanceRecord,
  InstanceStatus,
  LogTail,
  Parameter,
  Removal,
  SandboxPlan,
  Started,
};
export type { Endpoint } from "./generated/Endpoint";
export type { EngineState } from "./generated/EngineState";
export type { ManagedDetails } from "./generated/ManagedDetails";
export type { Retirement } from "./generated/Retirement";
export type { ServerVersion } from "./generated/ServerVersion";
export type { SslMode } from "./generated/SslMode";

export const listInstances = () => call<InstanceList>("instance_list");
export const instanceStatus = (name: string) => call<InstanceStatus>("instance_status", { name });
export const installations = () => call<Installation[]>("installations");

export const createInstance = (request: {
  name: string;
  major: number;
  port?: number;
  data_dir?: string;
  password?: string;
  /** A registered host's name; absent: this machine. */
  host?: string;
}) => call<InstanceRecord>("instance_create", { request });

/**
 * The names of the registered hosts, for Create Instance's Host field. `host_list` answers
 * with the engine's host records (name, SSH destination, key fingerprint, when added); only
 * the names are needed here.
 */
export const listHostNames = async () => (await call<{ name: string }[]>("host_list")).map((h) => h.name);

export const registerInstance = (request: { name: string; connection: ConnectionInput; password?: string }) =>
  call<{ instance: InstanceRecord; connection: ConnectionTest | null; same_endpoint: string[] }>("instance_register", { request });

/**
 * Registers a running cluster (here, or on the registered host `request.host` names) as a
 * managed instance, once its password and identity are checked.
 */
export const adoptInstance = (request: AdoptInput) => call<InstanceRecord>("instance_adopt", { request });

export const testConnection = (connection: ConnectionInput, password?: string) =>
  call<ConnectionTest>("connection_test", { connection, password: password || null });

/** Starts an instance; `confirm` (its name, typed by the DBA) starts a retired source as a writable primary. */
export const startInstance = (name: string, confirm?: string) =>
  call<Started>("instance_start", { name, confirm: confirm ?? null });
export const stopInstance = (name: string) => call<InstanceRecord>("instance_stop", { name });
export const removeInstance = (name: string) => call<Removal>("instance_remove", { name });
export const sandboxPlan = () => call<SandboxPlan>("sandbox_plan");
export const createSandbox = () => call<unknown>("sandbox_create");
export const removeSandbox = () => call<string[]>("sandbox_remove");

export const credentialStatus = (name: string) => call<Credential>("credential_status", { name });
/** Sends a typed password to the keyring; nothing comes back. */
export const setCredential = (name: string, password: string) => call<null>("credential_set", { name, password });
export const forgetCredential = (name: string) => call<null>("credential_forget", { name });
export const testCredential = (name: string) => call<ConnectionTest>("credential_test", { name });

export const instanceParameters = (name: string) => call<Parameter[]>("instance_parameters", { name });
export const instanceLog = (name: string, lines: number) => call<LogTail>("instance_log", { name, lines });
export const hostAddresses = () => call<string[]>("host_addresses");
