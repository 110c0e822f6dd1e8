import { Alert, Button, Checkbox, Modal, Space, Typography } from "antd";
import { useEffect, useState } from "react";
import { asCommandError } from "../../api/core";
import type { CommandError } from "../../api/core";
import { startFailover } from "../../api/tasks";
import type { Task } from "../../api/tasks";
import ErrorAlert from "../../components/ErrorAlert";
import { useReturnFocus } from "../../hooks/useReturnFocus";
import { t } from "../../i18n";
import type { MessageKey } from "../../i18n";
import { NextSteps, RunOutcome, RunSteps } from "./SwitchoverDialog";
import { applyEvent, initialRun, isOver } from "./switchRun";
import type { SwitchRun, SwitchStep } from "./switchRun";

const ACKS: MessageKey[] = ["failover.ack.loss", "failover.ack.source"];
const STEPS: SwitchStep[] = ["promote", "verify"];

/** Failover (DR): promote the standby now, without the source; the DBA acknowledges the loss. */
export default function FailoverDialog({
  task,
  destinationEndpoint,
  open,
  onClose,
}: {
  task: Pick<Task, "id" | "destination" | "source">;
  destinationEndpoint: string;
  open: boolean;
  onClose: (changed: boolean) => void;
}) {
  useReturnFocus(open);
  const [acks, setAcks] = useState<string[]>([]);
  const [run, setRun] = useState<SwitchRun | null>(null);
  const [error, setError] = useState<CommandError>();

  useEffect(() => {
    if (!open) {
      setAcks([]);
      setRun(null);
      setError(undefined);
    }
  }, [open]);

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
            <Button onClick={() => onClose(false)}>{t("common.cancel")}</Button>
            <Button type="primary" danger disabled={acks.length !== ACKS.length} onClick={failOver} data-testid="failover-now">
              {t("failover.now")}
            </Button>
          </Space>
        )
      }
    >
      {error && <ErrorAlert error={error} title={t("failover.failed")} />}
      {!run ? (
        <>
          <Alert type="warning" showIcon title={t("failover.intro")} style={{ marginBottom: 16 }} />
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
                {t("failover.success", { endpoint: destinationEndpoint })}
              </Typography.Text>
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
