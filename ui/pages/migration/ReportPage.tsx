import { Alert, Spin } from "antd";
import { getReport } from "../../api/assessments";
import ErrorAlert from "../../components/ErrorAlert";
import PageHeader from "../../components/PageHeader";
import { useLoad } from "../../hooks/useLoad";
import { t } from "../../i18n";
import { instanceRoute } from "../../router";
import type { Navigate } from "../../router";
import ExportButton from "./ExportButton";
import ReportView from "./ReportView";
import { useExport } from "./useExport";

/** The report page: a stored report, with Export. */
export default function ReportPage({ id, from, navigate }: { id: string; from?: string; navigate: Navigate }) {
  const report = useLoad(() => getReport(id), [id]);
  const exporter = useExport();
  const back = () => navigate(from ? instanceRoute(from, "migration", report.data?.mode === "dr" ? "dr" : "assessment") : { page: "instances" });
  return (
    <section>
      {exporter.holder}
      <PageHeader title={t("report.title")} onBack={back} />
      {report.error && <ErrorAlert error={report.error} title={t("common.failedToLoad")} testId="report-error" />}
      {exporter.error && <ErrorAlert error={exporter.error} title={t("report.exportFailed")} testId="export-error" />}
      {exporter.saved && (
        <Alert
          type="success"
          showIcon
          closable
          title={t("report.exported", { path: exporter.saved })}
          style={{ marginBottom: 16 }}
          data-testid="export-result"
        />
      )}
      {report.loading && !report.data && <Spin style={{ display: "block", margin: "48px auto" }} />}
      {report.data && (
        <ReportView
          report={report.data}
          actions={<ExportButton loading={exporter.busy} onExport={(f) => void exporter.run(id, f)} />}
        />
      )}
    </section>
  );
}
