import { Card, Descriptions, Space, Table, Tag, Typography } from "antd";
import type { CheckResult, Report, Verdict } from "../../api/assessments";
import CheckStatusIcon from "../../components/CheckStatusIcon";
import CopyBlock from "../../components/CopyBlock";
import { t } from "../../i18n";
import { formatBytes, formatDuration, formatTime } from "../../units";

const VERDICT_COLOR: Record<Verdict, string> = { success: "success", warning: "warning", error: "error" };

/** The report's counts in one line. */
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

function evidenceValue(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** A check's expanded row: finding, impact, remedy (copyable) and evidence. */
function CheckDetails({ check }: { check: CheckResult }) {
  const evidence = Object.entries(check.evidence);
  return (
    <div style={{ padding: "4px 8px" }} data-testid={`check-details-${check.id}`}>
      <Typography.Paragraph style={{ marginBottom: 8 }}>
        <Typography.Text strong>{t("report.message")}: </Typography.Text>
        {check.message}
      </Typography.Paragraph>
      {check.impact && (
        <Typography.Paragraph style={{ marginBottom: 8 }}>
          <Typography.Text strong>{t("report.impact")}: </Typography.Text>
          {check.impact}
        </Typography.Paragraph>
      )}
      {check.remedy && (
        <div style={{ marginBottom: 8 }}>
          <Typography.Text strong>{t("report.remedy")}</Typography.Text>
          <CopyBlock text={check.remedy} testId={`remedy-${check.id}`} />
        </div>
      )}
      {evidence.length > 0 && (
        <Descriptions
          size="small"
          column={1}
          bordered
          title={<Typography.Text strong>{t("report.evidence")}</Typography.Text>}
          items={evidence.map(([k, v]) => ({
            key: k,
            label: k,
            children: <Typography.Text style={{ whiteSpace: "pre-wrap", fontSize: 12 }}>{evidenceValue(v)}</Typography.Text>,
          }))}
        />
      )}
    </div>
  );
}

/** The assessment report: header (verdict, counts, both sides, duration) and the grouped checks. */
export default function ReportView({ report, actions }: { report: Report; actions?: React.ReactNode }) {
  const counts = countsOf(report);
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
              <Typography.Text data-testid="report-counts">{t("report.counts", counts)}</Typography.Text>
            </Space>
            <Typography.Text type="secondary">
              {t("report.mode")}: {t(`assess.mode.${report.mode}`)} · {t("report.created")}: {formatTime(report.created_at)} ·{" "}
              {t("report.duration")}: {formatDuration(report.duration_ms)} · {t("report.id")}: {report.id}
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
            title={`${t("report.source")}: ${s.name}`}
            items={[
              { key: "e", label: t("report.endpoint"), children: s.endpoint },
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
            title={`${t("report.destination")}: ${d.name}`}
            items={[
              { key: "e", label: t("report.endpoint"), children: d.endpoint },
              { key: "v", label: t("report.version"), children: d.version ?? dash },
              { key: "dd", label: t("report.dataDir"), children: d.data_dir ?? dash },
              { key: "f", label: t("report.free"), children: d.free_bytes != null ? formatBytes(d.free_bytes) : dash },
            ]}
          />
        </div>
      </Card>
      {report.groups.map((group) => (
        <Card key={group.name} title={group.name} size="small" style={{ marginBottom: 12 }} data-testid="report-group">
          <Table<CheckResult>
            rowKey="id"
            size="small"
            pagination={false}
            showHeader={false}
            dataSource={group.checks}
            expandable={{
              expandedRowRender: (check) => <CheckDetails check={check} />,
              defaultExpandedRowKeys: group.checks.filter((c) => c.status === "error" || c.status === "warning").map((c) => c.id),
              rowExpandable: (check) => check.status !== "success" || Object.keys(check.evidence).length > 0,
            }}
            onRow={(c) => ({ "data-testid": `check-${c.id}`, "data-status": c.status }) as React.HTMLAttributes<HTMLElement>}
            columns={[
              { key: "status", width: 36, render: (_, c) => <CheckStatusIcon status={c.status} /> },
              { key: "title", dataIndex: "title", width: "32%", render: (title: string) => <Typography.Text strong>{title}</Typography.Text> },
              { key: "message", dataIndex: "message", render: (m: string) => <Typography.Text type="secondary">{m}</Typography.Text> },
            ]}
          />
        </Card>
      ))}
    </div>
  );
}
