import { Alert, Button, Form, Input, Modal, Select, Space, Typography } from "antd";
import { useState } from "react";
import { asCommandError } from "../../api/core";
import type { CommandError } from "../../api/core";
import { registerInstance, testConnection } from "../../api/instances";
import type { ConnectionInput, ConnectionTest, InstanceRecord, SslMode } from "../../api/instances";
import ErrorAlert from "../../components/ErrorAlert";
import { parsePort, portRules } from "../../hooks/portRules";
import { validated } from "../../hooks/validated";
import { t } from "../../i18n";

/** The sslmode choices, weakest first. */
export const SSL_MODES: SslMode[] = ["disable", "prefer", "require", "verify-ca", "verify-full"];

/** The fields of a connection form. */
export interface ConnectionValues {
  name: string;
  host: string;
  /** As typed: the form refuses anything but 1–65535 in digits. */
  port: string;
  user: string;
  dbname?: string;
  sslmode: SslMode;
  /** Seconds, as typed (digits only, 1–600); empty for the default. */
  connectTimeout?: string;
  /** libpq's require_auth list; empty for the default policy. */
  requireAuth?: string;
  password?: string;
}

/** The connection part of the form values. */
export function connectionOf(v: ConnectionValues): ConnectionInput {
  return {
    host: v.host.trim(),
    port: parsePort(v.port) ?? 0,
    user: v.user.trim(),
    dbname: v.dbname?.trim() || undefined,
    sslmode: v.sslmode,
    connect_timeout: v.connectTimeout?.trim() || undefined,
    require_auth: v.requireAuth?.trim() || undefined,
  };
}

/** Digits only, 1–600: "10s" or "0" is refused, never changed. */
const connectTimeoutRules = [
  {
    validator: (_: unknown, value?: string) => {
      const typed = value?.trim() ?? "";
      if (typed === "") return Promise.resolve();
      const n = /^[0-9]+$/.test(typed) ? Number(typed) : NaN;
      return n >= 1 && n <= 600 ? Promise.resolve() : Promise.reject(new Error(t("register.connectTimeoutHelp")));
    },
  },
];

/** One line about a successful connection test. */
export function describeTest(test: ConnectionTest): string {
  return t("register.testOk", {
    version: test.version_text,
    role: t(`role.${test.role}`),
    tls: test.tls ?? t("register.testNoTls"),
    rtt: test.round_trip_ms.toFixed(1),
    auth: test.auth_method,
  });
}

/** Endpoint, port, user, database, sslmode and password fields (shared with the wizard). */
export function ConnectionFields({ withName = true, passwordHelp }: { withName?: boolean; passwordHelp?: string }) {
  return (
    <>
      {withName && (
        <Form.Item
          name="name"
          label={t("register.name")}
          rules={[{ required: true, pattern: /^[A-Za-z0-9][A-Za-z0-9_-]*$/, message: t("create.nameHelp") }]}
        >
          <Input data-testid="register-name" />
        </Form.Item>
      )}
      <Space.Compact block>
        <Form.Item
          name="host"
          label={t("register.host")}
          extra={t("register.hostHelp")}
          rules={[{ required: true }]}
          style={{ flex: 1 }}
        >
          <Input data-testid="register-host" />
        </Form.Item>
        <Form.Item name="port" label={t("register.port")} rules={portRules({ required: true })} style={{ width: 120 }}>
          <Input inputMode="numeric" data-testid="register-port" />
        </Form.Item>
      </Space.Compact>
      <Space.Compact block>
        <Form.Item name="user" label={t("register.user")} rules={[{ required: true }]} style={{ flex: 1 }}>
          <Input data-testid="register-user" />
        </Form.Item>
        <Form.Item name="dbname" label={t("register.dbname")} style={{ flex: 1 }}>
          <Input placeholder="postgres" />
        </Form.Item>
        <Form.Item name="sslmode" label={t("register.sslmode")} style={{ width: 150 }}>
          <Select options={SSL_MODES.map((m) => ({ value: m, label: m }))} data-testid="register-sslmode" />
        </Form.Item>
      </Space.Compact>
      <Space.Compact block>
        <Form.Item
          name="connectTimeout"
          label={t("register.connectTimeout")}
          rules={connectTimeoutRules}
          style={{ width: 180 }}
        >
          <Input inputMode="numeric" placeholder="10" data-testid="register-connect-timeout" />
        </Form.Item>
        <Form.Item
          name="requireAuth"
          label={t("register.requireAuth")}
          extra={t("register.requireAuthHelp")}
          style={{ flex: 1 }}
        >
          <Input placeholder="scram-sha-256,md5" data-testid="register-require-auth" />
        </Form.Item>
      </Space.Compact>
      <Form.Item name="password" label={t("register.password")} extra={passwordHelp ?? t("register.passwordHelp")}>
        <Input.Password autoComplete="new-password" data-testid="register-password" />
      </Form.Item>
    </>
  );
}

