// Feasibility assessment: the wizard's live steps, runs streamed over a channel, reports.

import { call, channel } from "./core";
import type { CommandError } from "./core";
import type { ConnectionInput } from "./instances";

/** Migration to Cloud, or DR construction. */
export type Mode = "migration" | "dr";

/** How one check ended. */
export type CheckStatus = "success" | "warning" | "error" | "skipped";

/** The overall result. */
export type Verdict = "success" | "warning" | "error";

/** One check's result. */
export interface CheckResult {
  id: string;
  title: string;
  status: CheckStatus;
  message: string;
  impact: string;
  remedy: string;
  evidence: Record<string, unknown>;
  duration_ms: number;
}

/** A titled group of checks. */
export interface Group {
  name: string;
  checks: CheckResult[];
}

/** Checks by status. */
export interface Counts {
  errors: number;
  warnings: number;
  skipped: number;
  passed: number;
}

/** A complete report (the engine's JSON form). */
export interface Report {
  schema_version: number;
  id: string;
  created_at: string;
  mode: Mode;
  duration_ms: number;
  source: {
    name: string;
    endpoint: string;
    version: string | null;
    system_id: string | null;
    size_bytes: number | null;
  };
  destination: {
    name: string;
    endpoint: string;
    version: string | null;
    data_dir: string | null;
    free_bytes: number | null;
  };
  verdict: Verdict;
  groups: Group[];
}

/** One item of the source's preparation checklist. */
export interface Preparation {
  id: "account" | "hba" | "wal_level" | "wal_senders";
  text: string;
}

/** What an assessment run streams, in order. */
export type AssessmentEvent =
  | {
      event: "started";
      data: {
        job_id: string;
        source: string;
        destination: string;
        mode: Mode;
        created_at: string;
        total_checks: number;
      };
    }
  | { event: "check"; data: CheckResult }
  | { event: "finished"; data: { report_id: string; verdict: Verdict; counts: Counts } }
  | { event: "failed"; data: CommandError };

/** A row of the assessment task table. */
export interface AssessmentRow {
  report_id: string | null;
  job_id: string | null;
  source: string;
  destination: string;
  mode: Mode;
  created_at: string;
  status: "running" | "success" | "warning" | "error" | "failed";
  counts: Counts | null;
  checks_done: number;
  checks_total: number;
  error: CommandError | null;
  duration_ms: number | null;
}

/** Export formats. */
export type ExportFormat = "html" | "json" | "md" | "text";

export const sourcePreparations = (source: string | null, connection: ConnectionInput | null) =>
  call<Preparation[]>("source_preparations", { source, connection });

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

/** Asks the Rust side to show a save dialog and write the report; `path` is null if cancelled. */
export const exportReport = (id: string, format: ExportFormat) =>
  call<{ path: string | null }>("report_export", { id, format });
