import { CheckCircleOutlined, LoadingOutlined } from "@ant-design/icons";
import { Space, Typography } from "antd";
import type { HostProgress } from "../../api/hosts";
import { t } from "../../i18n";
import { formatBytes } from "../../units";

/** Adds a step to the list; repeated upload steps replace each other (one line, growing). */
export function withStep(steps: HostProgress[], step: HostProgress): HostProgress[] {
  const last = steps[steps.length - 1];
  if (last && last.step === step.step) return [...steps.slice(0, -1), step];
  return [...steps, step];
}

function label(step: HostProgress): string {
  switch (step.step) {
    case "key_accepted":
      return t("hostStep.key_accepted", { fingerprint: step.fingerprint });
    case "uploading":
      return t("hostStep.uploading", { sent: formatBytes(step.sent), total: formatBytes(step.total) });
    default:
      return t(`hostStep.${step.step}`);
  }
}

/** The steps of adding or checking a host; the last one is running until `done`. */
export default function HostSteps({ steps, done }: { steps: HostProgress[]; done: boolean }) {
  if (steps.length === 0) return null;
  return (
    <Space orientation="vertical" size={2} data-testid="host-steps" style={{ marginBottom: 12 }}>
      {steps.map((step, i) => {
        const running = !done && i === steps.length - 1;
        return (
          <Space key={`${step.step}-${i}`} size="small" data-testid={`host-step-${step.step}`} data-state={running ? "running" : "done"}>
            {running ? <LoadingOutlined /> : <CheckCircleOutlined style={{ color: "#52c41a" }} />}
            <Typography.Text>{label(step)}</Typography.Text>
          </Space>
        );
      })}
    </Space>
  );
}
