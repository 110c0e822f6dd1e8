import { Alert, Button, Checkbox, Descriptions, Modal, Space, Spin, Typography } from "antd";
import { useCallback, useEffect, useState } from "react";
import { asCommandError } from "../../api/core";
import type { CommandError } from "../../api/core";
import { failoverPreview, startFailover } from "../../api/tasks";
import type { FailoverPreview, Task } from "../../api/tasks";
import ErrorAlert from "../../components/ErrorAlert";
import { useReturnFocus } from "../../hooks/useReturnFocus";
import { t } from "../../i18n";
import type { MessageKey } from "../../i18n";
import { formatBytes, formatDuration, formatTime } from "../../units";
import { guardrailLine } from "../../words";
import { NextSteps, RunOutcome, RunSteps } from "./SwitchoverDialog";
import { applyEvent, initialRun, isOver } from "./switchRun";
import type { SwitchRun, SwitchStep } from "./switchRun";

const ACKS: MessageKey[] = ["failover.ack.loss", "failover.ack.source"];
const STEPS: SwitchStep[] = ["promote", "verify"];

/** A position with its time, or "unknown". */
function at(lsn: string | null, time: string | null): string {
  if (!lsn) return t("failover.unknown");
  return time ? t("failover.atTime", { lsn, time: formatTime(time) }) : lsn;
}

/** What a failover costs, as read now: the source's answer, the positions, the estimated loss. */
export function FailoverCost({ preview, mode }: { preview: FailoverPreview; mode: Task["mode"] }) {
  const sourceLsn = preview.source_lsn ?? t("failover.unknown");
  return (
    <div data-testid="failover-preview">
      {preview.source_answers ? (
        <Alert
          type="error"
          showIcon
          style={{ marginBottom: 12 }}
          title={t(mode === "migration" ? "failover.sourceAnswersMigration" : "failover.sourceAnswersDr", { lsn: sourceLsn })}
          data-testid="failover-source-answers"
        />
      ) : (
        <Alert
          type="warning"
          showIcon
          style={{ marginBottom: 12 }}
          title={
            preview.source_unreachable_since
              ? t("failover.sourceLostSince", { time: formatTime(preview.source_unreachable_since) })
              : t("failover.sourceLost")
          }
          description={preview.source_error ?? undefined}
          data-testid="failover-source-lost"
        />
      )}
      <Descriptions
        size="small"
        column={1}
        bordered
        items={[
          { key: "received", label: t("failover.received"), children: <span data-testid="failover-received">{at(preview.received_lsn, preview.received_at)}</span> },
          { key: "replayed", label: t("failover.replayed"), children: <span data-testid="failover-replayed">{at(preview.replayed_lsn, preview.replayed_at)}</span> },
          ...(preview.source_answers
            ? [{ key: "source", label: t("failover.sourcePosition"), children: sourceLsn }]
            : []),
          {
            key: "loss",
            label: t("failover.lossBytes"),
            children: (
              <span data-testid="failover-loss-bytes">
                {preview.loss_bytes != null ? t("failover.lossBytesValue", { bytes: formatBytes(preview.loss_bytes) }) : t("failover.lossBytesUnknown")}
              </span>
            ),
          },
          {
            key: "since",
            label: t("failover.lossTime"),
            children: (
              <span data-testid="failover-loss-time">
                {preview.loss_since_replay_ms != null
                  ? t("failover.lossTimeValue", { duration: formatDuration(preview.loss_since_replay_ms) })
                  : t("failover.noReplayedTransaction")}
              </span>
            ),
          },
          { key: "endpoint", label: t("failover.newEndpoint"), children: <Typography.Text code>{preview.new_endpoint}</Typography.Text> },
        ]}
      />
      <Typography.Text type="secondary" data-testid="failover-read-at">
        {t("failover.readAt", { time: formatTime(preview.read_at) })}
      </Typography.Text>
      {!preview.ready && (
        <Alert
          type="error"
          showIcon
          style={{ marginTop: 12 }}
          title={t("failover.notReady")}
          description={preview.guardrails
            .filter((g) => g.status === "error")
            .map(guardrailLine)
            .join("; ")}
          data-testid="failover-not-ready"
        />
      )}
    </div>
  );
}

/** Failover: promote the standby now, without the source. The cost is read fresh when the
 * dialog opens (and on demand); the DBA acknowledges the loss. */
