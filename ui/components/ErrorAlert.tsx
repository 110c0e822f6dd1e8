import { Alert } from "antd";
import type { CommandError } from "../api/core";
import { t } from "../i18n";

/** A command's failure as the console shows it: a title, then the message and its code. */
export default function ErrorAlert({
  error,
  title,
  testId,
  action,
}: {
  error: CommandError;
  title: string;
  testId?: string;
  action?: React.ReactNode;
}) {
  return (
    <Alert
      type="error"
      showIcon
      style={{ marginBottom: 16 }}
      title={title}
      description={<span style={{ whiteSpace: "pre-wrap" }}>{t("common.errorCode", { message: error.message, code: error.code })}</span>}
      data-testid={testId ?? "error-alert"}
      action={action}
    />
  );
}
