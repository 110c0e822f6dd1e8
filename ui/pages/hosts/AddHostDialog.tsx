import { Form, Input, Modal, Typography } from "antd";
import { useState } from "react";
import { asCommandError } from "../../api/core";
import type { CommandError } from "../../api/core";
import { addHost, offeredHostKeys } from "../../api/hosts";
import type { AddHostRequest, HostCheck, HostKey, HostProgress } from "../../api/hosts";
import ErrorAlert from "../../components/ErrorAlert";
import { parsePort, portRules } from "../../hooks/portRules";
import { validated } from "../../hooks/validated";
import { t } from "../../i18n";
import type { MessageKey } from "../../i18n";
import HostSteps, { withStep } from "./steps";
import TrustHostKeyDialog from "./TrustHostKeyDialog";

interface Values {
  name: string;
  destination: string;
  /** As typed; empty leaves it to ssh. */
  port?: string;
  identity?: string;
}

/** The alert title for a failed add: the SSH failures a DBA must act on have their own. */
function failureTitle(error: CommandError): MessageKey {
  switch (error.code) {
    case "host_key_changed":
      return "hostAdd.keyChanged";
    case "host_key_mismatch":
      return "hostAdd.keyMismatch";
    case "ssh_auth_failed":
      return "hostAdd.authFailed";
    default:
      return "hostAdd.failed";
  }
}

/**
 * Add Host: a machine reached over SSH. A host whose key pgrelocate has never seen is added
 * only after the DBA has compared the offered fingerprint and chosen "Trust and add".
 */
export default function AddHostDialog({
  open,
  onClose,
  onAdded,
}: {
  open: boolean;
  onClose: () => void;
  onAdded: (check: HostCheck) => void;
}) {
  const [form] = Form.useForm<Values>();
  const [saving, setSaving] = useState(false);
  const [steps, setSteps] = useState<HostProgress[]>([]);
  const [error, setError] = useState<{ title: MessageKey; error: CommandError }>();
  // A host whose key is unknown: the request to repeat and the keys it offers.
  const [untrusted, setUntrusted] = useState<{ request: AddHostRequest; keys: HostKey[] }>();

  const run = async (request: AddHostRequest) => {
    setSaving(true);
    setError(undefined);
    setSteps([]);
    try {
      const check = await addHost(request, (step) => setSteps((s) => withStep(s, step)));
      form.resetFields();
      setSteps([]);
      setUntrusted(undefined);
      onAdded(check);
    } catch (e) {
      const err = asCommandError(e);
      if (err.code === "host_key_unknown" && !request.accept_host_key) {
        try {
          setUntrusted({ request, keys: await offeredHostKeys(request) });
        } catch (e2) {
          setError({ title: "hostAdd.offeredFailed", error: asCommandError(e2) });
        }
      } else {
        setUntrusted(undefined);
        setError({ title: failureTitle(err), error: err });
      }
    } finally {
      setSaving(false);
    }
  };

  // A dialog opened again starts afresh.
  const close = () => {
    setError(undefined);
    setSteps([]);
    setUntrusted(undefined);
    onClose();
  };

  const submit = async () => {
    const values = await validated(form);
    if (!values) return;
    await run({
      name: values.name.trim(),
      destination: values.destination.trim(),
      port: parsePort(values.port) ?? undefined,
      identity: values.identity?.trim() || undefined,
    });
  };

  // The trust dialog is beside the form's, not inside it: a closing dialog keeps showing its
  // content as it was until its animation ends.
  return (
    <>
      {untrusted && (
        <TrustHostKeyDialog
          host={untrusted.request.destination}
          keys={untrusted.keys}
          busy={saving}
          onCancel={() => setUntrusted(undefined)}
          onTrust={(fingerprint) => void run({ ...untrusted.request, accept_host_key: fingerprint })}
        />
      )}
      <Modal
        open={open}
        title={t("hostAdd.title")}
        okText={t("hostAdd.ok")}
        cancelText={t("common.cancel")}
        onOk={submit}
        onCancel={close}
        confirmLoading={saving}
        mask={{ closable: false }}
        okButtonProps={{ "data-testid": "host-add-ok" }}
        destroyOnHidden
        width={560}
      >
        <Typography.Paragraph type="secondary">{t("hostAdd.intro")}</Typography.Paragraph>
        {error && <ErrorAlert error={error.error} title={t(error.title)} testId="host-add-error" />}
        <HostSteps steps={steps} done={!saving} />
        <Form form={form} layout="vertical" requiredMark="optional" disabled={saving}>
          <Form.Item
            name="name"
            label={t("hostAdd.name")}
            extra={t("hostAdd.nameHelp")}
            rules={[{ required: true, pattern: /^[A-Za-z0-9][A-Za-z0-9_-]*$/, message: t("hostAdd.nameHelp") }]}
          >
            <Input autoFocus data-testid="host-name" />
          </Form.Item>
          <Form.Item
            name="destination"
            label={t("hostAdd.destination")}
            extra={t("hostAdd.destinationHelp")}
            rules={[{ required: true, whitespace: true, message: t("hostAdd.destinationRequired") }]}
          >
            <Input placeholder="postgres@db1.example.com" data-testid="host-destination" />
          </Form.Item>
          <Form.Item name="port" label={t("hostAdd.port")} extra={t("hostAdd.portHelp")} rules={portRules({ required: false })}>
            <Input inputMode="numeric" style={{ width: 160 }} data-testid="host-port" />
          </Form.Item>
          <Form.Item name="identity" label={t("hostAdd.identity")} extra={t("hostAdd.identityHelp")}>
            <Input placeholder="~/.ssh/id_ed25519" data-testid="host-identity" />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}