export default function FailoverDialog({
  task,
  destinationEndpoint,
  open,
  onClose,
}: {
  task: Pick<Task, "id" | "destination" | "source" | "mode">;
  destinationEndpoint: string;
  open: boolean;
  onClose: (changed: boolean) => void;
}) {
  useReturnFocus(open);
  const [acks, setAcks] = useState<string[]>([]);
  const [run, setRun] = useState<SwitchRun | null>(null);
  const [error, setError] = useState<CommandError>();
  const [preview, setPreview] = useState<FailoverPreview | null>(null);
  const [previewError, setPreviewError] = useState<CommandError>();
  const [reading, setReading] = useState(false);

  const read = useCallback(async () => {
    setReading(true);
    // Reading again is a new attempt: the last failover's error does not stay beside its outcome.
    setPreviewError(undefined);
    setError(undefined);
    try {
      setPreview(await failoverPreview(task.id));
    } catch (e) {
      setPreview(null);
      setPreviewError(asCommandError(e));
    } finally {
      setReading(false);
    }
  }, [task.id]);

  useEffect(() => {
    if (!open) {
      setAcks([]);
      setRun(null);
      setError(undefined);
      setPreview(null);
      return;
    }
    void read();
  }, [open, read]);

  const failOver = async () => {
    setError(undefined);
    setRun(initialRun());
    try {
      await startFailover(task.id, (e) => setRun((r) => applyEvent(r ?? initialRun(), e)));
    } catch (e) {
      setRun(null);
      setError(asCommandError(e));
    }
  };

  const over = run ? isOver(run) : false;
  return (
    <Modal
      open={open}
      title={`${t("failover.title")} — ${task.destination.name}`}
      width={680}
      onCancel={() => (run && !over ? undefined : onClose(Boolean(run)))}
      mask={{ closable: false }}
      destroyOnHidden
      footer={
        run ? (
          <Button type="primary" disabled={!over} onClick={() => onClose(true)}>
            {t("common.close")}
          </Button>
        ) : (
          <Space>
            <Button onClick={() => void read()} loading={reading} data-testid="failover-refresh">
              {t("failover.refresh")}
            </Button>
            <Button onClick={() => onClose(false)}>{t("common.cancel")}</Button>
            <Button
              type="primary"
              danger
              disabled={acks.length !== ACKS.length || !preview?.ready || reading}
              onClick={failOver}
              data-testid="failover-now"
            >
              {t("failover.now")}
            </Button>
          </Space>
        )
      }
    >
      {error && <ErrorAlert error={error} title={t("failover.failed")} />}
      {!run ? (
        <>
          <Typography.Paragraph>{t("failover.intro")}</Typography.Paragraph>
          <Typography.Title level={5}>{t("failover.preview")}</Typography.Title>
          {previewError && <ErrorAlert error={previewError} title={t("failover.preview")} testId="failover-preview-error" />}
          {preview ? <FailoverCost preview={preview} mode={task.mode} /> : !previewError && <Spin />}
          <div style={{ height: 16 }} />
          <Checkbox.Group value={acks} onChange={(v) => setAcks(v as string[])} style={{ display: "grid", gap: 8 }}>
            {ACKS.map((k) => (
              <Checkbox key={k} value={k}>
                {t(k)}
              </Checkbox>
            ))}
          </Checkbox.Group>
        </>
      ) : (
        <>
          <RunSteps run={run} steps={STEPS} />
          <RunOutcome run={run} endpoint={destinationEndpoint} />
          {run.failover && (
            <>
              <Typography.Text strong data-testid="failover-success">
                {t("failover.success", { endpoint: preview?.new_endpoint ?? destinationEndpoint })}
              </Typography.Text>
              <div data-testid="failover-figures">
                <Typography.Text>{t("failover.promotionTook", { ms: formatDuration(run.failover.promote_ms) })}</Typography.Text>
                {run.failover.source_unreachable_since && (
                  <>
                    <br />
                    <Typography.Text type="warning">
                      {t("failover.sourceUnreachableSince", { time: formatTime(run.failover.source_unreachable_since) })}
                    </Typography.Text>
                  </>
                )}
                <br />
                <Typography.Text>{t("failover.lastReplayed", { lsn: run.failover.last_replayed_lsn })}</Typography.Text>
              </div>
              {run.failover.next_steps.length > 0 && (
                <div data-testid="failover-next" style={{ marginTop: 12 }}>
                  <Typography.Title level={5}>{t("switch.next")}</Typography.Title>
                  <NextSteps steps={run.failover.next_steps} />
                </div>
              )}
            </>
          )}
        </>
      )}
    </Modal>
  );
}
