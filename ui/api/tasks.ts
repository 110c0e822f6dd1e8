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
export type TaskStreamEvent = { event: "task_event"; data: TaskEvent };

export const listTasks = () => call<TaskStatus[]>("task_list");
export const taskStatus = (id: string) => call<TaskStatus>("task_status", { id });

export const createTask = (request: {
  source: string;
  destination: string;
  mode: Mode;
  report_id: string;
  max_rate?: string;
  compression: Compression;
  tablespace_mappings: { old: string; new: string }[];
}) => call<Task>("task_create", { request });

export const cancelTask = (id: string) => call<Task>("task_cancel", { id });
export const retryTask = (id: string) => call<Task>("task_retry", { id });

/** Streams a task's events after `after` (0: all), then the live ones, to `onEvent`. Resolves to the subscription's id. */
export const watchTask = (id: string, after: number, onEvent: (e: TaskStreamEvent) => void) =>
  call<number>("task_watch", { id, after, onEvent: channel(onEvent) });

/** Ends a subscription. */
export const unwatchTask = (watch: number) => call<null>("task_unwatch", { watch });

/** How a guardrail came out. */
export type GuardrailStatus = "pass" | "warning" | "error";

/** One guardrail, freshly evaluated. */
export interface Guardrail {
  id: string;
  title: string;
  status: GuardrailStatus;
  message: string;
}

/** The fence a switchover uses. */
export type FenceStrategy = "shutdown" | "sql";

/** What the Switchover dialog shows before the DBA confirms (the engine's `Preview`). */
export interface SwitchoverPreview {
  guardrails: Guardrail[];
  strategy: FenceStrategy | null;
  guarantee: string | null;
  ready: boolean;
}

/** The catch-up timeout the dialog proposes, in seconds. */
export const DEFAULT_CATCHUP_TIMEOUT_SECS = 300;

/** A step as the engine reports it (its `Progress`, tagged by `step`). */
export type Progress =
  | { step: "guardrails"; checks: Guardrail[] }
  | { step: "fencing"; strategy: FenceStrategy; guarantee: string }
  | { step: "fence_recorded"; record: unknown }
  | { step: "fenced"; strategy: FenceStrategy; terminated_sessions: number; blocked_databases: string[]; elapsed_ms: number }
  | { step: "catch_up"; target_lsn: string; received_lsn: string | null; replayed_lsn: string | null; remaining_bytes: number }
  | { step: "caught_up"; target_lsn: string; replayed_lsn: string; elapsed_ms: number }
  | { step: "promoting" }
  | { step: "promoted"; method: string; timeline: number | null; elapsed_ms: number }
  | { step: "destination_unfenced"; databases: string[] }
  | { step: "writes_verified"; databases: { database: string; committed: boolean }[]; write_unavailable_ms: number }
  | { step: "standby_cleaned"; files: string[] }
  | { step: "slot"; outcome: unknown }
  | { step: "rolling_back"; reason: string }
  | { step: "rolled_back"; source_accepts_writes: boolean; problems: string[] }
  | { step: "note"; message: string };

/** What a successful switchover measured (the parts the dialog shows). */
export interface SwitchoverReport {
  strategy: FenceStrategy;
  guarantee: string;
  timeline: number | null;
  window: { fence_started_at: string; writes_resumed_at: string; write_unavailable_ms: number; steps: { step: string; ms: number }[] };
  new_primary: string;
  warnings: string[];
  next_steps: string[];
}

/** What a successful failover did (the parts the dialog shows). */
export interface FailoverReport {
  timeline: number | null;
  promote_ms: number;
  gap_bytes: number | null;
  source_reachable: boolean;
  warnings: string[];
  next_steps: string[];
}

/** What a switchover (or failover) streams: steps, then one outcome. */
export type SwitchoverEvent =
  | { event: "step"; data: Progress }
  | { event: "succeeded"; data: SwitchoverReport }
  | { event: "failover_succeeded"; data: FailoverReport }
  | { event: "rolled_back"; data: { reason: string; message: string } }
  | { event: "failed"; data: CommandError };

export const switchoverPreview = (id: string) => call<SwitchoverPreview>("switchover_preview", { id });

/** Starts the switchover; its steps go to `onEvent`. */
export const startSwitchover = (id: string, timeoutSecs: number, onEvent: (e: SwitchoverEvent) => void) =>
  call<null>("switchover_start", { id, timeoutSecs, onEvent: channel(onEvent) });

/** Re-subscribes to a switchover or failover under way (after a reload). */
export const watchSwitchover = (id: string, onEvent: (e: SwitchoverEvent) => void) =>
  call<null>("switchover_watch", { id, onEvent: channel(onEvent) });

/** Starts a failover (DR): promote now without the source. */
export const startFailover = (id: string, onEvent: (e: SwitchoverEvent) => void) =>
  call<null>("failover_start", { id, onEvent: channel(onEvent) });
