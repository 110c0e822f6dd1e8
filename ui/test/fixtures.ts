// Data shaped exactly like the Rust side's JSON, shared by the page tests.

import type { CheckResult, Report } from "../api/assessments";
import type { InstanceStatus } from "../api/instances";
import type { FailoverReport, Sample, SwitchoverReport, TaskStatus } from "../api/tasks";
import type { Lease } from "../api/generated/Lease";
import type { Task } from "../api/generated/Task";

/** A sample with nothing measured; tests set the fields they are about. */
export const emptySample: Sample = {
  replication: null,
  source_lsn: null,
  sender_state: null,
  sent_lsn: null,
  write_lsn: null,
  flush_lsn: null,
  replay_lsn: null,
  sent_lag_bytes: null,
  write_lag_bytes: null,
  flush_lag_bytes: null,
  replay_lag_bytes: null,
  write_lag_ms: null,
  flush_lag_ms: null,
  replay_lag_ms: null,
  slot: null,
  dest_in_recovery: null,
  receiver_status: null,
  dest_receive_lsn: null,
  dest_replay_lsn: null,
  dest_replay_delay_ms: null,
  dest_free_bytes: null,
  source_error: null,
  dest_error: null,
};

/** A task's copy options: no mapping, no throttle, no compression. */
export const copyOptions: Task["options"] = { tablespace_mappings: [], max_rate: null, compression: "none", sync: true };

/** A task's layout around data directory `/d`. */
export const taskLayout = (slot: string): Task["layout"] => ({
  slot_name: slot,
  application_name: slot,
  data_dir: "/d",
  aside_dir: "/d.aside",
  copy_dir: "/d.copy",
  passfile: "/d.pgpass",
  standby_files: [],
  tablespaces: [],
});

/** The lease of a driving process. */
export const lease = (more: Partial<Lease> = {}): Lease => ({ holder: "h", pid: 1, host: "vm", acquired_at: "", expires_ms: 0, ...more });

/** A successful switchover's report; `more` overrides any field. */
export const switchoverReport = (more: Partial<SwitchoverReport> = {}): SwitchoverReport => ({
  strategy: "sql",
  guarantee: "…",
  guardrails: [],
  fence: { strategy: "sql", blocked_databases: [], read_only: true, read_only_before: false, terminated_sessions: 0, stopped: false },
  source_final_lsn: "0/3000000",
  replayed_lsn: "0/3000000",
  promote_method: "pg_promote",
  timeline: 2,
  window: { fence_started_at: "", writes_resumed_at: "", write_unavailable_ms: 0, steps: [] },
  unfenced_on_destination: [],
  writes_verified: [],
  slot: { status: "dropped", slot: "pgrelocate_t" },
  new_primary: "",
  warnings: [],
  next_steps: [],
  ...more,
});

/** A successful failover's report; `more` overrides any field. */
export const failoverReport = (more: Partial<FailoverReport> = {}): FailoverReport => ({
  guardrails: [],
  received_lsn: null,
  last_replayed_lsn: "0/3000000",
  promote_method: "pg_promote",
  timeline: 2,
  promote_ms: 0,
  source_reachable: false,
  source_lsn: null,
  gap_bytes: null,
  writes_verified: [],
  slot: { status: "dropped", slot: "pgrelocate_t" },
  warnings: [],
  next_steps: [],
  ...more,
});

/** A running PostgreSQL 15 instance that answers as a primary; managed ones report storage. */
export const runningInstance = (name: string, port: number, kind: InstanceStatus["kind"] = "managed"): InstanceStatus => ({
  id: `id-${name}`,
  name,
  endpoint: { host: "127.0.0.1", port, user: "postgres", dbname: "postgres", sslmode: "disable" },
  managed: kind === "managed" ? { data_dir: `/var/lib/pgrelocate/${name}/data`, bin_dir: "/usr/lib/postgresql/15/bin", major: 15 } : undefined,
  created_at: "2026-11-24T08:00:00Z",
  kind,
  state: "running",
  connection: {
    version: { major: 15, minor: 18 },
    version_text: "15.18",
    system_identifier: "1",
    role: "primary",
    read_only: false,
    tls: null,
    round_trip_ms: 0.1,
    auth_method: "scram-sha-256",
  },
  error: null,
  storage: kind === "managed" ? { used_bytes: 1024 ** 2, free_bytes: 1024 ** 3 } : null,
  retired: null,
});

/** A migration task in incremental sync, streaming; `more` overrides any field. */
export const streamingTask = (more: Partial<TaskStatus> = {}): TaskStatus => ({
  id: "42ef39b6e467",
  mode: "migration",
  source: { id: "s", name: "orders-prod" },
  destination: { id: "id-orders-dest", name: "orders-dest" },
  report_id: "r1",
  phase: "increment",
  replication: "streaming",
  created_at: "2026-11-24T08:00:00Z",
  phase_times: { precheck: "2026-11-24T08:00:00Z" },
  options: copyOptions,
  layout: taskLayout(`pgrelocate_${more.id ?? "42ef39b6e467"}`),
  attempts: 0,
  driver: null,
  progress: null,
  sample: null,
  sample_at: null,
  sample_live: false,
  replication_since: null,
  ...more,
});

const check = (id: string, title: string, status: CheckResult["status"], message: string, more: Partial<CheckResult> = {}): CheckResult => ({
  id,
  title,
  status,
  message,
  impact: "",
  remedy: "",
  evidence: {},
  duration_ms: 3,
  ...more,
});

/** A failed report: wal_level=minimal on the source, a warning, a skipped check. */
export const failedReport: Report = {
  schema_version: 1,
  id: "5e1f0c2a9b7d",
  created_at: "2026-11-24T08:00:00Z",
  mode: "migration",
  duration_ms: 2400,
  source: { name: "orders-prod", endpoint: "10.0.0.5:5432", version: "15.18", system_id: "7300000000000000001", size_bytes: 123_456_789 },
  destination: {
    name: "orders-dest",
    endpoint: "127.0.0.1:5433",
    version: "15.18",
    data_dir: "/var/lib/pgrelocate/orders-dest/data",
    free_bytes: 10 * 1024 ** 3,
  },
  verdict: "error",
  groups: [
    {
      name: "Source connectivity",
      checks: [check("src.reachable", "Check source reachable", "success", "connected to 10.0.0.5:5432 in 2 ms", { evidence: { connect_ms: 2 } })],
    },
    {
      name: "Source configuration",
      checks: [
        check("src.wal_level", "Check wal_level", "error", "wal_level = minimal: the source writes too little WAL for a standby", {
          impact: "no physical copy or streaming replication is possible",
          remedy: "ALTER SYSTEM SET wal_level = 'replica';\n-- then restart the source",
          evidence: { wal_level: "minimal" },
        }),
        check("src.wal_senders", "Check free WAL sender", "skipped", "skipped: depends on src.wal_level, which did not pass"),
      ],
    },
    {
      name: "Source data",
      checks: [
        check("src.unlogged", "Check unlogged tables", "warning", "1 unlogged table will arrive empty", {
          impact: "its rows are not copied",
          remedy: "ALTER TABLE public.session_cache SET LOGGED;",
        }),
      ],
    },
  ],
};
