import { Typography } from "antd";
import type { CheckStatus, Report } from "../../api/assessments";
import { t } from "../../i18n";
import { sectionId } from "./ReportChecks";

/** The report's counts by status. */
export function countsOf(report: Report) {
  const c = { errors: 0, warnings: 0, skipped: 0, passed: 0 };
  for (const check of report.groups.flatMap((g) => g.checks)) {
    if (check.status === "error") c.errors += 1;
    else if (check.status === "warning") c.warnings += 1;
    else if (check.status === "skipped") c.skipped += 1;
    else c.passed += 1;
  }
  return c;
}

function scrollTo(status: CheckStatus) {
  document.getElementById(sectionId(status))?.scrollIntoView({ behavior: "smooth", block: "start" });
}

/** One count; when there is something to see, a link that scrolls to those checks. */
function Count({ status, count, label }: { status: CheckStatus; count: number; label: string }) {
  if (count === 0) return <Typography.Text type="secondary">{label}</Typography.Text>;
  return (
    <Typography.Link
      href={`#${sectionId(status)}`}
      type={status === "error" ? "danger" : status === "warning" ? "warning" : undefined}
      strong={status === "error" || status === "warning"}
      onClick={(e) => {
        e.preventDefault(); // the console's router lives in the hash
        scrollTo(status);
      }}
      data-testid={`report-count-${status}`}
    >
      {label}
    </Typography.Link>
  );
}

/** The header's counts: errors and warnings link to their rows. */
export default function ReportCounts({ report }: { report: Report }) {
  const c = countsOf(report);
  const sep = " · ";
  return (
    <span data-testid="report-counts">
      <Count status="error" count={c.errors} label={t("report.count.errors", { count: c.errors })} />
      {sep}
      <Count status="warning" count={c.warnings} label={t("report.count.warnings", { count: c.warnings })} />
      {sep}
      <Count status="skipped" count={c.skipped} label={t("report.count.skipped", { count: c.skipped })} />
      {sep}
      <Count status="success" count={c.passed} label={t("report.count.passed", { count: c.passed })} />
    </span>
  );
}
