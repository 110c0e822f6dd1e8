import { Result, Spin } from "antd";
import { instanceStatus } from "../../api/instances";
import ErrorAlert from "../../components/ErrorAlert";
import PageHeader from "../../components/PageHeader";
import { useLoad } from "../../hooks/useLoad";
import { t } from "../../i18n";
import { instanceRoute } from "../../router";
import type { Navigate, Route, Section } from "../../router";
import CloudMigration from "../migration/CloudMigration";
import { StatusTag } from "../instances/InstancesTable";
import { consoleStatus } from "../instances/status";
import type { TaskLink } from "../instances/status";
import { listTasks } from "../../api/tasks";
import Accounts from "./Accounts";
import BasicInformation from "./BasicInformation";
import DatabaseConnection from "./DatabaseConnection";
import DetailNav from "./DetailNav";
import Logs from "./Logs";
import Parameters from "./Parameters";

type InstanceRouteT = Extract<Route, { page: "instance" }>;

/** An instance's console: its left navigation and the chosen section. */
export default function InstanceDetail({ route, navigate }: { route: InstanceRouteT; navigate: Navigate }) {
  const status = useLoad(() => instanceStatus(route.name), [route.name], 10000);
  // Tasks refine the status tag (Migrating Data In, Maintaining Instance, Read-only/Fenced).
  const tasks = useLoad(() => listTasks().catch(() => []), [route.name], 10000);
  const links: TaskLink[] = (tasks.data ?? []).map((task) => ({
    source: task.source.name,
    destination: task.destination.name,
    phase: task.phase,
  }));
  const instance = status.data;
  const go = (section: Section) => navigate(instanceRoute(route.name, section, route.tab));

  if (!instance) {
    if (status.error) {
      return (
        <>
          <PageHeader title={route.name} onBack={() => navigate({ page: "instances" })} />
          {status.error.code === "not_found" ? (
            <Result status="404" title={t("detail.notFound", { name: route.name })} />
          ) : (
            <ErrorAlert error={status.error} title={t("common.failedToLoad")} />
          )}
        </>
      );
    }
    return <Spin style={{ display: "block", margin: "48px auto" }} />;
  }

  const managed = instance.kind === "managed";
  const sections: Section[] = ["basic", "connection", "accounts", "parameters", ...(managed ? ["logs" as const] : []), "migration"];
  const section = sections.includes(route.section) ? route.section : "basic";

  return (
    <div>
      <PageHeader
        title={instance.name}
        onBack={() => navigate({ page: "instances" })}
        tags={<StatusTag status={consoleStatus(instance, links)} problem={instance.error} />}
      />
      <div style={{ display: "flex", gap: 20, alignItems: "flex-start" }}>
        <DetailNav sections={sections} section={section} onGo={go} />
        <div style={{ flex: 1, minWidth: 0 }}>
          {section === "basic" && <BasicInformation instance={instance} links={links} onChanged={status.reload} />}
          {section === "connection" && <DatabaseConnection instance={instance} />}
          {section === "accounts" && <Accounts instance={instance} onChanged={status.reload} />}
          {section === "parameters" && <Parameters name={instance.name} />}
          {section === "logs" && <Logs name={instance.name} />}
          {section === "migration" && (
            <CloudMigration
              instance={instance}
              tab={route.tab}
              onTab={(tab) => navigate(instanceRoute(route.name, "migration", tab))}
              navigate={navigate}
            />
          )}
        </div>
      </div>
    </div>
  );
}
