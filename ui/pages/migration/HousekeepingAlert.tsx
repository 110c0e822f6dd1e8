import { Alert } from "antd";
import type { Housekeeping } from "../../api/tasks";
import { t } from "../../i18n";

/**
 * The steps after promotion that are not done yet (a process stopped after the switchover,
 * or a step failed): which ones, and why the failed ones failed. Reading the task retries
 * them, so the alert goes away by itself once they succeed.
 */
export default function HousekeepingAlert({ housekeeping }: { housekeeping?: Housekeeping | null }) {
  const missing = (housekeeping?.steps ?? []).filter((s) => s.state !== "done");
  if (missing.length === 0) return null;
  const failed = missing.some((s) => s.state === "failed");
  return (
    <Alert
      type={failed ? "error" : "warning"}
      showIcon
      title={t(failed ? "housekeeping.failedTitle" : "housekeeping.pendingTitle")}
      description={
        <ul style={{ margin: 0, paddingInlineStart: 20 }}>
          {missing.map((s) => (
            <li key={s.step}>
              {t(`housekeeping.step.${s.step}`)}: {t(`housekeeping.state.${s.state}`)}
              {s.error ? ` (${s.error})` : ""}
            </li>
          ))}
        </ul>
      }
      style={{ marginBottom: 16 }}
      data-testid="housekeeping-alert"
    />
  );
}
