import { Alert, Button, Card, Descriptions, Grid, Popconfirm, Progress, Space, Spin, Steps, Table, Tag, Typography } from "antd";
import { useEffect, useMemo, useState } from "react";
import { asCommandError } from "../../api/core";
import type { CommandError } from "../../api/core";
import { cancelTask, PHASE_ORDER, taskStatus, unwatchTask, watchTask } from "../../api/tasks";
import type { CopyProgress, Phase, Sample, TaskEvent, TaskStatus } from "../../api/tasks";
import type { Operation } from "../../api/generated/Operation";
import ErrorAlert from "../../components/ErrorAlert";
import LagChart from "../../components/LagChart";
import NoBreak, { Words } from "../../components/NoBreak";
import ReplicationTag from "./ReplicationTag";
import type { LagPoint } from "../../components/LagChart";
import PageHeader from "../../components/PageHeader";
import { useLoad } from "../../hooks/useLoad";
import { t } from "../../i18n";
import { href, instanceRoute } from "../../router";
import type { Navigate } from "../../router";
import { formatBytes, formatDuration, formatTime } from "../../units";
import { stepText, warningText } from "../../words";
import FailoverDialog from "./FailoverDialog";
import HousekeepingAlert from "./HousekeepingAlert";
import PhaseColumn from "./PhaseColumn";
import SwitchoverDialog from "./SwitchoverDialog";

/** Most events kept on the page (the store keeps them all). */
const MAX_EVENTS = 5000;

/** The lag chart's points from the task's sample events. */
export function lagPoints(events: TaskEvent[]): LagPoint[] {
  const points: LagPoint[] = [];
  for (const e of events) {
    if (e.event !== "sample" || e.replay_lag_bytes == null) continue;
    const ms = e.replay_lag_ms ?? e.dest_replay_delay_ms ?? null;
    points.push({ at: Date.parse(e.at), bytes: e.replay_lag_bytes, seconds: ms == null ? null : ms / 1000 });
  }
  return points;
}

/** A phase's word; `switch` is "Failover" when the operation was one. */
function phaseWord(phase: Phase, operation?: Operation | null): string {
  return phase === "switch" && operation === "failover" ? t("failover.phase") : t(`tasks.phase.${phase}`);
}

/** How long ago an RFC 3339 time was, e.g. "4 min ago". */
function ago(iso: string, now: number): string {
  const ms = Math.max(0, now - Date.parse(iso));
  return t("drAlert.ago", { duration: formatDuration(ms) });
}

/** A DR (or migration) standby whose source is gone: when it started, what it means, and
 * the way out. The grey tag alone said none of it. */
export function DisconnectAlert({ task, onFailover }: { task: TaskStatus; onFailover: () => void }) {
  if (task.phase !== "increment" || task.replication !== "disconnect") return null;
  const since = task.replication_since ?? task.sample_at;
  const delay = task.sample?.dest_replay_delay_ms;
  const sampled = task.sample_at ? Date.parse(task.sample_at) : Date.now();
  const replayed = delay != null ? formatTime(new Date(sampled - delay).toISOString()) : null;
  return (
    <Alert
      type="error"
      showIcon
      style={{ marginBottom: 16 }}
      data-testid="disconnect-alert"
      title={
        <span data-testid="disconnect-since">
          {since ? t("drAlert.title", { time: formatTime(since), ago: ago(since, Date.now()) }) : t("tasks.replication.disconnect")}
        </span>
      }
      description={replayed ? t("drAlert.body", { replayed }) : t("drAlert.bodyNoReplay")}
      action={
        <Button danger onClick={onFailover} data-testid="disconnect-failover">
          {t("drAlert.failover")}
        </Button>
      }
    />
  );
}

/** What an event says, for the event log. */
function describe(e: TaskEvent): string {
  switch (e.event) {
    case "phase":
      return `${phaseWord(e.from, e.operation)} → ${phaseWord(e.to, e.operation)}`;
    case "replication":
      return `${t(`tasks.replication.${e.from}`)} → ${t(`tasks.replication.${e.to}`)}`;
    case "step":
      return stepText(e);
    case "warning":
      return warningText(e);
    case "note":
    case "error":
      return e.message;
    default:
      return "";
  }
}

