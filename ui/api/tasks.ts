import type { EventPage } from "./generated/EventPage";
import type { LagHistory } from "./generated/LagHistory";
import type { Period } from "./generated/Period";
// Migration and DR tasks (the engine's task/ module), their event stream, switchover and failover.

import { call, channel } from "./core";
import type { Mode } from "./assessments";
import type { Compression } from "./generated/Compression";
import type { Phase } from "./generated/Phase";
import type { FailoverPreview } from "./generated/FailoverPreview";
import type { FenceStrategy } from "./generated/FenceStrategy";
import type { Hook } from "./generated/Hook";
import type { Preview } from "./generated/Preview";
import type { SwitchEvent } from "./generated/SwitchEvent";
import type { Task } from "./generated/Task";
import type { TaskStatus } from "./generated/TaskStatus";
import type { TaskStream } from "./generated/TaskStream";

// The types are generated from the engine's Rust types (ui/api/generated/, see
// src-tauri/src/bindings.rs); this file only names them for the pages.
export type { Compression, Phase, Task, TaskStatus };
export type { ReplicationState } from "./generated/ReplicationState";
export type { TaskInstance } from "./generated/TaskInstance";
export type { CopyProgress } from "./generated/CopyProgress";
export type { SlotSample } from "./generated/SlotSample";
export type { Sample } from "./generated/Sample";
export type { TaskEvent } from "./generated/TaskEvent";
export type { GuardrailStatus } from "./generated/GuardrailStatus";
export type { Guardrail } from "./generated/Guardrail";
export type { FenceStrategy };
export type { FenceChoice } from "./generated/FenceChoice";
export type { Hook } from "./generated/Hook";
export type { HookAt } from "./generated/HookAt";
export type { HookRun } from "./generated/HookRun";
export type { Progress } from "./generated/Progress";
export type { SwitchoverReport } from "./generated/SwitchoverReport";
export type { FailoverReport } from "./generated/FailoverReport";
export type { Housekeeping } from "./generated/Housekeeping";
export type { FailoverPreview };

/** What the Switchover dialog shows before the DBA confirms (the engine's `Preview`). */
export type SwitchoverPreview = Preview;

/** What a task's watch channel carries. */
export type TaskStreamEvent = TaskStream;

/** What a switchover (or failover) streams: steps, then one outcome. */
export type SwitchoverEvent = SwitchEvent;

/** The phases a task passes through on the way to Completed, in order. */
export const PHASE_ORDER: Phase[] = ["precheck", "basebackup", "startup", "increment", "switch", "success"];

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
export const reverseTask = (id: string) => call<Task>("task_reverse", { id });

/** Streams a task's events after `after` (0: all), then the live ones, to `onEvent`. Resolves to the subscription's id. */
export const watchTask = (id: string, after: number, onEvent: (e: TaskStreamEvent) => void) =>
  call<number>("task_watch", { id, after, onEvent: channel(onEvent) });

/** A page of the event log before `before` (null: the newest), newest first, and the newest seq. */
export const eventsBefore = (id: string, before: number | null, limit: number) =>
  call<EventPage>("task_events_before", { id, before, limit });

/** The task's lag over a period ending now, bucketed from its stored history. */
export const taskLag = (id: string, period: Period) => call<LagHistory>("task_lag", { id, period });

/** Ends a subscription. */
export const unwatchTask = (watch: number) => call<null>("task_unwatch", { watch });

/** The catch-up timeout the dialog proposes, in seconds. */
export const DEFAULT_CATCHUP_TIMEOUT_SECS = 300;

/** The guardrails and every fence, evaluated for `strategy` (null: the strongest available). */
export const switchoverPreview = (id: string, strategy: FenceStrategy | null = null) =>
  call<SwitchoverPreview>("switchover_preview", { id, strategy });

/**
 * Starts the switchover with the fence chosen (null: the strongest available) and the
 * endpoint hook (null: none); its steps go to `onEvent`.
 */
export const startSwitchover = (
  id: string,
  timeoutSecs: number,
  strategy: FenceStrategy | null,
  hook: Hook | null,
  onEvent: (e: SwitchoverEvent) => void,
) => call<null>("switchover_start", { id, timeoutSecs, strategy, hook, onEvent: channel(onEvent) });

/** Re-subscribes to a switchover or failover under way (after a reload). */
export const watchSwitchover = (id: string, onEvent: (e: SwitchoverEvent) => void) =>
  call<null>("switchover_watch", { id, onEvent: channel(onEvent) });

/** What a failover would cost, read now (changes nothing). */
export const failoverPreview = (id: string) => call<FailoverPreview>("failover_preview", { id });

/** Starts a failover (DR): promote now without the source. */
export const startFailover = (id: string, onEvent: (e: SwitchoverEvent) => void) =>
  call<null>("failover_start", { id, onEvent: channel(onEvent) });

export type { EventPage, LagHistory, Period };
