import { Alert, Button, Descriptions, Popconfirm, Space, Typography, message } from "antd";
import { useState } from "react";
import { asCommandError } from "../../api/core";
import type { CommandError } from "../../api/core";
import { startInstance, stopInstance } from "../../api/instances";
import type { InstanceStatus } from "../../api/instances";
import ErrorAlert from "../../components/ErrorAlert";
import NoBreak from "../../components/NoBreak";
import PathText from "../../components/PathText";
import ShortId from "../../components/ShortId";
import { t } from "../../i18n";
import { formatBytes, formatTime } from "../../units";
import { AdoptedTag, StatusTag, kindLabel } from "../instances/InstancesTable";
import StartRetiredDialog from "../instances/StartRetiredDialog";
import { consoleStatus } from "../instances/status";
import type { TaskLink } from "../instances/status";

/** Basic Information: identity, version, where it runs, storage; start/stop for managed ones. */
export default function BasicInformation({
  instance,
  links = [],
  onChanged,
}: {
  instance: InstanceStatus;
  links?: TaskLink[];
  onChanged: () => void;
}) {
  const [notice, holder] = message.useMessage();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CommandError>();
  const [asking, setAsking] = useState(false);
  const managed = instance.managed;
  const c = instance.connection;

  const act = async (work: () => Promise<unknown>, done: string) => {
    setBusy(true);
    setError(undefined);
    try {
      await work();
      void notice.success(done);
    } catch (e) {
      setError(asCommandError(e));
    } finally {
      setBusy(false);
      onChanged();
    }
  };

  const items = [
    { key: "name", label: t("basic.name"), children: instance.name },
    { key: "id", label: t("basic.id"), children: <ShortId id={instance.id} testId="basic-id" /> },
    { key: "status", label: t("basic.status"), children: <StatusTag status={consoleStatus(instance, links)} /> },
    { key: "role", label: t("basic.role"), children: c ? t(`role.${c.role}`) : t("common.none") },
    {
      key: "kind",
      label: t("basic.kind"),
      children: (
        <>
          <span>{t(kindLabel(instance.kind, managed?.host))}</span>
          {managed?.adopted && <AdoptedTag />}
        </>
      ),
    },
    {
      key: "version",
      label: t("basic.version"),
      children: c ? c.version_text : managed ? t("engine.postgres", { version: managed.major }) : t("common.none"),
    },
    { key: "sysid", label: t("basic.systemId"), children: c?.system_identifier ?? t("common.none") },
    {
      key: "endpoint",
      label: t("basic.endpoint"),
      children: (
        <Typography.Text copyable style={{ whiteSpace: "nowrap" }}>
          {`${instance.endpoint.host}:${instance.endpoint.port}`}
        </Typography.Text>
      ),
    },
    ...(managed
      ? [
          {
            key: "host",
            label: t("basic.host"),
            children: <NoBreak testId="basic-host">{managed.host ?? t("common.thisMachine")}</NoBreak>,
          },
          {
            key: "data",
            label: t("basic.dataDir"),
            children: (
              <Typography.Text code>
                <PathText path={managed.data_dir} />
              </Typography.Text>
            ),
          },
          {
            key: "bin",
            label: t("basic.binDir"),
            children: (
              <Typography.Text code>
                <PathText path={managed.bin_dir} />
              </Typography.Text>
            ),
          },
          { key: "user", label: t("basic.osUser"), children: managed.os_user ?? t("common.none") },
          {
            key: "storage",
            label: t("basic.storage"),
            children: instance.storage
              ? t("instances.storageValue", {
                  used: formatBytes(instance.storage.used_bytes),
                  free: formatBytes(instance.storage.free_bytes),
                })
              : t("common.none"),
          },
        ]
      : []),
    { key: "created", label: t("basic.created"), children: formatTime(instance.created_at) },
  ];

  return (
    <section>
      {holder}
      <div style={{ display: "flex", justifyContent: "space-between", alignItems: "center", marginBottom: 12 }}>
        <Typography.Title level={4} style={{ margin: 0 }}>
          {t("basic.title")}
        </Typography.Title>
        {managed && (
          <Space>
            {instance.state === "stopped" ? (
              <Button
                loading={busy}
                data-testid="basic-start"
                onClick={() =>
                  instance.retired ? setAsking(true) : act(() => startInstance(instance.name), t("instances.started", { name: instance.name }))
                }
              >
                {t("instances.action.start")}
              </Button>
            ) : (
              <Popconfirm
                title={t("instances.stopConfirm", { name: instance.name })}
                description={t("instances.stopConfirmBody")}
                onConfirm={() => act(() => stopInstance(instance.name), t("instances.stopped", { name: instance.name }))}
              >
                <Button loading={busy}>{t("instances.action.stop")}</Button>
              </Popconfirm>
            )}
          </Space>
        )}
      </div>
      {asking && instance.retired && (
        <StartRetiredDialog
          name={instance.name}
          retired={instance.retired}
          busy={busy}
          onCancel={() => setAsking(false)}
          onStart={(confirm) => {
            setAsking(false);
            void act(
              () => startInstance(instance.name, confirm),
              t(confirm ? "startRetired.startedAsPrimary" : "startRetired.startedInRecovery", { name: instance.name }),
            );
          }}
        />
      )}
      {error && <ErrorAlert error={error} title={t("basic.title")} />}
      {managed?.adopted && (
        <Alert type="info" showIcon title={t("basic.adopted")} style={{ marginBottom: 16 }} data-testid="basic-adopted" />
      )}
      {instance.error && (
        <Alert type="warning" showIcon title={t("basic.problem")} description={instance.error} style={{ marginBottom: 16 }} />
      )}
      <Descriptions bordered size="small" column={2} items={items} data-testid="basic-info" />
    </section>
  );
}
