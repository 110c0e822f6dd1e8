import { ReloadOutlined } from "@ant-design/icons";
import { Alert, Button, Checkbox, Form, Input, Modal, Radio, Result, Space, Spin, Steps, Typography } from "antd";
import { useEffect, useState } from "react";
import { asCommandError } from "../../api/core";
import type { CommandError } from "../../api/core";
import { DEFAULT_CATCHUP_TIMEOUT_SECS, startSwitchover, switchoverPreview, watchSwitchover } from "../../api/tasks";
import type { NextStep } from "../../api/generated/NextStep";
import type { FenceChoice, FenceStrategy, GuardrailStatus, Hook, HookAt, Task } from "../../api/tasks";
import CheckStatusIcon from "../../components/CheckStatusIcon";
import CopyBlock from "../../components/CopyBlock";
import ErrorAlert from "../../components/ErrorAlert";
import ItemList from "../../components/ItemList";
import { useLoad } from "../../hooks/useLoad";
import { useReturnFocus } from "../../hooks/useReturnFocus";
import { t } from "../../i18n";
import type { MessageKey } from "../../i18n";
import { formatBytes, formatDuration } from "../../units";
import { guardrailMessage, guardrailTitle } from "../../words";
import { SWITCH_STEPS, applyEvent, initialRun, isOver, stepsOf } from "./switchRun";
import type { SwitchRun, SwitchStep } from "./switchRun";

const GUARDRAIL_ICON: Record<GuardrailStatus, "success" | "warning" | "error"> = {
  pass: "success",
  warning: "warning",
  error: "error",
};

const ACKS: MessageKey[] = ["switch.ack.writes", "switch.ack.reconnect", "switch.ack.readonly"];

/** The live steps of a run. */
export function RunSteps({ run, steps = SWITCH_STEPS }: { run: SwitchRun; steps?: SwitchStep[] }) {
  const current = steps.findIndex((s) => run.steps[s]?.state === "running");
  return (
    <Steps
      orientation="vertical"
      size="small"
      current={current < 0 ? steps.filter((s) => run.steps[s]?.state === "done").length : current}
      data-testid="switch-steps"
      items={steps.map((s) => {
        const st = run.steps[s] ?? { state: "waiting" };
        const title =
          s === "catchup" && st.bytesBehind != null
            ? t("switch.step.catchupBehind", { bytes: formatBytes(st.bytesBehind) })
            : t(`switch.step.${s}` as MessageKey);
        return {
          key: s,
          title,
          description: st.message,
          status: st.state === "waiting" ? "wait" : st.state === "running" ? "process" : st.state === "done" ? "finish" : "error",
          "data-testid": `switch-step-${s}`,
          "data-state": st.state,
        };
      })}
    />
  );
}

/** The engine's next steps, each in the words of the translation table, with what to copy
 * (connection strings, statements, commands) each in a block of its own. */
export function NextSteps({ steps }: { steps: NextStep[] }) {
  return (
    <ol style={{ paddingInlineStart: 20 }}>
      {steps.map((s, i) => (
        <li key={i} data-testid={`next-${s.kind}`} style={{ marginBottom: 8 }}>
          {nextStepText(s)}
          {nextStepCommands(s).map((c) => (
            <div key={c} style={{ marginTop: 4 }}>
              <CopyBlock text={c} testId={`next-${s.kind}-command`} />
            </div>
          ))}
        </li>
      ))}
    </ol>
  );
}

/** What a step asks the DBA to copy, as the engine's `NextStep::commands` gives it. */
export function nextStepCommands(s: NextStep): string[] {
  switch (s.kind) {
    case "reconnect":
      return [s.uri, s.keywords].filter((c) => c);
    case "drop_slot":
      return [s.drop_with];
    case "rerun_hook":
    case "apply_access_rules":
      return [s.command];
    default:
      return [];
  }
}

/** One next step in words. */
export function nextStepText(s: NextStep): string {
  switch (s.kind) {
    case "reconnect":
      return t("switch.next.reconnect", { endpoint: s.endpoint });
    case "drop_slot":
      return t("switch.next.drop_slot", { slot: s.slot });
    case "apply_access_rules":
      return t("switch.next.apply_access_rules", { count: s.count });
    case "text":
      return s.text;
    default:
      return t(`switch.next.${s.kind}`);
  }
}

