// The engine's values in words: what the task's event log and the switchover dialog show,
// rendered through the translation table (the CLI renders the same values with the
// engine's `Display`).

import type { Guardrail } from "./api/generated/Guardrail";
import type { GuardrailStatus } from "./api/generated/GuardrailStatus";
import type { HookRun } from "./api/generated/HookRun";
import type { Progress } from "./api/generated/Progress";
import type { SlotOutcome } from "./api/generated/SlotOutcome";
import type { Warning } from "./api/generated/Warning";
import { isMessageKey, t } from "./i18n";
import { formatBytes, formatDuration } from "./units";

/** A task warning (an event of the log) in words. */
export function warningText(w: Warning): string {
  if ("message" in w) return w.message; // stored as text by an earlier version
  switch (w.code) {
    case "slot_retained_wal":
      return t("taskDetail.warning.slot_retained_wal", {
        slot: w.slot,
        retained: formatBytes(w.retained_bytes),
        limit: formatBytes(w.limit_bytes),
      });
    case "slot_at_risk":
    case "slot_lost":
    case "slot_missing":
      return t(`taskDetail.warning.${w.code}`, { slot: w.slot });
    case "dest_disk_low":
      return t("taskDetail.warning.dest_disk_low", { free: formatBytes(w.free_bytes), limit: formatBytes(w.limit_bytes) });
    case "guardrail":
      return t("taskDetail.warning.guardrail", { title: guardrailTitle(w.check), message: guardrailMessage(w.check) });
    case "switchover_rolled_back":
      return t("taskDetail.warning.switchover_rolled_back", { reason: w.reason });
    case "switchover_rollback_incomplete":
      return t("taskDetail.warning.switchover_rollback_incomplete", { reason: w.reason, problems: w.problems.join("; ") });
    case "switchover_interrupted": {
      const problems = w.problems;
      if (!w.promoted)
        return problems.length
          ? t("taskDetail.warning.interrupted_rollback_incomplete", { problems: problems.join("; ") })
          : t("taskDetail.warning.interrupted_rolled_back");
      return [t("taskDetail.warning.interrupted_promoted"), ...(w.slot ? [slotText(w.slot)] : []), ...problems].join("; ");
    }
  }
}

/** A guardrail's title. */
export function guardrailTitle(g: Guardrail): string {
  if ("title" in g) return g.title; // stored as text by an earlier version
  const key = `guardrail.title.${g.id}`;
  return isMessageKey(key) ? t(key) : g.id;
}

/** What a guardrail found, in words. */
export function guardrailMessage(g: Guardrail): string {
  if ("message" in g) return g.message; // stored as text by an earlier version
  const lsn = (l: string | null) => l ?? t("guardrail.finding.nothing");
  switch (g.kind) {
    case "lag_under":
    case "lag_over":
      return t(`guardrail.finding.${g.kind}`, { lag: formatBytes(g.lag_bytes), threshold: formatBytes(g.threshold_bytes) });
    case "destination_replayed":
      return t("guardrail.finding.destination_replayed", { received: lsn(g.received), replayed: lsn(g.replayed) });
    case "fence":
      return g.strategy === "shutdown"
        ? g.host
          ? t("guardrail.finding.fence.shutdown_on_host", { host: g.host })
          : t("guardrail.finding.fence.shutdown")
        : t(g.superuser ? "guardrail.finding.fence.sql.superuser" : "guardrail.finding.fence.sql.granted");
    case "fence_not_granted":
      return t("guardrail.finding.fence_not_granted", { role: g.role, missing: g.missing.join(", "), grants: g.grants.join(" ") });
    case "source_silent":
      return g.error ? t("guardrail.finding.source_silent_because", { error: g.error }) : t("guardrail.finding.source_silent");
    case "task_not_in_increment":
      return t("guardrail.finding.task_not_in_increment", { task: g.task, phase: t(`tasks.phase.${g.phase}`), operation: g.operation });
    case "task_in_increment":
      return t("guardrail.finding.task_in_increment", {
        task: g.task,
        mode: t(`assess.mode.${g.mode}`),
        replication: t(`tasks.replication.${g.replication}`),
      });
    default: {
      // The other findings' parameters are words and counts, shown as they are.
      const vars = Object.fromEntries(
        Object.entries(g).filter((e): e is [string, string | number] => typeof e[1] === "string" || typeof e[1] === "number"),
      );
      return t(`guardrail.finding.${g.kind}`, vars);
    }
  }
}

