import { Alert, Button, Form, Input, Modal, Select, Typography } from "antd";
import { useEffect, useState } from "react";
import { getReport, listAssessments, reportFreshness, startAssessment } from "../../api/assessments";
import type { Freshness, Mode, Report } from "../../api/assessments";
import { asCommandError } from "../../api/core";
import type { CommandError } from "../../api/core";
import { createTask } from "../../api/tasks";
import type { Compression, Task } from "../../api/tasks";
import ErrorAlert from "../../components/ErrorAlert";
import { useLoad } from "../../hooks/useLoad";
import { validated } from "../../hooks/validated";
import { t } from "../../i18n";
import { instanceRoute } from "../../router";
import type { Navigate } from "../../router";
import { formatBytes, formatDuration, formatTime } from "../../units";

interface Values {
  report_id: string;
  max_rate?: string;
  compression: Compression;
  mappings?: { old: string; new: string }[];
}

/** The tablespace targets the assessment proposed (its `dest.tablespaces` evidence). */
export function proposedMappings(report: Report): { old: string; new: string }[] {
  const check = report.groups.flatMap((g) => g.checks).find((c) => c.id === "dest.tablespaces");
  const found = check?.evidence.tablespaces;
  if (!Array.isArray(found)) return [];
  return found
    .filter(
      (ts): ts is { location: string; target: string } =>
        typeof ts === "object" && ts !== null && !Array.isArray(ts) && typeof ts.location === "string" && typeof ts.target === "string",
    )
    .map((ts) => ({ old: ts.location, new: ts.target }));
}

/** What makes an assessment out of date, in words (empty: it is current). */
export function staleReasons(f: Freshness): string[] {
  const why: string[] = [];
  if (f.old) why.push(t("newTask.staleAge", { age: formatDuration(f.age_secs * 1000) }));
  if (f.size_changed && f.assessed_bytes != null && f.current_bytes != null)
    why.push(t("newTask.staleSize", { then: formatBytes(f.assessed_bytes), now: formatBytes(f.current_bytes) }));
  return why;
}

/** The chosen assessment is old, or the source's size moved since: say so, offer a re-run. */
function StaleNotice({ freshness, onRerun, rerunning }: { freshness: Freshness; onRerun: () => void; rerunning: boolean }) {
  const why = staleReasons(freshness);
  if (why.length === 0) return null;
  return (
    <Alert
      type="warning"
      showIcon
      style={{ marginBottom: 16 }}
      data-testid="new-task-stale"
      title={t("newTask.stale")}
      description={why.join(" ")}
      action={
        <Button size="small" onClick={onRerun} loading={rerunning} data-testid="new-task-rerun">
          {t("newTask.rerun")}
        </Button>
      }
    />
  );
}