/** The end of a run: success with the measured window and next steps, a roll-back, or a failure. */
export function RunOutcome({ run, endpoint }: { run: SwitchRun; endpoint: string }) {
  if (run.result) {
    const r = run.result;
    const primary = r.newPrimary || endpoint;
    return (
      <Result
        status="success"
        title={t("switch.success")}
        data-testid="switch-success"
        subTitle={
          <Space orientation="vertical" size={2}>
            <Typography.Text strong data-testid="switch-window">
              {t("switch.window", { ms: formatDuration(r.windowMs) })}
            </Typography.Text>
            <Typography.Text data-testid="switch-new-primary">{t("switch.newPrimary", { endpoint: primary })}</Typography.Text>
            {r.warnings.map((w) => (
              <Typography.Text key={w} type="warning">
                {w}
              </Typography.Text>
            ))}
          </Space>
        }
        extra={
          <div style={{ textAlign: "left", maxWidth: 560, margin: "0 auto" }} data-testid="switch-next">
            <Typography.Title level={5}>{t("switch.next")}</Typography.Title>
            <NextSteps steps={r.nextSteps} />
          </div>
        }
      />
    );
  }
  if (run.rolledBack !== undefined) {
    return (
      <Result
        status="warning"
        title={t("switch.rolledBack")}
        subTitle={t("switch.rolledBackBody", { reason: run.rolledBack })}
        data-testid="switch-rolled-back"
      />
    );
  }
  if (run.failed) {
    return <ErrorAlert error={run.failed} title={t("switch.failed")} testId="switch-failed" />;
  }
  return null;
}

/** The hook timeout typed, in seconds: digits only, 1 to 3600; `null` otherwise. */
export function parseHookTimeout(typed: string): number | null {
  const text = typed.trim();
  if (!/^[0-9]+$/.test(text)) return null;
  const secs = Number(text);
  return secs >= 1 && secs <= 3600 ? secs : null;
}

/** The hook as typed (`undefined`: a timeout that cannot be used; `null`: no hook). */
export function hookOf(command: string, timeoutText: string, at: HookAt): Hook | null | undefined {
  if (!command.trim()) return null;
  const secs = parseHookTimeout(timeoutText);
  return secs === null ? undefined : { command, timeout_ms: secs * 1000, at };
}

/** Why a fence cannot be used, in the words of its finding. */
function unavailableReason(c: FenceChoice): string {
  return guardrailMessage({ id: "fence.strategy", status: "error", ...c.finding });
}

/**
 * Every fence as a radio, each with its guarantee; an unavailable one is disabled and says
 * why. The strongest available is chosen until the DBA picks another.
 */
export function FenceChoices({
  fences,
  value,
  onChange,
}: {
  fences: FenceChoice[];
  value: FenceStrategy | null;
  onChange: (s: FenceStrategy) => void;
}) {
  return (
    <Radio.Group
      value={value}
      onChange={(e) => onChange(e.target.value as FenceStrategy)}
      style={{ display: "grid", gap: 8, marginBottom: 16 }}
      data-testid="switch-fences"
      data-chosen={value ?? ""}
    >
      {fences.map((c) => (
        <Radio key={c.strategy} value={c.strategy} disabled={!c.available} data-testid={`fence-${c.strategy}`}>
          <span data-testid={`fence-${c.strategy}-guarantee`}>{t(`switch.fence.${c.strategy}`)}</span>
          {!c.available && (
            <Typography.Text type="secondary" style={{ display: "block" }} data-testid={`fence-${c.strategy}-reason`}>
              {t("switch.fenceUnavailable", { reason: unavailableReason(c) })}
            </Typography.Text>
          )}
        </Radio>
      ))}
    </Radio.Group>
  );
}

/** The catch-up timeout typed, in seconds: digits only, 10 to 86400; `null` otherwise. */
export function parseTimeout(typed: string): number | null {
  const text = typed.trim();
  if (!/^[0-9]+$/.test(text)) return null;
  const secs = Number(text);
  return secs >= 10 && secs <= 86400 ? secs : null;
}

/**
 * Switchover: fresh guardrails, the fence that will be used, a timeout and three
 * acknowledgements; then the live steps and the measured window (or why it rolled back).
 */
