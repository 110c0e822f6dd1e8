import { Form, Input, Modal, Select, Typography } from "antd";
import { useState } from "react";
import { asCommandError } from "../../api/core";
import type { CommandError } from "../../api/core";
import { adoptInstance, listHostNames } from "../../api/instances";
import type { AdoptInput, InstanceRecord } from "../../api/instances";
import ErrorAlert from "../../components/ErrorAlert";
import { useLoad } from "../../hooks/useLoad";
import { validated } from "../../hooks/validated";
import { t } from "../../i18n";

interface Values {
  name: string;
  /** A registered host's name; empty: this machine. */
  host?: string;
  data_dir: string;
  /** Empty: found by the cluster's major version. */
  bin_dir?: string;
  user: string;
  password: string;
}

/** What the form's values ask the engine for: empty optional fields are left out. */
export function adoptRequestOf(v: Values): AdoptInput {
  const bin = v.bin_dir?.trim();
  return {
    name: v.name.trim(),
    data_dir: v.data_dir.trim(),
    ...(bin ? { bin_dir: bin } : {}),
    user: v.user.trim(),
    password: v.password,
    ...(v.host ? { host: v.host } : {}),
  };
}

/**
 * Adopt Existing Cluster: a PostgreSQL cluster already running here or on a registered host
 * becomes a managed instance. The engine checks that it runs, that the password logs in and
 * that the server on its port serves that data directory before anything is stored.
 */
export default function AdoptInstanceDialog({
  open,
  onClose,
  onAdopted,
}: {
  open: boolean;
  onClose: () => void;
  onAdopted: (record: InstanceRecord) => void;
}) {
  const [form] = Form.useForm<Values>();
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<CommandError>();
  // As in Create Instance: without registered hosts (or when they cannot be read) the
  // cluster is looked for here and the Host field is not shown.
  const hosts = useLoad(() => (open ? listHostNames().catch(() => []) : Promise.resolve([])), [open]);
  const hostNames = hosts.data ?? [];
  const host = Form.useWatch("host", form) || undefined;

  const submit = async () => {
    // A new attempt starts without the previous one's failure.
    setError(undefined);
    const values = await validated(form);
    if (!values) return;
    setSaving(true);
    try {
      const record = await adoptInstance(adoptRequestOf(values));
      form.resetFields();
      onAdopted(record);
    } catch (e) {
      setError(asCommandError(e));
    } finally {
      setSaving(false);
    }
  };

  const close = () => {
    setError(undefined);
    onClose();
  };

  const required = (message: string) => [{ required: true, whitespace: true, message }];

  return (
    <Modal
      open={open}
      title={t("adopt.title")}
      okText={t("adopt.ok")}
      cancelText={t("common.cancel")}
      onOk={submit}
      onCancel={close}
      confirmLoading={saving}
      mask={{ closable: false }}
      destroyOnHidden
      width={560}
      okButtonProps={{ "data-testid": "adopt-ok" }}
    >
      <Typography.Paragraph type="secondary">{t("adopt.intro")}</Typography.Paragraph>
      {error && <ErrorAlert error={error} title={t("adopt.failed")} testId="adopt-error" />}
      <Form form={form} layout="vertical" requiredMark="optional" initialValues={{ host: "", user: "postgres" }}>
        <Form.Item
          name="name"
          label={t("adopt.name")}
          extra={t("create.nameHelp")}
          rules={[{ required: true, pattern: /^[A-Za-z0-9][A-Za-z0-9_-]*$/, message: t("create.nameHelp") }]}
        >
          <Input autoFocus data-testid="adopt-name" />
        </Form.Item>
        {hostNames.length > 0 && (
          <Form.Item name="host" label={t("adopt.host")} extra={t("adopt.hostHelp")}>
            <Select
              data-testid="adopt-host"
              options={[
                { value: "", label: t("common.thisMachine") },
                ...hostNames.map((name) => ({ value: name, label: name })),
              ]}
            />
          </Form.Item>
        )}
        <Form.Item
          name="data_dir"
          label={t("adopt.dataDir")}
          extra={host ? t("adopt.dataDirOnHostHelp", { host }) : t("adopt.dataDirHelp")}
          rules={required(t("adopt.dataDirRequired"))}
        >
          <Input data-testid="adopt-data-dir" />
        </Form.Item>
        <Form.Item name="bin_dir" label={t("adopt.binDir")} extra={t("adopt.binDirHelp")}>
          <Input data-testid="adopt-bin-dir" />
        </Form.Item>
        <Form.Item name="user" label={t("adopt.user")} rules={required(t("adopt.userRequired"))}>
          <Input data-testid="adopt-user" />
        </Form.Item>
        <Form.Item
          name="password"
          label={t("adopt.password")}
          extra={t("adopt.passwordHelp")}
          rules={[{ required: true, message: t("adopt.passwordRequired") }]}
        >
          <Input.Password autoComplete="new-password" data-testid="adopt-password" />
        </Form.Item>
      </Form>
    </Modal>
  );
}
