import { Alert, Form, Input, Modal, Select, Typography } from "antd";
import { useState } from "react";
import { listAssessments } from "../../api/assessments";
import type { Mode } from "../../api/assessments";
import { asCommandError } from "../../api/core";
import type { CommandError } from "../../api/core";
import { createTask } from "../../api/tasks";
import type { Compression, Task } from "../../api/tasks";
import ErrorAlert from "../../components/ErrorAlert";
import { useLoad } from "../../hooks/useLoad";
import { t } from "../../i18n";
import { formatTime } from "../../units";

interface Values {
  report_id: string;
  max_rate?: string;
  compression: Compression;
}

/** Create Cloud Migration Task / Create DR Construction Task: from a successful assessment. */
export default function NewTaskDialog({
  open,
  mode,
  destination,
  onClose,
  onCreated,
}: {
  open: boolean;
  mode: Mode;
  destination: string;
  onClose: () => void;
  onCreated: (task: Task) => void;
}) {
  const [form] = Form.useForm<Values>();
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<CommandError>();
  const assessments = useLoad(() => (open ? listAssessments() : Promise.resolve([])), [open]);
  const usable = (assessments.data ?? []).filter(
    (r) => r.destination === destination && r.mode === mode && r.report_id && (r.status === "success" || r.status === "warning"),
  );

  const submit = async () => {
    const values = await form.validateFields();
    const report = usable.find((r) => r.report_id === values.report_id)!;
    setSaving(true);
    setError(undefined);
    try {
      const task = await createTask({
        source: report.source,
        destination,
        mode,
        report_id: values.report_id,
        max_rate: values.max_rate?.trim() || undefined,
        compression: values.compression,
      });
      form.resetFields();
      onCreated(task);
    } catch (e) {
      setError(asCommandError(e));
    } finally {
      setSaving(false);
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
      okButtonProps={{ disabled: usable.length === 0, "data-testid": "new-task-ok" }}
      destroyOnHidden
      width={620}
    >
      {error && <ErrorAlert error={error} title={t(`newTask.title.${mode}`)} testId="new-task-error" />}
      {!assessments.loading && usable.length === 0 && (
        <Alert type="info" showIcon title={t("newTask.noAssessment")} style={{ marginBottom: 16 }} />
      )}
      <Form
        form={form}
        layout="vertical"
        initialValues={{ compression: "none", report_id: usable[0]?.report_id ?? undefined }}
        key={usable[0]?.report_id ?? "none"}
      >
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
