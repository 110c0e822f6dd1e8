// Feasibility assessment: the wizard's live steps, runs streamed over a channel, reports.

import { call, channel } from "./core";
import type { ConnectionInput } from "./instances";

import type { AssessmentEvent } from "./generated/AssessmentEvent";
import type { AssessmentRow } from "./generated/AssessmentRow";
import type { CheckResult } from "./generated/CheckResult";
import type { ExportFormat } from "./generated/ExportFormat";
import type { Mode } from "./generated/Mode";
import type { Freshness } from "./generated/Freshness";
import type { Preparation } from "./generated/Preparation";
import type { SourceChecklist } from "./generated/SourceChecklist";
import type { Report } from "./generated/Report";

// The types are generated from the engine's Rust types (ui/api/generated/, see
// src-tauri/src/bindings.rs); this file only names them for the pages.
export type { AssessmentEvent, AssessmentRow, CheckResult, ExportFormat, Freshness, Mode, Preparation, Report, SourceChecklist };
export type { CheckStatus } from "./generated/CheckStatus";
export type { Counts } from "./generated/Counts";
export type { Group } from "./generated/Group";
export type { Verdict } from "./generated/Verdict";

export const sourcePreparations = (source: string | null, connection: ConnectionInput | null) =>
  call<SourceChecklist>("source_preparations", { source, connection });

export const destinationPrerequisites = (source: string, destination: string) =>
  call<CheckResult[]>("destination_prerequisites", { source, destination });

/** Starts an assessment; its events go to `onEvent`. Resolves to the run's id. */
export const startAssessment = (
  source: string,
  destination: string,
  mode: Mode,
  onEvent: (e: AssessmentEvent) => void,
) => call<string>("assessment_start", { source, destination, mode, onEvent: channel(onEvent) });

/** Re-subscribes to a run: every event so far, then the live ones. */
export const watchAssessment = (jobId: string, onEvent: (e: AssessmentEvent) => void) =>
  call<null>("assessment_watch", { jobId, onEvent: channel(onEvent) });

export const listAssessments = () => call<AssessmentRow[]>("assessment_list");

export const deleteAssessment = (row: Pick<AssessmentRow, "report_id" | "job_id">) =>
  call<null>("assessment_delete", { reportId: row.report_id, jobId: row.job_id });

export const getReport = (id: string) => call<Report>("report_get", { id });

/** Whether a report still describes its source: its age, the source's size then and now. */
export const reportFreshness = (id: string) => call<Freshness>("report_freshness", { id });

/** Asks the Rust side to show a save dialog and write the report; `path` is null if cancelled. */
export const exportReport = (id: string, format: ExportFormat) =>
  call<{ path: string | null }>("report_export", { id, format });