export default function SwitchoverDialog({
  task,
  destinationEndpoint,
  open,
  watch,
  onClose,
}: {
  task: Pick<Task, "id" | "destination" | "source">;
  destinationEndpoint: string;
  open: boolean;
  /** Re-subscribe to a switchover already under way (the page was reloaded). */
  watch?: boolean;
  onClose: (changed: boolean) => void;
}) {
  useReturnFocus(open);
  // The fence the DBA picked (null: the strongest available); the preview is evaluated for it.
  const [fence, setFence] = useState<FenceStrategy | null>(null);
  const plan = useLoad(
    () => (open && !watch ? switchoverPreview(task.id, fence) : Promise.resolve(null)),
    [open, task.id, watch, fence],
  );
  const [acks, setAcks] = useState<string[]>([]);
  // As typed: "12x" is refused, not read as 12, and 99999 is not clamped.
  const [timeoutText, setTimeoutText] = useState(String(DEFAULT_CATCHUP_TIMEOUT_SECS));
  const timeout = parseTimeout(timeoutText);
  const [run, setRun] = useState<SwitchRun | null>(null);
  const [startError, setStartError] = useState<CommandError>();
  const [hookCommand, setHookCommand] = useState("");
  const [hookTimeoutText, setHookTimeoutText] = useState("30");
  const [hookAt, setHookAt] = useState<HookAt>("before_promotion");
  const hook = hookOf(hookCommand, hookTimeoutText, hookAt);

  useEffect(() => {
    if (!open) {
      setAcks([]);
      setFence(null);
      setHookCommand("");
      setHookTimeoutText("30");
      setHookAt("before_promotion");
      setRun(null);
      setStartError(undefined);
      return;
    }
    if (watch) {
      setRun(initialRun());
      void watchSwitchover(task.id, (e) => setRun((r) => applyEvent(r ?? initialRun(), e))).catch((e) =>
        setStartError(asCommandError(e)),
      );
    }
  }, [open, watch, task.id]);

  const guardrailsOk = plan.data?.ready ?? false;
  const fenceOk = Boolean(plan.data?.strategy);
  const canSwitch = guardrailsOk && fenceOk && acks.length === ACKS.length && !run && timeout !== null && hook !== undefined;

  const switchNow = async () => {
    setStartError(undefined);
    setRun(initialRun());
    try {
      await startSwitchover(task.id, timeout ?? DEFAULT_CATCHUP_TIMEOUT_SECS, fence, hook ?? null, (e) =>
        setRun((r) => applyEvent(r ?? initialRun(), e)),
      );
    } catch (e) {
      setRun(null);
      setStartError(asCommandError(e));
    }
  };

  // Checking again is a new attempt: the last start's error does not stay beside its outcome.
  const recheck = () => {
    setStartError(undefined);
    void plan.reload();
  };

  const over = run ? isOver(run) : false;
  const footer = run ? (
    <Button type="primary" disabled={!over} onClick={() => onClose(true)} data-testid="switch-close">
      {t("common.close")}
    </Button>
  ) : (
    <Space>
      <Button onClick={() => onClose(false)}>{t("common.cancel")}</Button>
      <Button type="primary" danger disabled={!canSwitch} onClick={switchNow} data-testid="switch-now">
        {t("switch.now")}
      </Button>
    </Space>
  );

  return (
    <Modal
      open={open}
      title={`${t("switch.title")} — ${task.source.name} → ${task.destination.name}`}
      width={760}
      // An 800 px tall window holds the whole dialog: title and buttons stay, the body scrolls.
      style={{ top: 24, paddingBottom: 0 }}
      styles={{ body: { maxHeight: "calc(100vh - 190px)", overflowY: "auto", overscrollBehavior: "contain" } }}
      onCancel={() => (run && !over ? undefined : onClose(Boolean(run)))}
      closable={!run || over}
      mask={{ closable: false }}
      footer={footer}
      destroyOnHidden
    >
      {startError && <ErrorAlert error={startError} title={t("switch.failed")} testId="switch-start-error" />}
      {!run && (
        <div data-testid="switch-plan">
          {plan.error && <ErrorAlert error={plan.error} title={t("common.failedToLoad")} />}
          {plan.loading && !plan.data && <Spin />}
          {plan.data && (
            <>
              <Space style={{ width: "100%", justifyContent: "space-between" }}>
                <Typography.Title level={5} style={{ margin: 0 }}>
                  {t("switch.guardrails")}
                </Typography.Title>
                <Button size="small" icon={<ReloadOutlined />} onClick={recheck} loading={plan.loading} data-testid="switch-recheck">
                  {t("switch.recheck")}
                </Button>
              </Space>
              <ItemList
                style={{ margin: "8px 0 16px" }}
                items={plan.data.guardrails}
                rowKey={(g) => g.id}
                rowProps={(g) => ({ "data-testid": `guardrail-${g.id}`, "data-status": g.status })}
                render={(g) => (
                  <Space align="start">
                    <CheckStatusIcon status={GUARDRAIL_ICON[g.status]} />
                    <span>
                      <Typography.Text strong>{guardrailTitle(g)}</Typography.Text>{" "}
                      <Typography.Text type="secondary">{guardrailMessage(g)}</Typography.Text>
                    </span>
                  </Space>
                )}
              />
              {!guardrailsOk && (
                <Alert type="error" showIcon title={t("switch.guardrailFailed")} style={{ marginBottom: 16 }} data-testid="guardrail-failed" />
              )}
              <Typography.Title level={5}>{t("switch.fence")}</Typography.Title>
              {plan.data.fences?.length ? (
                <FenceChoices
                  fences={plan.data.fences}
                  value={fence ?? plan.data.strategy ?? plan.data.default_strategy}
                  onChange={setFence}
                />
              ) : (
                <Typography.Paragraph data-testid="switch-fence">
                  {t(`switch.fence.${plan.data.strategy ?? "none"}`)}
                </Typography.Paragraph>
              )}
              <Form layout="vertical">
                <Form.Item
                  label={t("switch.timeout")}
                  htmlFor="switch-timeout"
                  validateStatus={timeout === null ? "error" : undefined}
                  help={timeout === null ? t("switch.timeoutInvalid") : undefined}
                >
                  <Input
                    id="switch-timeout"
                    inputMode="numeric"
                    style={{ width: 160 }}
                    value={timeoutText}
                    onChange={(e) => setTimeoutText(e.target.value)}
                    data-testid="switch-timeout"
                  />
                </Form.Item>
                <Typography.Title level={5}>{t("switch.hook")}</Typography.Title>
                <Form.Item label={t("switch.hookCommand")} htmlFor="switch-hook" extra={t("switch.hookCommandHelp")}>
                  <Input
                    id="switch-hook"
                    value={hookCommand}
                    onChange={(e) => setHookCommand(e.target.value)}
                    spellCheck={false}
                    style={{ fontFamily: "monospace" }}
                    data-testid="switch-hook"
                  />
                </Form.Item>
                {hookCommand.trim() && (
                  <>
                    <Form.Item
                      label={t("switch.hookTimeout")}
                      htmlFor="switch-hook-timeout"
                      validateStatus={hook === undefined ? "error" : undefined}
                      help={hook === undefined ? t("switch.hookTimeoutInvalid") : undefined}
                    >
                      <Input
                        id="switch-hook-timeout"
                        inputMode="numeric"
                        style={{ width: 160 }}
                        value={hookTimeoutText}
                        onChange={(e) => setHookTimeoutText(e.target.value)}
                        data-testid="switch-hook-timeout"
                      />
                    </Form.Item>
                    <Form.Item label={t("switch.hookAt")}>
                      <Radio.Group
                        value={hookAt}
                        onChange={(e) => setHookAt(e.target.value as HookAt)}
                        style={{ display: "grid", gap: 8 }}
                      >
                        {(["before_promotion", "after_promotion"] as const).map((at) => (
                          <Radio key={at} value={at} data-testid={`switch-hook-at-${at}`}>
                            {t(`switch.hookAt.${at}`)}
                          </Radio>
                        ))}
                      </Radio.Group>
                    </Form.Item>
                  </>
                )}
              </Form>
              <Checkbox.Group value={acks} onChange={(v) => setAcks(v as string[])} style={{ display: "grid", gap: 8 }}>
                {ACKS.map((k) => (
                  <Checkbox key={k} value={k} data-testid={`ack-${k.split(".").pop()}`}>
                    {t(k)}
                  </Checkbox>
                ))}
              </Checkbox.Group>
            </>
          )}
        </div>
      )}
      {run && (
        <div data-testid="switch-run">
          <RunSteps run={run} steps={stepsOf(run.hookAt ?? hook?.at)} />
          {!over && <Typography.Text type="secondary">{t("switch.running")}</Typography.Text>}
          <RunOutcome run={run} endpoint={destinationEndpoint} />
        </div>
      )}
    </Modal>
  );
}
