import { Alert, Button, Divider, Input, Modal, Space, Typography } from "antd";
import { useState } from "react";
import type { Retirement } from "../../api/instances";
import { t } from "../../i18n";
import { formatTime } from "../../units";

/**
 * Start of a retired source (the old primary of a finished task): in recovery by default,
 * where the server refuses every write; as a writable primary only with its name typed.
 */
export default function StartRetiredDialog({
  name,
  retired,
  busy,
  onStart,
  onCancel,
}: {
  name: string;
  retired: Retirement;
  busy: boolean;
  /** `confirm`: the typed name, to start it as a writable primary. */
  onStart: (confirm?: string) => void;
  onCancel: () => void;
}) {
  const [typed, setTyped] = useState("");
  return (
    <Modal
      open
      title={t("startRetired.title", { name })}
      onCancel={onCancel}
      mask={{ closable: false }}
      destroyOnHidden
      width={600}
      footer={[
        <Button key="cancel" onClick={onCancel}>
          {t("common.cancel")}
        </Button>,
        <Button key="recovery" type="primary" loading={busy} onClick={() => onStart()} data-testid="start-in-recovery">
          {t("startRetired.inRecovery")}
        </Button>,
      ]}
    >
      <Alert
        type="warning"
        showIcon
        data-testid="start-retired-why"
        title={t("startRetired.why", {
          name,
          task: retired.task_id,
          operation: t(retired.operation === "failover" ? "startRetired.failover" : "startRetired.switchover"),
          successor: retired.successor,
          at: retired.at ? formatTime(retired.at) : t("common.none"),
        })}
        style={{ marginBottom: 16 }}
      />
      <Typography.Paragraph>{t("startRetired.recoveryBody")}</Typography.Paragraph>
      <Divider />
      <Typography.Paragraph>
        <Typography.Text strong>{t("startRetired.primaryTitle")}</Typography.Text> {t("startRetired.primaryBody", { successor: retired.successor })}
      </Typography.Paragraph>
      <Space.Compact block>
        <Input
          value={typed}
          onChange={(e) => setTyped(e.target.value)}
          placeholder={name}
          aria-label={t("startRetired.typeName", { name })}
          data-testid="start-confirm-name"
        />
        <Button danger disabled={typed !== name || busy} onClick={() => onStart(typed)} data-testid="start-as-primary">
          {t("startRetired.asPrimary")}
        </Button>
      </Space.Compact>
      <Typography.Text type="secondary">{t("startRetired.typeName", { name })}</Typography.Text>
    </Modal>
  );
}
