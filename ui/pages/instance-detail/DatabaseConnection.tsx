import { Descriptions, Spin, Typography } from "antd";
import { hostAddresses } from "../../api/instances";
import type { InstanceStatus } from "../../api/instances";
import ErrorAlert from "../../components/ErrorAlert";
import ItemList from "../../components/ItemList";
import { useLoad } from "../../hooks/useLoad";
import { t } from "../../i18n";

/** Database Connection: the endpoint, TLS in use, and this host's addresses a source must admit. */
export default function DatabaseConnection({ instance }: { instance: InstanceStatus }) {
  const addresses = useLoad(hostAddresses, []);
  const e = instance.endpoint;
  const c = instance.connection;
  return (
    <section>
      <Typography.Title level={4}>{t("connection.title")}</Typography.Title>
      <Descriptions
        bordered
        size="small"
        column={1}
        items={[
          {
            key: "endpoint",
            label: t("connection.endpoint"),
            children: (
              <Typography.Text copyable style={{ whiteSpace: "nowrap" }}>
                {`${e.host}:${e.port}`}
              </Typography.Text>
            ),
          },
          { key: "user", label: t("connection.user"), children: e.user },
          { key: "db", label: t("connection.dbname"), children: e.dbname },
          { key: "ssl", label: t("connection.sslmode"), children: e.sslmode },
          { key: "tls", label: t("connection.tls"), children: c ? (c.tls ?? t("register.testNoTls")) : t("connection.notConnected") },
          {
            key: "rtt",
            label: t("connection.rtt"),
            children: c ? t("connection.rttValue", { ms: c.round_trip_ms.toFixed(2) }) : t("common.none"),
          },
        ]}
      />
      <Typography.Title level={5} style={{ marginTop: 24 }}>
        {t("connection.hostTitle")}
      </Typography.Title>
      <Typography.Paragraph type="secondary">{t("connection.hostHelp")}</Typography.Paragraph>
      {addresses.error && <ErrorAlert error={addresses.error} title={t("common.failedToLoad")} />}
      {addresses.loading && !addresses.data ? (
        <Spin />
      ) : (
        <ItemList
          items={addresses.data ?? []}
          rowKey={(ip) => ip}
          render={(ip) => (
            <Typography.Text copyable code>
              {ip}
            </Typography.Text>
          )}
          testId="host-addresses"
        />
      )}
    </section>
  );
}