/** Task details: phase timeline, full-copy progress, lag chart, slot, event log. */
export default function TaskDetails({ id, from, navigate }: { id: string; from?: string; navigate: Navigate }) {
  const status = useLoad(() => taskStatus(id), [id], 5000);
  const [events, setEvents] = useState<TaskEvent[]>([]);
  const [progress, setProgress] = useState<CopyProgress | null>(null);
  const [watchError, setWatchError] = useState<CommandError>();
  const [dialog, setDialog] = useState<"switchover" | "failover" | null>(null);
  const [actionError, setActionError] = useState<CommandError>();
  // Below 1200 px six phases side by side leave each title too little room ("Switcho/ver"):
  // there the titles go under the icons.
  const narrow = Grid.useBreakpoint().xl === false;

  // The whole stored history first, then live events: a reloaded page shows the same chart.
  useEffect(() => {
    let live = true;
    let watch: number | null = null;
    setEvents([]);
    watchTask(id, 0, (msg) => {
      if (!live || msg.event !== "task_event") return;
      const e = msg.data;
      if (e.event === "copy") setProgress(e);
      if (e.event === "phase" && e.to !== "basebackup") setProgress(null);
      // Copy progress arrives several times a second: the log keeps only the stored kinds.
      if (e.event === "copy") return;
      setEvents((list) => (list.some((x) => x.seq === e.seq) ? list : [...list, e].slice(-MAX_EVENTS)));
      if (e.event === "phase" || e.event === "replication") void status.reload();
    }).then(
      (w) => {
        watch = w;
        if (!live) void unwatchTask(w);
      },
      (e) => setWatchError(asCommandError(e)),
    );
    return () => {
      live = false;
      if (watch != null) void unwatchTask(watch);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id]);

  const points = useMemo(() => lagPoints(events), [events]);
  const task = status.data;
  const latestSample: Sample | null = useMemo(() => {
    for (let i = events.length - 1; i >= 0; i -= 1) {
      const e = events[i];
      if (e.event === "sample") return e;
    }
    return task?.sample ?? null;
  }, [events, task]);
  const log = events.filter((e) => e.event !== "sample" && e.event !== "copy").reverse();
  const back = () => navigate(from ? instanceRoute(from, "migration", task?.mode === "dr" ? "dr" : "migration") : { page: "instances" });

  if (!task) {
    return (
      <section>
        <PageHeader title={t("taskDetail.title", { id })} onBack={back} />
        {status.error ? <ErrorAlert error={status.error} title={t("common.failedToLoad")} /> : <Spin />}
      </section>
    );
  }

  const copy = progress ?? task.progress;
  const live: TaskStatus = { ...task, progress: copy, sample: latestSample };
  const phaseIndex = PHASE_ORDER.indexOf(task.phase === "failed" ? (task.failed_in ?? "precheck") : task.phase);
  const endpoint = `${from ?? task.destination.name}`;

  return (
    <section>
      <PageHeader
        title={t("taskDetail.title", { id: task.id })}
        onBack={back}
        tags={<PhaseColumn task={live} />}
        actions={
          <>
            {task.mode === "migration" && task.phase === "increment" && (
              <Button type="primary" danger onClick={() => setDialog("switchover")} data-testid="details-switchover">
                {t("tasks.action.switchover")}
              </Button>
            )}
            {task.mode === "dr" && task.phase === "increment" && (
              <Button danger onClick={() => setDialog("failover")}>
                {t("tasks.action.failover")}
              </Button>
            )}
            {["precheck", "basebackup", "startup", "increment", "failed"].includes(task.phase) && (
              <Popconfirm
                title={t("tasks.cancelConfirm", { id: task.id })}
                description={t("tasks.cancelBody")}
                okButtonProps={{ danger: true }}
                onConfirm={async () => {
                  try {
                    await cancelTask(task.id);
                  } catch (e) {
                    setActionError(asCommandError(e));
                  }
                  void status.reload();
                }}
              >
                <Button danger>{task.mode === "dr" ? t("tasks.action.stopDr") : t("tasks.action.cancel")}</Button>
              </Popconfirm>
            )}
          </>
        }
      />
      {watchError && <ErrorAlert error={watchError} title={t("taskDetail.events")} />}
      {actionError && <ErrorAlert error={actionError} title={t("tasks.action.cancel")} />}
      <DisconnectAlert task={live} onFailover={() => setDialog("failover")} />
      {task.phase === "failed" && task.error && (
        <Alert
          type="error"
          showIcon
          title={t("taskDetail.error", { phase: t(`tasks.phase.${task.failed_in ?? "precheck"}`) })}
          description={<span style={{ whiteSpace: "pre-wrap" }}>{task.error}</span>}
          style={{ marginBottom: 16 }}
          data-testid="task-error"
        />
      )}
      <HousekeepingAlert housekeeping={task.housekeeping} />
      <Card size="small" style={{ marginBottom: 16 }}>
        <Descriptions
          size="small"
          column={3}
          items={[
            { key: "mode", label: t("taskDetail.mode"), children: t(`assess.mode.${task.mode}`) },
            { key: "src", label: t("taskDetail.source"), children: <NoBreak>{task.source.name}</NoBreak> },
            { key: "dst", label: t("taskDetail.destination"), children: <NoBreak>{task.destination.name}</NoBreak> },
            {
              key: "rep",
              label: t("taskDetail.report"),
              children: (
                <Typography.Link href={href({ page: "report", id: task.report_id, instance: task.destination.name })}>
                  {task.report_id}
                </Typography.Link>
              ),
            },
            {
              key: "repl",
              label: t("taskDetail.replication"),
              children: <ReplicationTag task={task} testId="task-replication" />,
            },
            {
              key: "driver",
              label: t("taskDetail.driver"),
              children: task.driver
                ? t("taskDetail.driverValue", { pid: task.driver.pid, host: task.driver.host })
                : t("common.none"),
            },
          ]}
        />
      </Card>
      <Card size="small" title={t("taskDetail.timeline")} style={{ marginBottom: 16 }}>
        <Steps
          size="small"
          titlePlacement={narrow ? "vertical" : "horizontal"}
          current={Math.max(0, phaseIndex)}
          status={task.phase === "failed" ? "error" : task.phase === "success" ? "finish" : "process"}
          data-testid="phase-timeline"
          items={PHASE_ORDER.map((p) => ({
            title: phaseWord(p, task.switch?.operation),
            description: task.phase_times[p] ? <Words text={formatTime(task.phase_times[p]!)} /> : undefined,
          }))}
        />
      </Card>
      {(task.phase === "basebackup" || copy) && (
        <Card size="small" title={t("taskDetail.copy")} style={{ marginBottom: 16 }} data-testid="copy-card">
          {copy ? (
            <>
              <Progress
                percent={copy.bytes_total ? Math.min(100, Math.floor((100 * copy.bytes_done) / copy.bytes_total)) : 0}
                status={task.phase === "basebackup" ? "active" : "normal"}
              />
              <Descriptions
                size="small"
                column={4}
                items={[
                  {
                    key: "done",
                    label: t("taskDetail.copied"),
                    children: copy.bytes_total
                      ? t("taskDetail.copyDone", { done: formatBytes(copy.bytes_done), total: formatBytes(copy.bytes_total) })
                      : t("taskDetail.copyDoneNoTotal", { done: formatBytes(copy.bytes_done) }),
                  },
                  { key: "rate", label: t("taskDetail.rate"), children: `${formatBytes(copy.rate_bytes_per_sec)}/s` },
                  {
                    key: "eta",
                    label: t("taskDetail.eta"),
                    children: copy.eta_secs != null ? formatDuration(copy.eta_secs * 1000) : t("common.none"),
                  },
                  { key: "stage", label: t("taskDetail.stage"), children: copy.stage },
                ]}
              />
            </>
          ) : (
            <Spin />
          )}
        </Card>
      )}
      <Card size="small" title={t("taskDetail.lag")} style={{ marginBottom: 16 }}>
        <LagChart points={points} />
        {task.sample_at && (
          <Typography.Text type={task.sample_live ? "warning" : "secondary"} data-testid="sample-taken">
            {t(task.sample_live ? "taskDetail.sampleLive" : "taskDetail.sampleStored", { time: formatTime(task.sample_at) })}
          </Typography.Text>
        )}
      </Card>
      <Card size="small" title={t("taskDetail.slot")} style={{ marginBottom: 16 }}>
        <Descriptions
          size="small"
          column={4}
          items={[
            { key: "name", label: t("taskDetail.slotName"), children: <Typography.Text code>{task.layout.slot_name}</Typography.Text> },
            {
              key: "retained",
              label: t("taskDetail.retained"),
              children:
                latestSample?.slot?.retained_bytes != null ? formatBytes(latestSample.slot.retained_bytes) : t("common.none"),
            },
            { key: "status", label: t("taskDetail.walStatus"), children: latestSample?.slot?.wal_status ?? t("common.none") },
          ]}
          data-testid="slot"
        />
      </Card>
      <Card size="small" title={t("taskDetail.events")}>
        <Table<TaskEvent>
          rowKey="seq"
          size="small"
          pagination={{ pageSize: 15, hideOnSinglePage: true }}
          dataSource={log}
          columns={[
            { title: "", dataIndex: "at", width: 170, render: (at: string) => formatTime(at) },
            {
              title: "",
              dataIndex: "event",
              width: 110,
              render: (k: TaskEvent["event"]) => (
                <Tag color={k === "error" ? "error" : k === "warning" ? "warning" : "default"}>{t(`taskDetail.event.${k}`)}</Tag>
              ),
            },
            { title: "", key: "what", render: (_, e) => describe(e) },
          ]}
          showHeader={false}
          data-testid="event-log"
        />
      </Card>
      {dialog === "switchover" && (
        <SwitchoverDialog
          open
          task={task}
          destinationEndpoint={endpoint}
          onClose={() => {
            setDialog(null);
            void status.reload();
          }}
        />
      )}
      {dialog === "failover" && (
        <FailoverDialog
          open
          task={task}
          destinationEndpoint={endpoint}
          onClose={() => {
            setDialog(null);
            void status.reload();
          }}
        />
      )}
      {!task.driver && task.phase === "increment" && (
        <Typography.Text type="secondary">{t("taskDetail.notDriven")}</Typography.Text>
      )}
      <Space />
    </section>
  );
}
