import { ReloadOutlined } from "@ant-design/icons";
import { Button, Empty, Select, Space, Spin, Typography } from "antd";
import { useState } from "react";
import { instanceLog } from "../../api/instances";
import ErrorAlert from "../../components/ErrorAlert";
import { useLoad } from "../../hooks/useLoad";
import { t } from "../../i18n";

/** Logs: the tail of a managed instance's server log. */
export default function Logs({ name }: { name: string }) {
  const [lines, setLines] = useState(200);
  const log = useLoad(() => instanceLog(name, lines), [name, lines]);
  return (
    <section>
      <div style={{ display: "flex", justifyContent: "space-between", alignItems: "center", marginBottom: 12 }}>
        <Typography.Title level={4} style={{ margin: 0 }}>
          {t("logs.title")}
        </Typography.Title>
        <Space>
          <Select
            value={lines}
            onChange={setLines}
            options={[100, 200, 500, 2000].map((n) => ({ value: n, label: t("logs.lines", { n }) }))}
            style={{ width: 130 }}
          />
          <Button icon={<ReloadOutlined />} onClick={() => void log.reload()}>
            {t("common.refresh")}
          </Button>
        </Space>
      </div>
      {log.error && <ErrorAlert error={log.error} title={t("common.failedToLoad")} />}
      {log.loading && !log.data && <Spin />}
      {log.data && (
        <>
          <Typography.Paragraph type="secondary">
            {t("logs.path", { path: log.data.path })}
            {log.data.truncated ? ` ${t("logs.truncated")}` : ""}
          </Typography.Paragraph>
          {log.data.lines.length === 0 ? (
            <Empty description={t("logs.empty")} />
          ) : (
            <pre
              data-testid="server-log"
              style={{
                maxHeight: 520,
                overflow: "auto",
                fontSize: 12,
                background: "#1f1f1f",
                color: "#e6e6e6",
                padding: 12,
                borderRadius: 4,
              }}
            >
              {log.data.lines.join("\n")}
            </pre>
          )}
        </>
      )}
    </section>
  );
}
