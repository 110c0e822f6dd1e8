import { Progress, Space, Tag, Tooltip, Typography } from "antd";
import type { Phase, TaskStatus } from "../../api/tasks";
import { t } from "../../i18n";
import { formatBytes, formatSeconds } from "../../units";
import { copyFigures, copyLine } from "./copyFigures";

const PHASE_COLOR: Record<Phase, string> = {
  precheck: "processing",
  basebackup: "processing",
  startup: "processing",
  increment: "cyan",
  switch: "warning",
  success: "success",
  failed: "error",
  cancelled: "default",
};

/** Full-copy percentage, when the source gave an estimate. */
export function copyPercent(task: Pick<TaskStatus, "progress">): number | null {
  return task.progress ? copyFigures(task.progress).percent : null;
}

/** Lag as the column shows it: bytes behind, and seconds when known. */
export function lagText(task: Pick<TaskStatus, "sample">): string | null {
  const s = task.sample;
  if (!s || s.replay_lag_bytes == null) return null;
  const bytes = formatBytes(s.replay_lag_bytes);
  const ms = s.replay_lag_ms ?? null;
  return ms == null ? bytes : [bytes, formatSeconds(ms / 1000)].join(t("common.listSeparator"));
}

/** The text of the Cloud Migration Phase column for a task. */
export function phaseLabel(task: Pick<TaskStatus, "phase" | "progress" | "sample">): string {
  if (task.phase === "basebackup") {
    const pct = copyPercent(task);
    return pct == null ? t("tasks.phase.basebackup") : t("tasks.phase.basebackupPct", { pct });
  }
  if (task.phase === "increment") {
    const lag = lagText(task);
    return lag == null ? t("tasks.phase.increment") : t("tasks.phase.incrementLag", { lag });
  }
  return t(`tasks.phase.${task.phase}`);
}

/** Cloud Migration Phase: Precheck → Full backup nn % → Link setup → Incremental sync (lag) → Switchover → Completed. */
export default function PhaseColumn({ task }: { task: Pick<TaskStatus, "phase" | "progress" | "sample" | "error" | "failed_in"> }) {
  const pct = task.phase === "basebackup" ? copyPercent(task) : null;
  const tag = (
    <Tag color={PHASE_COLOR[task.phase]} data-testid="phase" data-phase={task.phase}>
      {phaseLabel(task)}
    </Tag>
  );
  return (
    <Space orientation="vertical" size={2} style={{ minWidth: 170 }}>
      {task.phase === "failed" && task.error ? <Tooltip title={task.error}>{tag}</Tooltip> : tag}
      {pct != null && <Progress percent={pct} size="small" data-testid="copy-progress" />}
      {task.phase === "basebackup" && task.progress && (
        <Typography.Text type="secondary" style={{ fontSize: 12, whiteSpace: "nowrap" }} data-testid="copy-figures">
          {copyLine(task.progress)}
        </Typography.Text>
      )}
      {task.phase === "failed" && task.failed_in && (
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {t("taskDetail.error", { phase: t(`tasks.phase.${task.failed_in}`) })}
        </Typography.Text>
      )}
    </Space>
  );
}
