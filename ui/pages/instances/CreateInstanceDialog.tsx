import { Alert, Form, Input, Modal, Select, Typography } from "antd";
import { useEffect, useState } from "react";
import { asCommandError } from "../../api/core";
import type { CommandError } from "../../api/core";
import { createInstance, installations, listHostNames } from "../../api/instances";
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
  /** A registered host's name; empty: this machine. */
  host?: string;
}

/** The PostgreSQL majors pgrelocate runs, newest first. */
const SUPPORTED_MAJORS = [18, 17, 16, 15, 14, 13, 12, 11, 10];

/**
 * Create Instance: a managed instance on this machine, from the binaries discovered here,
 * or on a registered host, whose agent finds the binaries there.
 */
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
  // Without registered hosts (or when they cannot be read) everything is made here and the
  // Host field is not shown.
  const hosts = useLoad(() => (open ? listHostNames().catch(() => []) : Promise.resolve([])), [open]);
  const hostNames = hosts.data ?? [];
  const host = Form.useWatch("host", form) || undefined;
  const usable = (found.data ?? [])
    .filter((i) => i.can_run_servers && i.version.major >= 10 && i.version.major <= 18)
    .sort((a, b) => b.version.major - a.version.major);

  // The newest version found is preselected once discovery answers.
  const newest = usable[0]?.version.major;
  useEffect(() => {
    if (open && newest && !form.getFieldValue("major")) form.setFieldValue("major", newest);
  }, [open, newest, form]);

  // This machine offers only the versions found here: back from a host, a version not
  // installed here gives way to the newest one that is.
  const localMajors = usable.map((i) => i.version.major).join(",");
  useEffect(() => {
    const major = form.getFieldValue("major") as number | undefined;
    if (!host && major && !localMajors.split(",").includes(String(major))) form.setFieldValue("major", newest);
  }, [host, newest, localMajors, form]);

  const majorOptions = host
    ? SUPPORTED_MAJORS.map((major) => ({ value: major, label: t("create.majorOnHost", { major }) }))
    : usable.map((i) => ({
        value: i.version.major,
        label: t("create.majorOption", { major: `${i.version.major}.${i.version.minor}`, bin: i.bin_dir }),
      }));

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
        ...(values.host ? { host: values.host } : {}),
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
      {!host && !found.loading && !found.error && usable.length === 0 && (
        <Alert type="warning" showIcon title={t("create.noInstallation")} style={{ marginBottom: 16 }} />
      )}
      <Form form={form} layout="vertical" requiredMark="optional" initialValues={{ host: "" }}>
        <Form.Item
          name="name"
          label={t("create.name")}
          extra={t("create.nameHelp")}
          rules={[{ required: true, pattern: /^[A-Za-z0-9][A-Za-z0-9_-]*$/, message: t("create.nameHelp") }]}
        >
          <Input autoFocus data-testid="create-name" />
        </Form.Item>
        {hostNames.length > 0 && (
          <Form.Item name="host" label={t("create.host")} extra={t("create.hostHelp")}>
            <Select
              data-testid="create-host"
              options={[
                { value: "", label: t("common.thisMachine") },
                ...hostNames.map((name) => ({ value: name, label: name })),
              ]}
            />
          </Form.Item>
        )}
        <Form.Item
          name="major"
          label={t("create.major")}
          extra={host ? t("create.majorOnHostHelp", { host }) : undefined}
          rules={[{ required: true }]}
        >
          <Select loading={!host && found.loading} data-testid="create-major" options={majorOptions} />
        </Form.Item>
        <Form.Item
          name="port"
          label={t("create.port")}
          extra={t("create.portHelp")}
          rules={portRules({ required: false, managed: true })}
        >
          <Input inputMode="numeric" style={{ width: 160 }} data-testid="create-port" />
        </Form.Item>
        <Form.Item
          name="data_dir"
          label={t("create.dataDir")}
          extra={host ? t("create.dataDirOnHostHelp", { host }) : t("create.dataDirHelp")}
        >
          <Input />
        </Form.Item>
        <Form.Item name="password" label={t("create.password")} extra={t("create.passwordHelp")}>
          <Input.Password autoComplete="new-password" />
        </Form.Item>
      </Form>
    </Modal>
  );
}
