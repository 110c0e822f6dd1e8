import { DeleteOutlined, ExperimentOutlined, ImportOutlined, LinkOutlined, PlusOutlined, ReloadOutlined } from "@ant-design/icons";
import { Button, Popconfirm, message } from "antd";
import { useState } from "react";
import { asCommandError } from "../../api/core";
import type { CommandError } from "../../api/core";
import {
  createSandbox,
  listInstances,
  removeInstance,
  removeSandbox,
  startInstance,
  stopInstance,
} from "../../api/instances";
import { listTasks } from "../../api/tasks";
import ErrorAlert from "../../components/ErrorAlert";
import PageHeader from "../../components/PageHeader";
import { useLoad } from "../../hooks/useLoad";
import { t } from "../../i18n";
import { instanceRoute } from "../../router";
import type { Navigate } from "../../router";
import AdoptInstanceDialog from "./AdoptInstanceDialog";
import CreateInstanceDialog from "./CreateInstanceDialog";
import InstancesTable from "./InstancesTable";
import RegisterInstanceDialog, { sameEndpointWarning } from "./RegisterInstanceDialog";
import SandboxDialog from "./SandboxDialog";
import StartRetiredDialog from "./StartRetiredDialog";
import { instanceRows } from "./status";
import type { InstanceRow, TaskLink } from "./status";

const SANDBOX = ["sandbox-source", "sandbox-dest"];

