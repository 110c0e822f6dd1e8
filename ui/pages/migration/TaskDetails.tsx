import { Alert, Button, Card, Descriptions, Grid, Popconfirm, Progress, Segmented, Space, Spin, Steps, Table, Tag, Typography } from "antd";
import { lazy, Suspense, useEffect, useMemo, useState } from "react";
import { asCommandError } from "../../api/core";
import type { CommandError } from "../../api/core";
import { cancelTask, eventsBefore, PHASE_ORDER, taskLag, taskStatus, unwatchTask, watchTask } from "../../api/tasks";
import type { CopyProgress, LagHistory, Period, Phase, Sample, TaskEvent, TaskStatus } from "../../api/tasks";
import type { Operation } from "../../api/generated/Operation";
import CopyBlock from "../../components/CopyBlock";
import ErrorAlert from "../../components/ErrorAlert";
import NoBreak, { Words } from "../../components/NoBreak";
import ReplicationTag from "./ReplicationTag";
import type { LagBand, LagPoint } from "../../components/LagChart";
import PageHeader from "../../components/PageHeader";
import { useLoad } from "../../hooks/useLoad";
import { t } from "../../i18n";
import { href, instanceRoute } from "../../router";
import type { Navigate } from "../../router";
import { formatBytes, formatDuration, formatTime } from "../../units";
import { stepText, warningText } from "../../words";
import AccessRulesCard from "./AccessRulesCard";
import FailoverDialog from "./FailoverDialog";
import HousekeepingAlert from "./HousekeepingAlert";
import WayBackAlert from "./WayBackAlert";
import { copyFigures } from "./copyFigures";
import PhaseColumn from "./PhaseColumn";
import SwitchoverDialog, { NextSteps } from "./SwitchoverDialog";

// The chart library is loaded with the first task page, not with the console's start: the
// page starts fetching it as it mounts, while its first reads are under way.
const loadChart = () => import("../../components/LagChart");
const LagChart = lazy(loadChart);

/** Events read per page of the log (newest first; older pages on demand). */
export const LOG_PAGE = 100;

/** The chart's periods, shortest first. */
export const PERIODS: Period[] = ["15m", "1h", "24h", "7d", "30d", "all"];

/** The lag chart's points and state bands from a period's buckets (at most ~720 of them):
 * one point per bucket, one band per run of buckets that were disconnected (or catching up). */