/** Create Cloud Migration Task / Create DR Construction Task: from a successful assessment. */
export default function NewTaskDialog({
  open,
  mode,
  destination,
  onClose,
  onCreated,
  navigate,
}: {
  open: boolean;
  mode: Mode;
  destination: string;
  onClose: () => void;
  onCreated: (task: Task) => void;
  navigate: Navigate;
}) {
  const [form] = Form.useForm<Values>();
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<CommandError>();
  const assessments = useLoad(() => (open ? listAssessments() : Promise.resolve([])), [open]);
  const usable = (assessments.data ?? []).filter(
    (r) => r.destination === destination && r.mode === mode && r.report_id && (r.status === "success" || r.status === "warning"),
  );
  const chosen: string | undefined = Form.useWatch("report_id", form);
  const report = useLoad(() => (chosen ? getReport(chosen) : Promise.resolve(null)), [chosen]);
  // Measured live on the source: a failure only hides the notice, it never blocks the task.
  const freshness = useLoad(() => (chosen ? reportFreshness(chosen) : Promise.resolve(null)), [chosen]);
  const [rerunning, setRerunning] = useState(false);
  const first = usable[0]?.report_id ?? undefined;

  // The newest successful assessment is preselected once the list arrives.
  useEffect(() => {
    if (first && !form.getFieldValue("report_id")) form.setFieldValue("report_id", first);
  }, [first, form]);

  // The tablespace targets follow the chosen assessment's proposal; the DBA may change them.
  useEffect(() => {
    if (report.data) form.setFieldValue("mappings", proposedMappings(report.data));
  }, [report.data, form]);

  const submit = async () => {
    if (!(await validated(form))) return;
    // Every field of the store, also the mappings' source folders that have no input.
    const values = form.getFieldsValue(true) as Values;
    const reportId = values.report_id;
    const row = usable.find((r) => r.report_id === reportId)!;
    setSaving(true);
    setError(undefined);
    try {
      const task = await createTask({
        source: row.source,
        destination,
        mode,
        report_id: reportId,
        max_rate: values.max_rate?.trim() || undefined,
        compression: values.compression,
        tablespace_mappings: (values.mappings ?? []).map((m) => ({ old: m.old, new: m.new.trim() })),
      });
      form.resetFields();
      onCreated(task);
    } catch (e) {
      setError(asCommandError(e));
    } finally {
      setSaving(false);
    }
  };

  // A fresh assessment of the same pair, followed on the assessment tab.
  const rerun = async () => {
    const row = usable.find((r) => r.report_id === chosen);
    if (!row) return;
    setRerunning(true);
    setError(undefined);
    try {
      await startAssessment(row.source, destination, mode, () => {});
      onClose();
      navigate(instanceRoute(destination, "migration", "assessment"));
    } catch (e) {
      setError(asCommandError(e));
    } finally {
      setRerunning(false);
    }
  };

  return (
    <Modal
      open={open}
      title={t(`newTask.title.${mode}`)}
      okText={t("newTask.ok")}
      cancelText={t("common.cancel")}
      onOk={submit}
      onCancel={onClose}
      confirmLoading={saving}
      okButtonProps={{ disabled: usable.length === 0 || report.loading, "data-testid": "new-task-ok" }}
      mask={{ closable: false }}
      destroyOnHidden
      width={680}
    >
      {error && <ErrorAlert error={error} title={t(`newTask.title.${mode}`)} testId="new-task-error" />}
      {!assessments.loading && usable.length === 0 && (
        <Alert
          type="info"
          showIcon
          title={t("newTask.noAssessment")}
          style={{ marginBottom: 16 }}
          action={
            <Button
              size="small"
              data-testid="new-task-to-assessment"
              onClick={() => {
                onClose();
                navigate(instanceRoute(destination, "migration", "assessment"));
              }}
            >
              {t("newTask.toAssessment")}
            </Button>
          }
        />
      )}
      {freshness.data && freshness.data.report_id === chosen && (
        <StaleNotice freshness={freshness.data} onRerun={() => void rerun()} rerunning={rerunning} />
      )}
      <Form form={form} layout="vertical" initialValues={{ compression: "none" }}>
        <Form.Item name="report_id" label={t("newTask.assessment")} extra={t("newTask.assessmentHelp")} rules={[{ required: true }]}>
          <Select
            loading={assessments.loading}
            data-testid="new-task-assessment"
            options={usable.map((r) => ({
              value: r.report_id!,
              label: t("newTask.assessmentOption", {
                source: r.source,
                created: formatTime(r.created_at),
                verdict: t(`assess.status.${r.status}`),
              }),
            }))}
          />
        </Form.Item>
        <Form.List name="mappings">
          {(fields) =>
            fields.length > 0 && (
              <Form.Item label={t("newTask.tablespaces")} extra={t("newTask.tablespacesHelp")}>
                {fields.map((field) => (
                  <Form.Item
                    key={field.key}
                    name={[field.name, "new"]}
                    label={<Typography.Text code>{form.getFieldValue(["mappings", field.name, "old"])}</Typography.Text>}
                    rules={[{ required: true, pattern: /^\//, message: t("newTask.absolute") }]}
                    style={{ marginBottom: 8 }}
                  >
                    <Input data-testid="new-task-tablespace" />
                  </Form.Item>
                ))}
              </Form.Item>
            )
          }
        </Form.List>
        <Form.Item name="max_rate" label={t("newTask.maxRate")} extra={t("newTask.maxRateHelp")}>
          <Input placeholder="100M" style={{ width: 200 }} />
        </Form.Item>
        <Form.Item name="compression" label={t("newTask.compression")} extra={t("newTask.compressionHelp")}>
          <Select
            style={{ width: 200 }}
            options={(["none", "lz4", "zstd", "gzip"] as Compression[]).map((c) => ({
              value: c,
              label: c === "none" ? t("newTask.compression.none") : c,
            }))}
          />
        </Form.Item>
      </Form>
      <Typography.Paragraph type="secondary">{t("newTask.warning")}</Typography.Paragraph>
    </Modal>
  );
}
