import { Alert, Form, Input, Modal, Select, Typography } from "antd";
import { useEffect, useState } from "react";
import { asCommandError } from "../../api/core";
import type { CommandError } from "../../api/core";
import { createInstance, installations } from "../../api/instances";
import type { InstanceRecord } from "../../api/instances";
import ErrorAlert from "../../components/ErrorAlert";
import { useLoad } from "../../hooks/useLoad";
import { parsePort, portRules } from "../../hooks/portRules";
import { validated } from "../../hooks/validated";
import { t } from "../../i18n";

interface Values {
  name: string;
  major: number;
  /** As typed; empty for the first free port. */
  port?: string;
  data_dir?: string;
  password?: string;
}

/** Create Instance: a managed instance on this host, from the binaries discovered here. */
export default function CreateInstanceDialog({
  open,
  onClose,
  onCreated,
}: {
  open: boolean;
  onClose: () => void;
  onCreated: (record: InstanceRecord) => void;
}) {
  const [form] = Form.useForm<Values>();
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<CommandError>();
  const found = useLoad(() => (open ? installations() : Promise.resolve([])), [open]);
  const usable = (found.data ?? [])
    .filter((i) => i.can_run_servers && i.version.major >= 10 && i.version.major <= 18)
    .sort((a, b) => b.version.major - a.version.major);

  // The newest version found is preselected once discovery answers.
  const newest = usable[0]?.version.major;
  useEffect(() => {
    if (open && newest && !form.getFieldValue("major")) form.setFieldValue("major", newest);
  }, [open, newest, form]);

  const submit = async () => {
    const values = await validated(form);
    if (!values) return;
    setSaving(true);
    setError(undefined);
    try {
      const record = await createInstance({
        name: values.name.trim(),
        major: values.major,
        port: parsePort(values.port) ?? undefined,
        data_dir: values.data_dir?.trim() || undefined,
        password: values.password || undefined,
      });
      form.resetFields();
      onCreated(record);
    } catch (e) {
      setError(asCommandError(e));
    } finally {
      setSaving(false);
    }
  };

  return (
    <Modal
      open={open}
      title={t("create.title")}
      okText={t("create.ok")}
      cancelText={t("common.cancel")}
      onOk={submit}
      onCancel={onClose}
      confirmLoading={saving}
      mask={{ closable: false }}
      destroyOnHidden
      width={560}
    >
      <Typography.Paragraph type="secondary">{t("create.intro")}</Typography.Paragraph>
      {error && <ErrorAlert error={error} title={t("create.failed")} testId="create-error" />}
      {found.error && <ErrorAlert error={found.error} title={t("common.failedToLoad")} />}
      {!found.loading && !found.error && usable.length === 0 && (
        <Alert type="warning" showIcon title={t("create.noInstallation")} style={{ marginBottom: 16 }} />
      )}
      <Form form={form} layout="vertical" requiredMark="optional">
        <Form.Item
          name="name"
          label={t("create.name")}
          extra={t("create.nameHelp")}
          rules={[{ required: true, pattern: /^[A-Za-z0-9][A-Za-z0-9_-]*$/, message: t("create.nameHelp") }]}
        >
          <Input autoFocus data-testid="create-name" />
        </Form.Item>
        <Form.Item name="major" label={t("create.major")} rules={[{ required: true }]}>
          <Select
            loading={found.loading}
            data-testid="create-major"
            options={usable.map((i) => ({
              value: i.version.major,
              label: t("create.majorOption", { major: `${i.version.major}.${i.version.minor}`, bin: i.bin_dir }),
            }))}
          />
        </Form.Item>
        <Form.Item
          name="port"
          label={t("create.port")}
          extra={t("create.portHelp")}
          rules={portRules({ required: false, managed: true })}
        >
          <Input inputMode="numeric" style={{ width: 160 }} data-testid="create-port" />
        </Form.Item>
        <Form.Item name="data_dir" label={t("create.dataDir")} extra={t("create.dataDirHelp")}>
          <Input />
        </Form.Item>
        <Form.Item name="password" label={t("create.password")} extra={t("create.passwordHelp")}>
          <Input.Password autoComplete="new-password" />
        </Form.Item>
      </Form>
    </Modal>
  );
}
