// Migration and DR tasks (the engine's task/ module), their event stream, switchover and failover.

import { call, channel } from "./core";
import type { CommandError } from "./core";
import type { Mode } from "./assessments";

/** Where a task is: the Cloud Migration Phase column. */
export type Phase = "precheck" | "basebackup" | "startup" | "increment" | "switch" | "success" | "failed" | "cancelled";

/** The link between source and destination. */
export type ReplicationState = "unstarted" | "catchup" | "streaming" | "disconnect" | "finish";

/** Server-side compression of the full copy. */
export type Compression = "none" | "lz4" | "zstd" | "gzip";

/** The phases a task passes through on the way to Completed, in order. */
export const PHASE_ORDER: Phase[] = ["precheck", "basebackup", "startup", "increment", "switch", "success"];

/** One end of a task. */
export interface TaskInstance {
  id: string;
  name: string;
}

/** A migration or DR task. */
export interface Task {
  id: string;
  mode: Mode;
  source: TaskInstance;
  destination: TaskInstance;
  report_id: string;
  phase: Phase;
  replication: ReplicationState;
  failed_in?: Phase;
  error?: string;
  created_at: string;
  phase_times: Partial<Record<Phase, string>>;
  options: { max_rate?: unknown; compression: Compression };
  layout: { slot_name: string; data_dir: string };
  copy?: { start_lsn: string; end_lsn: string; timeline: number; system_id: string; bytes: number; files: number };
  attempts: number;
}

/** Full-copy progress. */
export interface CopyProgress {
  stage: string;
  bytes_done: number;
  bytes_total: number | null;
  rate_bytes_per_sec: number;
  eta_secs: number | null;
  /** Tablespace being copied, when the engine reports it. */
  tablespace?: string | null;
}

/** The replication slot as the source reports it. */
export interface SlotSample {
  active: boolean;
  restart_lsn: string | null;
  retained_bytes: number | null;
  wal_status: string | null;
  safe_wal_size: number | null;
}

/** One monitoring sample: the lag chart's points. */
export interface Sample {
  replication: ReplicationState | null;
  source_lsn: string | null;
  replay_lag_bytes: number | null;
  flush_lag_bytes: number | null;
  sent_lag_bytes: number | null;
  replay_lag_ms: number | null;
  dest_replay_delay_ms: number | null;
  slot: SlotSample | null;
  dest_free_bytes: number | null;
  source_error: string | null;
  dest_error: string | null;
}

/** A stored task event (the engine's `TaskEvent`, flattened with its `event` tag). */
export type TaskEvent = { seq: number; task_id: string; at: string } & (
  | { event: "phase"; from: Phase; to: Phase }
  | { event: "replication"; from: ReplicationState; to: ReplicationState }
  | ({ event: "copy" } & CopyProgress)
  | ({ event: "sample" } & Sample)
  | { event: "note"; message: string }
  | { event: "warning"; code: string; message: string }
  | { event: "error"; message: string }
);

/** A task with who drives it and its latest progress or sample. */
export interface TaskStatus extends Task {
  driver: { pid: number; host: string; acquired_at: string } | null;
  progress: CopyProgress | null;
  sample: Sample | null;
}

/** What a task's watch channel carries. */
export type TaskStreamEvent = { event: "task_event"; data: TaskEvent } | { event: "status"; data: TaskStatus };

export const listTasks = () => call<TaskStatus[]>("task_list");
export const taskStatus = (id: string) => call<TaskStatus>("task_status", { id });

export const createTask = (request: {
  source: string;
  destination: string;
  mode: Mode;
  report_id: string;
  max_rate?: string;
  compression: Compression;
}) => call<Task>("task_create", { request });

export const cancelTask = (id: string) => call<Task>("task_cancel", { id });
export const retryTask = (id: string) => call<Task>("task_retry", { id });

/** Streams a task's events after `after` (0: all), then the live ones, to `onEvent`. */
export const watchTask = (id: string, after: number, onEvent: (e: TaskStreamEvent) => void) =>
  call<null>("task_watch", { id, after, onEvent: channel(onEvent) });

/** One guardrail, freshly evaluated. */
export interface Guardrail {
  id: string;
  title: string;
  ok: boolean;
  message: string;
}

/** The fence the switchover will use. */
export type FenceStrategy = "shutdown" | "sql" | "none";

/** What the Switchover dialog shows before the DBA confirms. */
export interface SwitchoverPlan {
  guardrails: Guardrail[];
  fence: FenceStrategy;
  default_timeout_secs: number;
  destination_endpoint: string;
}

/** The switchover's steps. */
export type SwitchStep = "guardrails" | "fence" | "catchup" | "promote" | "verify";

/** The switchover's outcome. */
export interface SwitchoverResult {
  /** Measured write-unavailability window. */
  window_ms: number;
  new_primary: string;
  timeline: number | null;
  fence: FenceStrategy;
}

/** What a switchover (or failover) streams. */
export type SwitchoverEvent =
  | { event: "step"; data: { step: SwitchStep; state: "running" | "done" | "failed"; message?: string; bytes_behind?: number } }
  | { event: "succeeded"; data: SwitchoverResult }
  | { event: "rolled_back"; data: { reason: string } }
  | { event: "failed"; data: CommandError };

export const switchoverPlan = (id: string) => call<SwitchoverPlan>("switchover_plan", { id });

/** Starts the switchover; its steps go to `onEvent`. */
export const startSwitchover = (id: string, timeoutSecs: number, onEvent: (e: SwitchoverEvent) => void) =>
  call<null>("switchover_start", { id, timeoutSecs, onEvent: channel(onEvent) });

/** Re-subscribes to a switchover under way (after a reload). */
export const watchSwitchover = (id: string, onEvent: (e: SwitchoverEvent) => void) =>
  call<null>("switchover_watch", { id, onEvent: channel(onEvent) });

/** Starts a failover (DR): promote now without the source. */
export const startFailover = (id: string, onEvent: (e: SwitchoverEvent) => void) =>
  call<null>("failover_start", { id, onEvent: channel(onEvent) });
