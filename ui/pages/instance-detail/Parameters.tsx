import { Table, Tag, Typography } from "antd";
import { instanceParameters } from "../../api/instances";
import type { Parameter } from "../../api/instances";
import ErrorAlert from "../../components/ErrorAlert";
import { useLoad } from "../../hooks/useLoad";
import { t } from "../../i18n";

/** Parameters: key settings of a running instance, read-only. */
export default function Parameters({ name }: { name: string }) {
  const params = useLoad(() => instanceParameters(name), [name]);
  return (
    <section>
      <Typography.Title level={4}>{t("parameters.title")}</Typography.Title>
      <Typography.Paragraph type="secondary">{t("parameters.intro")}</Typography.Paragraph>
      {params.error && <ErrorAlert error={params.error} title={t("common.failedToLoad")} testId="parameters-error" />}
      <Table<Parameter>
        rowKey="name"
        size="small"
        pagination={false}
        loading={params.loading && !params.data}
        dataSource={params.data ?? []}
        columns={[
          { title: t("parameters.name"), dataIndex: "name", render: (n: string) => <Typography.Text code>{n}</Typography.Text> },
          { title: t("parameters.value"), dataIndex: "value" },
          { title: t("parameters.source"), dataIndex: "source" },
          {
            title: t("parameters.pending"),
            dataIndex: "pending_restart",
            render: (p: boolean) => (p ? <Tag color="warning">{t("common.yes")}</Tag> : null),
          },
        ]}
        data-testid="parameters"
      />
    </section>
  );
}