/** The Instances page: the table, and Create Instance / Register Instance / Adopt Existing Cluster / Create Sandbox. */
export default function InstancesPage({ navigate }: { navigate: Navigate }) {
  const [notice, noticeHolder] = message.useMessage();
  const [dialog, setDialog] = useState<"create" | "register" | "adopt" | "sandbox" | null>(null);
  const [creatingSandbox, setCreatingSandbox] = useState(false);
  const [busy, setBusy] = useState<string[]>([]);
  const [actionError, setActionError] = useState<{ title: string; error: CommandError }>();
  // A retired source's Start asks first: in recovery, or as a primary with its name typed.
  const [startingRetired, setStartingRetired] = useState<InstanceRow>();
  const list = useLoad(
    async () => {
      const [instances, tasks] = await Promise.all([listInstances(), listTasks().catch(() => [])]);
      const links: TaskLink[] = tasks.map((task) => ({
        source: task.source.name,
        destination: task.destination.name,
        phase: task.phase,
      }));
      return { instances, links };
    },
    [],
    creatingSandbox ? 2000 : 10000,
  );
  const rows = list.data ? instanceRows(list.data.instances, list.data.links) : [];
  const hasSandbox = rows.some((r) => SANDBOX.includes(r.name) && r.status !== "creating");

  const act = async (name: string, title: string, work: () => Promise<unknown>, done: string) => {
    setBusy((b) => [...b, name]);
    setActionError(undefined);
    try {
      await work();
      void notice.success(done);
    } catch (e) {
      setActionError({ title, error: asCommandError(e) });
    } finally {
      setBusy((b) => b.filter((n) => n !== name));
      void list.reload();
    }
  };

  const start = (i: InstanceRow, confirm?: string) =>
    act(
      i.name,
      t("instances.action.start"),
      () => startInstance(i.name, confirm),
      i.retired
        ? t(confirm ? "startRetired.startedAsPrimary" : "startRetired.startedInRecovery", { name: i.name })
        : t("instances.started", { name: i.name }),
    );
  const onStart = (i: InstanceRow) => (i.retired ? setStartingRetired(i) : start(i));
  const onStop = (i: InstanceRow) =>
    act(i.name, t("instances.action.stop"), () => stopInstance(i.name), t("instances.stopped", { name: i.name }));
  const onRemove = (i: InstanceRow) =>
    act(i.name, t("instances.action.remove"), () => removeInstance(i.name), t("instances.removed", { name: i.name }));

  const startSandbox = async () => {
    setDialog(null);
    setCreatingSandbox(true);
    setActionError(undefined);
    // The list shows both instances as Creating while the engine works.
    window.setTimeout(() => void list.reload(), 300);
    try {
      await createSandbox();
      void notice.success(t("sandbox.created"));
    } catch (e) {
      setActionError({ title: t("sandbox.failed"), error: asCommandError(e) });
    } finally {
      setCreatingSandbox(false);
      void list.reload();
    }
  };

  return (
    <section aria-labelledby="page-title">
      {noticeHolder}
      <PageHeader
        title={t("instances.title")}
        actions={
          <>
            <Button type="primary" icon={<PlusOutlined />} onClick={() => setDialog("create")}>
              {t("instances.create")}
            </Button>
            <Button icon={<LinkOutlined />} onClick={() => setDialog("register")}>
              {t("instances.register")}
            </Button>
            <Button icon={<ImportOutlined />} onClick={() => setDialog("adopt")} data-testid="adopt-open">
              {t("instances.adopt")}
            </Button>
            {hasSandbox ? (
              <Popconfirm
                title={t("sandbox.removeConfirm")}
                description={t("sandbox.removeBody")}
                okButtonProps={{ danger: true }}
                onConfirm={() =>
                  act("sandbox-source", t("instances.removeSandbox"), removeSandbox, t("sandbox.removed"))
                }
              >
                <Button icon={<DeleteOutlined />} danger data-testid="remove-sandbox">
                  {t("instances.removeSandbox")}
                </Button>
              </Popconfirm>
            ) : (
              <Button
                icon={<ExperimentOutlined />}
                loading={creatingSandbox}
                onClick={() => setDialog("sandbox")}
                data-testid="create-sandbox"
              >
                {t("instances.sandbox")}
              </Button>
            )}
            <Button
              icon={<ReloadOutlined />}
              onClick={() => void list.reload()}
              aria-label={t("common.refresh")}
              title={t("common.refresh")}
            />
          </>
        }
      />
      {list.error && <ErrorAlert error={list.error} title={t("instances.loadFailed")} testId="instances-error" />}
      {actionError && <ErrorAlert error={actionError.error} title={actionError.title} testId="action-error" />}
      <InstancesTable
        instances={rows}
        loading={list.loading && !list.data}
        busy={busy}
        onManage={(i) => navigate(instanceRoute(i.name))}
        onStart={onStart}
        onStop={onStop}
        onRemove={onRemove}
      />
      <CreateInstanceDialog
        open={dialog === "create"}
        onClose={() => setDialog(null)}
        onCreated={(r) => {
          setDialog(null);
          void notice.success(t("create.done", { name: r.name, port: r.endpoint.port }));
          void list.reload();
        }}
      />
      <RegisterInstanceDialog
        open={dialog === "register"}
        onClose={() => setDialog(null)}
        onRegistered={(r, same) => {
          setDialog(null);
          void notice.success(t("register.done", { name: r.name }));
          // A second name for a known server is allowed, never silent (the CLI warns the same way).
          const warning = sameEndpointWarning(r, same);
          if (warning) void notice.warning({ content: warning, duration: 12 });
          void list.reload();
        }}
      />
      <AdoptInstanceDialog
        open={dialog === "adopt"}
        onClose={() => setDialog(null)}
        onAdopted={(r) => {
          setDialog(null);
          void notice.success(t("adopt.done", { name: r.name }));
          void list.reload();
        }}
      />
      <SandboxDialog open={dialog === "sandbox"} onOk={startSandbox} onCancel={() => setDialog(null)} />
      {startingRetired?.retired && (
        <StartRetiredDialog
          name={startingRetired.name}
          retired={startingRetired.retired}
          busy={busy.includes(startingRetired.name)}
          onCancel={() => setStartingRetired(undefined)}
          onStart={(confirm) => {
            const row = startingRetired;
            setStartingRetired(undefined);
            void start(row, confirm);
          }}
        />
      )}
    </section>
  );
}
