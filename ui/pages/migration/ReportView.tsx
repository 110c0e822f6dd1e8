import { Card, Descriptions, Space, Tag, Typography } from "antd";
import type { Report, Verdict } from "../../api/assessments";
import NoBreak from "../../components/NoBreak";
import ShortId from "../../components/ShortId";
import { labelled, t } from "../../i18n";
import { formatBytes, formatDuration, formatTime } from "../../units";
import ReportChecks from "./ReportChecks";
import ReportCounts from "./ReportCounts";

const VERDICT_COLOR: Record<Verdict, string> = { success: "success", warning: "warning", error: "error" };

/** The assessment report: header (verdict, counts linking to the checks, both sides, duration), then the checks that need a look first. */
export default function ReportView({ report, actions }: { report: Report; actions?: React.ReactNode }) {
  const s = report.source;
  const d = report.destination;
  const dash = t("common.none");
  return (
    <div data-testid="report-view">
      <Card style={{ marginBottom: 16 }}>
        <div style={{ display: "flex", justifyContent: "space-between", alignItems: "flex-start", gap: 16 }}>
          <Space orientation="vertical" size={4}>
            <Space>
              <Tag color={VERDICT_COLOR[report.verdict]} style={{ fontSize: 16, padding: "4px 10px" }} data-testid="report-verdict">
                {t(`report.verdict.${report.verdict}`)}
              </Tag>
              <ReportCounts report={report} />
            </Space>
            <Typography.Text type="secondary">
              {labelled("report.mode")}{t(`assess.mode.${report.mode}`)} · {labelled("report.created")}{formatTime(report.created_at)} ·{" "}
              {labelled("report.duration")}{formatDuration(report.duration_ms)} · <NoBreak>
                {labelled("report.id")}<ShortId id={report.id} testId="report-id" />
              </NoBreak>
            </Typography.Text>
          </Space>
          {actions}
        </div>
        <div style={{ display: "flex", gap: 16, marginTop: 16 }}>
          <Descriptions
            size="small"
            bordered
            column={1}
            style={{ flex: 1 }}
            title={
              <>
                {labelled("report.source")}<NoBreak>{s.name}</NoBreak>
              </>
            }
            items={[
              { key: "e", label: t("report.endpoint"), children: <NoBreak>{s.endpoint}</NoBreak> },
              { key: "v", label: t("report.version"), children: s.version ?? dash },
              { key: "id", label: t("report.systemId"), children: s.system_id ?? dash },
              { key: "sz", label: t("report.size"), children: s.size_bytes != null ? formatBytes(s.size_bytes) : dash },
            ]}
          />
          <Descriptions
            size="small"
            bordered
            column={1}
            style={{ flex: 1 }}
            title={
              <>
                {labelled("report.destination")}<NoBreak>{d.name}</NoBreak>
              </>
            }
            items={[
              { key: "e", label: t("report.endpoint"), children: <NoBreak>{d.endpoint}</NoBreak> },
              { key: "v", label: t("report.version"), children: d.version ?? dash },
              { key: "dd", label: t("report.dataDir"), children: d.data_dir ?? dash },
              { key: "f", label: t("report.free"), children: d.free_bytes != null ? formatBytes(d.free_bytes) : dash },
            ]}
          />
        </div>
      </Card>
      <ReportChecks report={report} />
    </div>
  );
}
