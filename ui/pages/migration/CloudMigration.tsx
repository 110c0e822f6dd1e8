import { Alert, Tabs, Typography } from "antd";
import type { InstanceStatus } from "../../api/instances";
import { t } from "../../i18n";
import type { MigrationTab, Navigate } from "../../router";
import FeasibilityAssessment from "./FeasibilityAssessment";
import MigrationTasks from "./MigrationTasks";

/** Cloud Migration/DR Construction, on the destination instance: its three tabs. */
export default function CloudMigration({
  instance,
  tab,
  onTab,
  navigate,
}: {
  instance: InstanceStatus;
  tab: MigrationTab;
  onTab: (tab: MigrationTab) => void;
  navigate: Navigate;
}) {
  return (
    <section>
      <Typography.Title level={4}>{t("migration.title")}</Typography.Title>
      {instance.kind === "external" && (
        <Alert type="info" showIcon title={t("migration.destinationOnly")} style={{ marginBottom: 16 }} />
      )}
      <Tabs
        activeKey={tab}
        onChange={(k) => onTab(k as MigrationTab)}
        destroyOnHidden
        items={[
          {
            key: "assessment",
            label: t("migration.tab.assessment"),
            children: <FeasibilityAssessment instance={instance} navigate={navigate} />,
          },
          {
            key: "migration",
            label: t("migration.tab.migration"),
            children: <MigrationTasks instance={instance} mode="migration" navigate={navigate} />,
          },
          {
            key: "dr",
            label: t("migration.tab.dr"),
            children: <MigrationTasks instance={instance} mode="dr" navigate={navigate} />,
          },
        ]}
      />
    </section>
  );
}