/** The warning for a second name of a known server (the CLI prints the same sentence). */
export function sameEndpointWarning(record: InstanceRecord, names: string[]): string | null {
  if (names.length === 0) return null;
  return t("register.sameEndpoint", { address: `${record.endpoint.host}:${record.endpoint.port}`, names: names.join(", ") });
}

/** Register Instance: an external instance, tested before anything is stored. */
export default function RegisterInstanceDialog({
  open,
  onClose,
  onRegistered,
}: {
  open: boolean;
  onClose: () => void;
  /** `sameEndpoint`: other instances the engine found at the same endpoint. */
  onRegistered: (record: InstanceRecord, sameEndpoint: string[]) => void;
}) {
  const [form] = Form.useForm<ConnectionValues>();
  const [saving, setSaving] = useState(false);
  const [testing, setTesting] = useState(false);
  const [tested, setTested] = useState<{ ok: ConnectionTest } | { failed: CommandError }>();
  const [error, setError] = useState<CommandError>();

  const runTest = async () => {
    const values = await validated(form, ["host", "port", "user", "sslmode", "connectTimeout"]);
    if (!values) return;
    const all = { ...form.getFieldsValue(), ...values };
    setTesting(true);
    // A new attempt: neither the last test's outcome nor the last registration's error stays beside it.
    setTested(undefined);
    setError(undefined);
    try {
      setTested({ ok: await testConnection(connectionOf(all), all.password) });
    } catch (e) {
      setTested({ failed: asCommandError(e) });
    } finally {
      setTesting(false);
    }
  };

  const submit = async () => {
    setError(undefined);
    setTested(undefined);
    const values = await validated(form);
    if (!values) return;
    setSaving(true);
    try {
      const { instance, same_endpoint } = await registerInstance({
        name: values.name.trim(),
        connection: connectionOf(values),
        password: values.password || undefined,
      });
      form.resetFields();
      setTested(undefined);
      onRegistered(instance, same_endpoint);
    } catch (e) {
      setError(asCommandError(e));
    } finally {
      setSaving(false);
    }
  };

  return (
    <Modal
      open={open}
      title={t("register.title")}
      onCancel={onClose}
      // antd focuses the dialog box itself; a form dialog starts in its first field.
      afterOpenChange={(opened) => opened && form.getFieldInstance("name")?.focus()}
      mask={{ closable: false }}
      destroyOnHidden
      width={640}
      footer={[
        <Button key="test" onClick={runTest} loading={testing} data-testid="register-test">
          {t("register.test")}
        </Button>,
        <Button key="cancel" onClick={onClose}>
          {t("common.cancel")}
        </Button>,
        <Button key="ok" type="primary" onClick={submit} loading={saving} data-testid="register-ok">
          {t("register.ok")}
        </Button>,
      ]}
    >
      <Typography.Paragraph type="secondary">{t("register.intro")}</Typography.Paragraph>
      {error && <ErrorAlert error={error} title={t("register.failed")} testId="register-error" />}
      <Form form={form} layout="vertical" initialValues={{ port: "5432", sslmode: "prefer", user: "postgres" }}>
        <ConnectionFields />
      </Form>
      {tested && "ok" in tested && (
        <Alert type="success" showIcon title={describeTest(tested.ok)} data-testid="register-test-result" />
      )}
      {tested && "failed" in tested && (
        <ErrorAlert error={tested.failed} title={t("register.testFailed")} testId="register-test-result" />
      )}
    </Modal>
  );
}