export function lagPoints(history: LagHistory | undefined): { points: LagPoint[]; outages: LagBand[] } {
  const points: LagPoint[] = [];
  const outages: LagBand[] = [];
  for (const b of history?.buckets ?? []) {
    const at = Date.parse(b.start);
    const widthMs = b.width_secs * 1000;
    // The worst of the bucket, so a spike or an outage is never averaged away.
    if (b.bytes_max != null) {
      points.push({
        at,
        bytes: b.bytes_max,
        seconds: b.secs_max,
        widthMs,
        samples: b.samples,
        bytesMin: b.bytes_min,
        secondsMin: b.secs_min,
        worst: b.worst,
      });
    }
    if (b.worst === "disconnect" || b.worst === "catchup") {
      const prev = outages[outages.length - 1];
      if (prev && prev.state === b.worst && prev.at + prev.widthMs >= at) prev.widthMs = at + widthMs - prev.at;
      else outages.push({ at, widthMs, state: b.worst });
    }
  }
  return { points, outages };
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

/** The slot as it is: while the task streams, the newest sample's figures; once the task
 * switched or failed over, what its record says became of it (the last sample's "reserved"
 * is no longer true then). */
export function SlotCard({ task, sample }: { task: TaskStatus; sample: Sample | null }) {
  const name = { key: "name", label: t("taskDetail.slotName"), children: <Typography.Text code>{task.layout.slot_name}</Typography.Text> };
  // The role made on the source for the standby alone, or the task account's (password file).
  const role = {
    key: "role",
    label: t("taskDetail.standbyRole"),
    children: task.layout.standby_role ? (
      <Typography.Text code data-testid="standby-role">
        {task.layout.standby_role}
      </Typography.Text>
    ) : (
      <span data-testid="standby-role">{t("taskDetail.standbyRoleNone")}</span>
    ),
  };
  const outcome = task.switch?.switchover?.slot ?? task.switch?.failover?.slot ?? null;
  if (task.phase === "success" || outcome) {
    const state =
      outcome?.status === "dropped"
        ? t("taskDetail.slotDropped")
        : outcome?.status === "kept"
          ? t("taskDetail.slotKept", { reason: outcome.reason })
          : t("taskDetail.slotUnrecorded");
    return (
      <>
        <Descriptions
          size="small"
          column={2}
          items={[name, { key: "after", label: t("taskDetail.slotAfter"), children: <span data-testid="slot-after">{state}</span> }, role]}
          data-testid="slot"
        />
        {outcome?.status === "kept" && <CopyBlock text={outcome.drop_with} testId="slot-drop" />}
      </>
    );
  }
  return (
    <Descriptions
      size="small"
      column={4}
      items={[
        name,
        {
          key: "retained",
          label: t("taskDetail.retained"),
          children: sample?.slot?.retained_bytes != null ? formatBytes(sample.slot.retained_bytes) : t("common.none"),
        },
        { key: "status", label: t("taskDetail.walStatus"), children: sample?.slot?.wal_status ?? t("common.none") },
        role,
      ]}
      data-testid="slot"
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
  const [period, setPeriod] = useState<Period>("1h");
  const lag = useLoad(() => taskLag(id, period), [id, period], 5000);
  // The event log, newest first, without samples: read a page at a time, then live events.
  const [log, setLog] = useState<TaskEvent[]>([]);
  const [hasOlder, setHasOlder] = useState(false);
  const [liveSample, setLiveSample] = useState<Sample | null>(null);
  const [progress, setProgress] = useState<CopyProgress | null>(null);
  const [watchError, setWatchError] = useState<CommandError>();
  const [dialog, setDialog] = useState<"switchover" | "failover" | null>(null);
  const [actionError, setActionError] = useState<CommandError>();
  // Below 1200 px six phases side by side leave each title too little room ("Switcho/ver"):
  // there the titles go under the icons.
  const narrow = Grid.useBreakpoint().xl === false;
  useEffect(() => void loadChart(), []);

  // The newest page of the log, then only what is new: an old task's page never replays its
  // months of history, and a reload shows the same picture at once.
  useEffect(() => {
    let live = true;
    let watch: number | null = null;
    setLog([]);
    setLiveSample(null);
    eventsBefore(id, null, LOG_PAGE)
      .then((page) => {
        if (!live) return null;
        setLog(page.events);
        setHasOlder(page.events.length === LOG_PAGE);
        return watchTask(id, page.newest_seq, (msg) => {
          if (!live || msg.event !== "task_event") return;
          const e = msg.data;
          if (e.event === "copy") setProgress(e);
          if (e.event === "phase" && e.to !== "basebackup") setProgress(null);
          if (e.event === "sample") setLiveSample(e);
          // Copy progress arrives several times a second and samples every few: the chart reads
          // the stored history; the log keeps what happened.
          if (e.event === "copy" || e.event === "sample") return;
          setLog((list) => (list.some((x) => x.seq === e.seq) ? list : [e, ...list]));
          if (e.event === "phase" || e.event === "replication") void status.reload();
        });
      })
      .then(
        (w) => {
          if (w == null) return;
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

  const loadOlder = () => {
    const oldest = log[log.length - 1];
    if (!oldest) return;
    eventsBefore(id, oldest.seq, LOG_PAGE).then(
      (page) => {
        setLog((list) => [...list, ...page.events.filter((e) => !list.some((x) => x.seq === e.seq))]);
        setHasOlder(page.events.length === LOG_PAGE);
      },
      (e) => setWatchError(asCommandError(e)),
    );
  };

  const chart = useMemo(() => lagPoints(lag.data), [lag.data]);
  const task = status.data;
  const latestSample: Sample | null = liveSample ?? task?.sample ?? null;
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
  const figures = copy ? copyFigures(copy) : null;
  const live: TaskStatus = { ...task, progress: copy, sample: latestSample };
  const phaseIndex = PHASE_ORDER.indexOf(task.phase === "failed" ? (task.failed_in ?? "precheck") : task.phase);
  const endpoint = `${from ?? task.destination.name}`;
  const nextSteps = task.phase === "success" ? (task.switch?.switchover ?? task.switch?.failover)?.next_steps ?? [] : [];

  return (
    <section>
      <PageHeader
        title={t("taskDetail.title", { id: task.id })}
        onBack={back}
        tags={
          <>
            <PhaseColumn task={live} />
            {task.switch?.switchover && (
              <Tag color="blue" data-testid="task-window">
                {t("taskDetail.window", { ms: formatDuration(task.switch.switchover.window.write_unavailable_ms) })}
              </Tag>
            )}
          </>
        }
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
      <WayBackAlert task={task} navigate={navigate} />
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
      {nextSteps.length > 0 && (
        <Card size="small" title={t("taskDetail.next")} style={{ marginBottom: 16 }} data-testid="task-next">
          <NextSteps steps={nextSteps} />
        </Card>
      )}
      {(task.phase === "increment" || task.phase === "success") && <AccessRulesCard taskId={task.id} />}
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
          {copy && figures ? (
            <>
              <Progress percent={figures.percent ?? 0} status={task.phase === "basebackup" ? "active" : "normal"} />
              <Descriptions
                size="small"
                column={4}
                items={[
                  { key: "done", label: t("taskDetail.copied"), children: figures.done },
                  { key: "rate", label: t("taskDetail.rate"), children: figures.rate },
                  { key: "eta", label: t("taskDetail.eta"), children: figures.eta ?? t("common.none") },
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
        <Segmented<Period>
          size="small"
          value={period}
          onChange={setPeriod}
          options={PERIODS.map((p) => ({ value: p, label: t(`taskDetail.period.${p}`) }))}
          style={{ marginBottom: 8 }}
          data-testid="lag-period"
        />
        <Suspense fallback={<div style={{ height: 262 }} />}>
          <LagChart
            points={chart.points}
            outages={chart.outages}
            domain={lag.data ? [Date.parse(lag.data.from), Date.parse(lag.data.to)] : undefined}
          />
        </Suspense>
        {task.sample_at && (
          <Typography.Text type={task.sample_live ? "warning" : "secondary"} data-testid="sample-taken">
            {t(task.sample_live ? "taskDetail.sampleLive" : "taskDetail.sampleStored", { time: formatTime(task.sample_at) })}
          </Typography.Text>
        )}
      </Card>
      <Card size="small" title={t("taskDetail.slot")} style={{ marginBottom: 16 }}>
        <SlotCard task={task} sample={latestSample} />
      </Card>
      <Card size="small" title={t("taskDetail.events")}>
        <Table<TaskEvent>
          rowKey="seq"
          size="small"
          pagination={{ pageSize: 15, hideOnSinglePage: true }}
          footer={
            hasOlder
              ? () => (
                  <Button size="small" onClick={loadOlder} data-testid="older-events">
                    {t("taskDetail.olderEvents")}
                  </Button>
                )
              : undefined
          }
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
