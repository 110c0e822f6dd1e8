import { Alert, Button, Popconfirm, Space, Typography } from "antd";
import { useState } from "react";
import { asCommandError } from "../../api/core";
import type { CommandError } from "../../api/core";
import { reverseTask } from "../../api/tasks";
import type { TaskStatus } from "../../api/tasks";
import ErrorAlert from "../../components/ErrorAlert";
import { t } from "../../i18n";
import { href } from "../../router";
import type { Navigate } from "../../router";
import { formatBytes, formatDuration } from "../../units";

/** The way back on a completed task (issue 15): whether its old source can follow the new
 * primary as a standby, a warning when it runs again diverged (a second primary), and the
 * action that keeps it as a standby under a reverse task; on a reverse task, what the
 * rejoin copied. */
export default function WayBackAlert({ task, navigate }: { task: TaskStatus; navigate: Navigate }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  const rejoin = task.rejoin && (
    <Alert
      type="info"
      showIcon
      style={{ marginBottom: 16 }}
      data-testid="rejoin"
      title={t(task.rejoin.method === "follow" ? "wayBack.rejoinedFollow" : "wayBack.rejoinedRewind", {
        copied: formatBytes(task.rejoin.bytes_copied),
        data: formatBytes(task.rejoin.data_bytes),
        ms: formatDuration(task.rejoin.duration_ms),
      })}
      description={
        <Typography.Link href={href({ page: "task", id: task.rejoin.forward_task, instance: task.source.name })}>
          {t("wayBack.forwardTask", { id: task.rejoin.forward_task })}
        </Typography.Link>
      }
    />
  );
  const w = task.way_back;
  if (task.phase !== "success" || !w) return rejoin || null;
  if (task.reversed_by) {
    return (
      <>
        {rejoin}
        <Alert
          type="info"
          showIcon
          style={{ marginBottom: 16 }}
          data-testid="way-back-taken"
          title={
            <Typography.Link href={href({ page: "task", id: task.reversed_by, instance: task.source.name })}>
              {t("wayBack.reversedBy", { id: task.reversed_by, old: w.old_source })}
            </Typography.Link>
          }
        />
      </>
    );
  }
  const reverse = async () => {
    setBusy(true);
    setError(null);
    try {
      const created = await reverseTask(task.id);
      navigate({ page: "task", id: created.id, instance: task.source.name });
    } catch (e) {
      setError(asCommandError(e));
    } finally {
      setBusy(false);
    }
  };
  const how = t(w.method === "follow" ? "wayBack.follow" : "wayBack.rewind");
  const action = w.available && (
    <Popconfirm
      title={t("wayBack.confirm", { old: w.old_source, new: w.new_primary })}
      description={how}
      onConfirm={reverse}
    >
      <Button type={w.diverged && w.source_running ? "primary" : "default"} loading={busy} data-testid="way-back-reverse">
        {t("wayBack.action")}
      </Button>
    </Popconfirm>
  );
  return (
    <>
      {rejoin}
      <Alert
        type={w.diverged && w.source_running ? "warning" : w.available ? "info" : "warning"}
        showIcon
        style={{ marginBottom: 16 }}
        data-testid="way-back"
        data-available={w.available}
        title={
          w.diverged && w.source_running
            ? t("wayBack.diverged", { old: w.old_source, new: w.new_primary })
            : w.available
              ? t("wayBack.available", { old: w.old_source, new: w.new_primary, how })
              : t("wayBack.unavailable", { old: w.old_source })
        }
        description={
          <Space orientation="vertical" size={4}>
            {!w.available && w.reason && <span data-testid="way-back-reason">{w.reason}</span>}
            {action}
            {error && <ErrorAlert error={error} title={t("wayBack.action")} />}
          </Space>
        }
      />
    </>
  );
}
