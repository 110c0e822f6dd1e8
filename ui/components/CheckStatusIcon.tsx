import { CheckCircleFilled, CloseCircleFilled, MinusCircleOutlined, WarningFilled } from "@ant-design/icons";
import { Tooltip } from "antd";
import type { CheckStatus } from "../api/assessments";
import { t } from "../i18n";

const ICON: Record<CheckStatus, React.ReactNode> = {
  success: <CheckCircleFilled style={{ color: "#52c41a" }} />,
  warning: <WarningFilled style={{ color: "#faad14" }} />,
  error: <CloseCircleFilled style={{ color: "#ff4d4f" }} />,
  skipped: <MinusCircleOutlined style={{ color: "#8c8c8c" }} />,
};

/** A check's status as an icon, named for screen readers and on hover. */
export default function CheckStatusIcon({ status }: { status: CheckStatus }) {
  return (
    <Tooltip title={t(`report.check.${status}`)}>
      <span role="img" aria-label={t(`report.check.${status}`)} data-status={status}>
        {ICON[status]}
      </span>
    </Tooltip>
  );
}
