import { PlusOutlined } from "@ant-design/icons";
import { Alert, Button, Empty, Popconfirm, Progress, Space, Table, Tag, Typography } from "antd";
import { useEffect, useRef, useState } from "react";
import { deleteAssessment, listAssessments, watchAssessment } from "../../api/assessments";
import type { AssessmentRow } from "../../api/assessments";
import type { InstanceStatus } from "../../api/instances";
import ErrorAlert from "../../components/ErrorAlert";
import NoBreak from "../../components/NoBreak";
import { useLoad } from "../../hooks/useLoad";
import { t } from "../../i18n";
import type { Navigate } from "../../router";
import { formatTime } from "../../units";
import AssessmentWizard from "./AssessmentWizard";
import ExportButton from "./ExportButton";
import { useExport } from "./useExport";

const STATUS_COLOR: Record<AssessmentRow["status"], string> = {
  running: "processing",
  success: "success",
  warning: "warning",
  error: "error",
  failed: "error",
};

/** A row's key: its report once stored, else its run. */
const rowKey = (r: AssessmentRow) => r.report_id ?? r.job_id ?? r.created_at;

/** Feasibility Assessment: the wizard and the assessment task table of this destination. */
export default function FeasibilityAssessment({ instance, navigate }: { instance: InstanceStatus; navigate: Navigate }) {
  const [wizard, setWizard] = useState(false);
  // What registering the wizard's new source found, until dismissed.
  const [registered, setRegistered] = useState<string>();
  const list = useLoad(listAssessments, []);
  const exporter = useExport();
  const [progress, setProgress] = useState<Record<string, number>>({});
  const watching = useRef(new Set<string>());
  const rows = (list.data ?? []).filter((r) => r.destination === instance.name);

  // Runs in progress stream their checks here; a reloaded page re-subscribes by the run's id.
  useEffect(() => {
    for (const row of rows) {
      const job = row.job_id;
      if (row.status !== "running" || !job || watching.current.has(job)) continue;
      watching.current.add(job);
      let done = 0;
      void watchAssessment(job, (e) => {
        if (e.event === "check") {
          done += 1;
          setProgress((p) => ({ ...p, [job]: done }));
        } else if (e.event === "finished" || e.event === "failed") {
          void list.reload();
        }
      }).catch(() => void list.reload());
    }
  });

  const columns = [
    {
      title: t("assess.col.task"),
      key: "task",
      render: (_: unknown, r: AssessmentRow) => (
        <Space orientation="vertical" size={0}>
          <Typography.Text strong style={{ whiteSpace: "nowrap" }}>
            {t(`assess.mode.${r.mode}`)}
          </Typography.Text>
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {r.report_id ?? r.job_id}
          </Typography.Text>
        </Space>
      ),
    },
    { title: t("assess.col.source"), dataIndex: "source", render: (s: string) => <NoBreak>{s}</NoBreak> },
    { title: t("assess.col.created"), dataIndex: "created_at", render: (c: string) => formatTime(c) },
    {
      title: t("assess.col.status"),
      key: "status",
      render: (_: unknown, r: AssessmentRow) =>
        r.status === "running" ? (
          <Space orientation="vertical" size={0} style={{ minWidth: 140 }}>
            <Tag color="processing">
              {t("assess.running", { done: progress[r.job_id ?? ""] ?? r.checks_done, total: r.checks_total })}
            </Tag>
            <Progress
              size="small"
              percent={Math.round((100 * (progress[r.job_id ?? ""] ?? r.checks_done)) / Math.max(1, r.checks_total))}
              showInfo={false}
            />
          </Space>
        ) : (
          <Tag color={STATUS_COLOR[r.status]} title={r.error?.message}>
            {t(`assess.status.${r.status}`)}
          </Tag>
        ),
    },
    {
      title: t("assess.col.findings"),
      key: "findings",
      render: (_: unknown, r: AssessmentRow) =>
        r.counts ? (
          <Typography.Text>
            <Typography.Text type={r.counts.errors ? "danger" : undefined}>{r.counts.errors}</Typography.Text>
            {" / "}
            <Typography.Text type={r.counts.warnings ? "warning" : undefined}>{r.counts.warnings}</Typography.Text>
          </Typography.Text>
        ) : (
          t("common.none")
        ),
    },
    {
      title: t("assess.col.actions"),
      key: "actions",
      render: (_: unknown, r: AssessmentRow) => (
        <Space size="small">
          {r.report_id && (
            <Button
              type="link"
              size="small"
              data-testid="view-report"
              onClick={() => navigate({ page: "report", id: r.report_id!, instance: instance.name })}
            >
              {t("assess.view")}
            </Button>
          )}
          {r.report_id && (
            <ExportButton size="small" type="link" onExport={(f) => void exporter.run(r.report_id!, f)} />
          )}
          {r.status !== "running" && (
            <Popconfirm
              title={t("assess.deleteConfirm")}
              okButtonProps={{ danger: true }}
              onConfirm={async () => {
                await deleteAssessment(r);
                void list.reload();
              }}
            >
              <Button type="link" size="small" danger>
                {t("common.delete")}
              </Button>
            </Popconfirm>
          )}
        </Space>
      ),
    },
  ];

  return (
    <section>
      {exporter.holder}
      <div style={{ marginBottom: 12 }}>
        <Button
          type="primary"
          icon={<PlusOutlined />}
          onClick={() => setWizard(true)}
          disabled={instance.kind !== "managed"}
          data-testid="create-assessment"
        >
          {t("assess.create")}
        </Button>
      </div>
      {list.error && <ErrorAlert error={list.error} title={t("common.failedToLoad")} />}
      {exporter.error && <ErrorAlert error={exporter.error} title={t("report.exportFailed")} />}
      <CouldNotRun rows={rows} />
      {registered && (
        <Alert
          type="warning"
          showIcon
          closable={{ onClose: () => setRegistered(undefined) }}
          title={registered}
          style={{ marginBottom: 16 }}
          data-testid="same-endpoint-warning"
        />
      )}
      <Table<AssessmentRow>
        // Wider than the window (names and endpoints do not break): the table scrolls, not the page.
        scroll={{ x: true }}
        rowKey={rowKey}
        size="middle"
        pagination={{ pageSize: 10, hideOnSinglePage: true }}
        loading={list.loading && !list.data}
        dataSource={rows}
        columns={columns}
        locale={{ emptyText: list.loading ? " " : <Empty description={t("assess.empty")} /> }}
        onRow={(r) => ({ "data-testid": "assessment-row", "data-status": r.status }) as React.HTMLAttributes<HTMLElement>}
        data-testid="assessments"
      />
      <AssessmentWizard
        open={wizard}
        destination={instance}
        onClose={() => setWizard(false)}
        onStarted={(_, warning) => {
          setWizard(false);
          setRegistered(warning);
          void list.reload();
        }}
      />
    </section>
  );
}

/** Runs that could not run at all say why above the table. */
function CouldNotRun({ rows }: { rows: AssessmentRow[] }) {
  const failed = rows.filter((r) => r.status === "failed" && r.error);
  if (failed.length === 0) return null;
  return <ErrorAlert error={failed[0].error!} title={t("assess.status.failed")} testId="assessment-failed" />;
}
