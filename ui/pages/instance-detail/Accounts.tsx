import { Alert, Button, Form, Input, Modal, Popconfirm, Space, Table, Tag, Typography, message } from "antd";
import { useState } from "react";
import { asCommandError } from "../../api/core";
import type { CommandError } from "../../api/core";
import { credentialStatus, forgetCredential, setCredential, testCredential } from "../../api/instances";
import type { Credential, InstanceStatus } from "../../api/instances";
import ErrorAlert from "../../components/ErrorAlert";
import { useLoad } from "../../hooks/useLoad";
import { validated } from "../../hooks/validated";
import { t } from "../../i18n";

/** Accounts: the stored credential. The page can set, test or forget a password — never read it. */
export default function Accounts({ instance, onChanged }: { instance: InstanceStatus; onChanged: () => void }) {
  const [notice, holder] = message.useMessage();
  const credential = useLoad(() => credentialStatus(instance.name), [instance.name]);
  const [editing, setEditing] = useState(false);
  const [busy, setBusy] = useState<"set" | "test" | "forget" | null>(null);
  const [error, setError] = useState<CommandError>();
  const [tested, setTested] = useState<string>();
  const [form] = Form.useForm<{ password: string }>();
  const user = instance.endpoint.user;

  const run = async (what: "set" | "test" | "forget", work: () => Promise<string | void>) => {
    setBusy(what);
    setError(undefined);
    setTested(undefined);
    try {
      const done = await work();
      if (done) void notice.success(done);
    } catch (e) {
      setError(asCommandError(e));
    } finally {
      setBusy(null);
      void credential.reload();
      onChanged();
    }
  };

  const save = async () => {
    const values = await validated(form);
    if (!values) return;
    const { password } = values;
    await run("set", async () => {
      await setCredential(instance.name, password);
      form.resetFields();
      setEditing(false);
      return t("accounts.saved");
    });
  };

  const describe = (c: Credential | undefined) => {
    if (!c) return null;
    if (c.kind === "keyring") return <Tag color="green">{t("accounts.keyring")}</Tag>;
    if (c.kind === "password_file") return <Tag color="blue">{t("accounts.passfile", { path: c.path })}</Tag>;
    return <Tag>{t("accounts.none")}</Tag>;
  };

  return (
    <section>
      {holder}
      <Typography.Title level={4}>{t("accounts.title")}</Typography.Title>
      {credential.error && <ErrorAlert error={credential.error} title={t("common.failedToLoad")} />}
      {error && <ErrorAlert error={error} title={t("accounts.title")} testId="accounts-error" />}
      {tested && <Alert type="success" showIcon title={tested} style={{ marginBottom: 16 }} data-testid="accounts-test-ok" />}
      <Table
        rowKey="user"
        size="middle"
        pagination={false}
        loading={credential.loading && !credential.data}
        dataSource={[{ user }]}
        columns={[
          { title: t("accounts.user"), dataIndex: "user" },
          { title: t("accounts.stored"), key: "stored", render: () => describe(credential.data) },
          {
            title: t("instances.col.actions"),
            key: "actions",
            render: () => (
              <Space size="small">
                <Button type="link" size="small" onClick={() => setEditing(true)} data-testid="account-update">
                  {t("accounts.update")}
                </Button>
                <Button
                  type="link"
                  size="small"
                  loading={busy === "test"}
                  data-testid="account-test"
                  onClick={() =>
                    run("test", async () => {
                      const r = await testCredential(instance.name);
                      setTested(t("accounts.testOk", { version: r.version_text, role: t(`role.${r.role}`) }));
                    })
                  }
                >
                  {t("accounts.test")}
                </Button>
                <Popconfirm
                  title={t("accounts.forgetConfirm", { user })}
                  description={t("accounts.forgetBody")}
                  okButtonProps={{ danger: true }}
                  onConfirm={() =>
                    run("forget", async () => {
                      await forgetCredential(instance.name);
                      return t("accounts.forgotten");
                    })
                  }
                >
                  <Button
                    type="link"
                    size="small"
                    danger
                    loading={busy === "forget"}
                    disabled={credential.data?.kind !== "keyring"}
                  >
                    {t("accounts.forget")}
                  </Button>
                </Popconfirm>
              </Space>
            ),
          },
        ]}
      />
      <Modal
        open={editing}
        title={t("accounts.updateTitle", { user })}
        okText={t("common.ok")}
        cancelText={t("common.cancel")}
        onOk={save}
        confirmLoading={busy === "set"}
        onCancel={() => {
          form.resetFields();
          setEditing(false);
        }}
        destroyOnHidden
      >
        <Typography.Paragraph type="secondary">{t("accounts.updateHelp")}</Typography.Paragraph>
        <Form form={form} layout="vertical">
          <Form.Item name="password" label={t("accounts.newPassword")} rules={[{ required: true }]}>
            <Input.Password autoFocus autoComplete="new-password" data-testid="account-password" />
          </Form.Item>
        </Form>
      </Modal>
    </section>
  );
}