/** A guardrail in one line: its title and what it found. */
export function guardrailLine(g: Guardrail): string {
  return `${guardrailTitle(g)}: ${guardrailMessage(g)}`;
}

/** A switchover or failover step in one line (the event log's text for it). */
export function stepText(p: Progress): string {
  const ms = formatDuration;
  switch (p.step) {
    case "guardrails": {
      const count = (s: GuardrailStatus) => p.checks.filter((c) => c.status === s).length;
      const line = t("switch.line.guardrails", { pass: count("pass"), warning: count("warning"), error: count("error") });
      return [line, ...p.checks.filter((c) => c.status !== "pass").map(guardrailLine)].join("; ");
    }
    case "fencing":
      return t("switch.line.fencing", { strategy: p.strategy });
    case "fence_recorded":
      return t("switch.line.fence_recorded", { strategy: p.record.strategy });
    case "fenced":
      return p.strategy === "shutdown"
        ? t("switch.line.fenced.shutdown", { elapsed: ms(p.elapsed_ms) })
        : t("switch.line.fenced.sql", {
            elapsed: ms(p.elapsed_ms),
            databases: p.blocked_databases.length,
            sessions: p.terminated_sessions,
          });
    case "catch_up":
      return t("switch.line.catch_up", {
        remaining: formatBytes(p.remaining_bytes),
        target: p.target_lsn,
        replayed: p.replayed_lsn ?? t("switch.line.nothing"),
      });
    case "caught_up":
      return t("switch.line.caught_up", { elapsed: ms(p.elapsed_ms), replayed: p.replayed_lsn, target: p.target_lsn });
    case "promoting":
      return t("switch.line.promoting");
    case "promoted": {
      const method = t(`switch.method.${p.method}`);
      return p.timeline != null
        ? t("switch.line.promotedTimeline", { method, elapsed: ms(p.elapsed_ms), timeline: p.timeline })
        : t("switch.line.promoted", { method, elapsed: ms(p.elapsed_ms) });
    }
    case "destination_unfenced":
      return p.databases.length
        ? t("switch.line.destination_unfenced", { databases: p.databases.join(", ") })
        : t("switch.line.destination_unfenced.none");
    case "writes_verified": {
      const unchecked = p.databases.filter((d) => !d.committed).map((d) => d.database);
      const vars = { count: p.databases.length - unchecked.length, window: ms(p.write_unavailable_ms) };
      return unchecked.length
        ? t("switch.line.writes_verified.unchecked", { ...vars, unchecked: unchecked.join(", ") })
        : t("switch.line.writes_verified", vars);
    }
    case "failover_verified":
      return t("switch.line.failover_verified", {
        count: p.databases.filter((d) => d.committed).length,
        elapsed: ms(p.promotion_ms),
      });
    case "standby_cleaned":
      return t("switch.line.standby_cleaned", { count: p.files.length });
    case "slot":
      return slotText(p.outcome);
    case "rolling_back":
      return t("switch.line.rolling_back", { reason: p.reason });
    case "rolled_back":
      return p.source_accepts_writes
        ? t("switch.line.rolled_back")
        : t("switch.line.rolled_back.incomplete", { problems: p.problems.join("; ") });
    case "hook_started":
      return t("switch.line.hook_started", { at: p.at, timeout: ms(p.timeout_ms), command: p.command });
    case "hook_finished":
      return hookText(p.run);
    case "note":
      return p.message;
  }
}

/** How the endpoint hook ended, in one line. */
export function hookText(r: HookRun): string {
  const elapsed = formatDuration(r.elapsed_ms);
  if (r.timed_out) return t("switch.line.hook_timed_out", { elapsed });
  if (r.exit_code == null) return t("switch.line.hook_killed", { elapsed });
  return t("switch.line.hook_finished", { code: r.exit_code, elapsed });
}

/** What became of the slot, in one line. */
export function slotText(s: SlotOutcome): string {
  return s.status === "dropped"
    ? t("switch.line.slot.dropped", { slot: s.slot })
    : t("switch.line.slot.kept", { slot: s.slot, reason: s.reason, drop_with: s.drop_with });
}
