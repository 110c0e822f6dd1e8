// Instances, their credentials and what their detail pages read.

import { call } from "./core";

/** libpq's sslmode. */
export type SslMode = "disable" | "prefer" | "require" | "verify-ca" | "verify-full";

/** Connection parameters of a server (never a password). */
export interface Endpoint {
  host: string;
  port: number;
  user: string;
  dbname: string;
  sslmode: SslMode;
  ssl_root_cert?: string;
  /** Seconds to wait for the TCP connection (10 when absent). */
  connect_timeout_secs?: number;
  /** libpq's require_auth, e.g. "scram-sha-256" or "!password"; absent: the default policy. */
  require_auth?: string;
}

/** What pgrelocate needs to run a managed instance. */
export interface ManagedDetails {
  data_dir: string;
  bin_dir: string;
  major: number;
  os_user?: string;
  created_dir?: string;
}

/** A PostgreSQL version. */
export interface ServerVersion {
  major: number;
  minor: number;
}

/** What "test connection" found. */
export interface ConnectionTest {
  version: ServerVersion;
  version_text: string;
  system_identifier: string | null;
  role: "primary" | "standby";
  /** default_transaction_read_only is on (the SQL fence sets it). */
  read_only: boolean;
  tls: string | null;
  round_trip_ms: number;
  /** How the server authenticated the test login ("none": it asked for nothing). */
  auth_method: "none" | "password" | "md5" | "scram-sha-256" | "gss" | "sspi";
}

/** The engine's view of an instance's state. */
export type EngineState = "running" | "stopped" | "missing" | "unreachable" | "unknown";

/** One stored instance with its live status (the engine's `InstanceStatus`). */
export interface InstanceStatus {
  id: string;
  name: string;
  endpoint: Endpoint;
  managed?: ManagedDetails;
  created_at: string;
  kind: "managed" | "external";
  state: EngineState;
  connection: ConnectionTest | null;
  error: string | null;
  storage: { used_bytes: number; free_bytes: number } | null;
  /** The task that retired it (it was that task's source): Start brings it up in recovery. */
  retired?: Retirement | null;
}

/** Which task retired an instance: it switched or failed over to `successor`. */
export interface Retirement {
  task_id: string;
  successor: string;
  operation: "switchover" | "failover" | null;
  at: string | null;
}

/** What Start did. */
export interface Started extends InstanceRecord {
  /** The server runs in recovery and refuses every write. */
  in_recovery: boolean;
  retired: Retirement | null;
}

/** A stored instance (no live status). */
export interface InstanceRecord {
  id: string;
  name: string;
  endpoint: Endpoint;
  managed?: ManagedDetails;
  created_at: string;
}

/** The Instances page's data. */
export interface InstanceList {
  instances: InstanceStatus[];
  creating: string[];
}

/** A folder of PostgreSQL binaries found on this host. */
export interface Installation {
  bin_dir: string;
  version: ServerVersion;
  version_text: string;
  binaries: string[];
  can_run_servers: boolean;
}

/** Connection parameters typed in a form. */
export interface ConnectionInput {
  host: string;
  port: number;
  user: string;
  dbname?: string;
  sslmode: SslMode;
  /** Seconds, as typed; the default when absent. */
  connect_timeout?: string;
  /** libpq's require_auth list, as typed; the default policy when absent. */
  require_auth?: string;
}

/** Where an instance's password comes from (never the password). */
export type Credential = { kind: "keyring" } | { kind: "password_file"; path: string } | { kind: "none" };

/** A setting as pg_settings shows it. */
export interface Parameter {
  name: string;
  value: string;
  source: string;
  pending_restart: boolean;
}

/** The end of a server log. */
export interface LogTail {
  path: string;
  lines: string[];
  truncated: boolean;
}

/** What remove did. */
export interface Removal {
  instance: InstanceRecord;
  deleted_dir: string | null;
  kept_data_dir: string | null;
  warning: string | null;
}

export const listInstances = () => call<InstanceList>("instance_list");
export const instanceStatus = (name: string) => call<InstanceStatus>("instance_status", { name });
export const installations = () => call<Installation[]>("installations");

export const createInstance = (request: {
  name: string;
  major: number;
  port?: number;
  data_dir?: string;
  password?: string;
}) => call<InstanceRecord>("instance_create", { request });

export const registerInstance = (request: { name: string; connection: ConnectionInput; password?: string }) =>
  call<{ instance: InstanceRecord; connection: ConnectionTest | null }>("instance_register", { request });

export const testConnection = (connection: ConnectionInput, password?: string) =>
  call<ConnectionTest>("connection_test", { connection, password: password || null });

/** Starts an instance; `confirm` (its name, typed by the DBA) starts a retired source as a writable primary. */
export const startInstance = (name: string, confirm?: string) =>
  call<Started>("instance_start", { name, confirm: confirm ?? null });
export const stopInstance = (name: string) => call<InstanceRecord>("instance_stop", { name });
export const removeInstance = (name: string) => call<Removal>("instance_remove", { name });
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
