import { Alert, Modal, Radio, Space, Table, Typography } from "antd";
import { useState } from "react";
import type { HostKey } from "../../api/hosts";
import { t } from "../../i18n";

/**
 * Asks the DBA to trust a host key pgrelocate has never seen: each offered key's type and
 * fingerprint, and a warning to compare it with the host administrator's first.
 */
export default function TrustHostKeyDialog({
  host,
  keys,
  busy,
  onTrust,
  onCancel,
}: {
  host: string;
  keys: HostKey[];
  busy?: boolean;
  onTrust: (fingerprint: string) => void;
  onCancel: () => void;
}) {
  const [chosen, setChosen] = useState(keys[0]?.fingerprint);
  return (
    <Modal
      open
      title={t("trustKey.title", { host })}
      okText={t("trustKey.ok")}
      cancelText={t("common.cancel")}
      okButtonProps={{ danger: true, disabled: !chosen, "data-testid": "trust-key-ok" }}
      confirmLoading={busy}
      onOk={() => chosen && onTrust(chosen)}
      onCancel={onCancel}
      mask={{ closable: false }}
      width={640}
    >
      <div data-testid="trust-key-dialog">
      <Alert type="warning" showIcon title={t("trustKey.warning")} style={{ marginBottom: 16 }} data-testid="trust-key-warning" />
      <Table<HostKey>
        rowKey="fingerprint"
        size="small"
        pagination={false}
        dataSource={keys}
        columns={[
          ...(keys.length > 1
            ? [
                {
                  key: "choose",
                  width: 40,
                  render: (_: unknown, k: HostKey) => (
                    <Radio checked={chosen === k.fingerprint} onChange={() => setChosen(k.fingerprint)} aria-label={k.fingerprint} />
                  ),
                },
              ]
            : []),
          { title: t("trustKey.type"), dataIndex: "kind", key: "kind", width: 120 },
          {
            title: t("trustKey.fingerprint"),
            dataIndex: "fingerprint",
            key: "fingerprint",
            render: (fp: string) => (
              <Space>
                <Typography.Text code copyable={{ text: fp }} data-testid="trust-key-fingerprint">
                  {fp}
                </Typography.Text>
              </Space>
            ),
          },
        ]}
      />
      </div>
    </Modal>
  );
}
