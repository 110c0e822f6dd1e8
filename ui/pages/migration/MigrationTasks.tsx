import { PlusOutlined } from "@ant-design/icons";
import { Button, Empty, Popconfirm, Space, Table, Tag, Typography, message } from "antd";
import { useState } from "react";
import type { Mode } from "../../api/assessments";
import { asCommandError } from "../../api/core";
import type { CommandError } from "../../api/core";
import type { InstanceStatus } from "../../api/instances";
import { cancelTask, listTasks, retryTask } from "../../api/tasks";
import type { TaskStatus } from "../../api/tasks";
import ErrorAlert from "../../components/ErrorAlert";
import NoBreak, { Words } from "../../components/NoBreak";
import { useLoad } from "../../hooks/useLoad";
import { t } from "../../i18n";
import { href } from "../../router";
import type { Navigate } from "../../router";
import { formatTime } from "../../units";
import FailoverDialog from "./FailoverDialog";
import NewTaskDialog from "./NewTaskDialog";
import PhaseColumn from "./PhaseColumn";
import ReplicationTag from "./ReplicationTag";
import SwitchoverDialog from "./SwitchoverDialog";

/** Phases in which a task can still be cancelled (or stopped, for DR). */
const CANCELLABLE = ["precheck", "basebackup", "startup", "increment", "failed"];

/** The task's Status column: running, completed, failed or cancelled, with the link's state. */
function TaskState({ task }: { task: TaskStatus }) {
  const done = task.phase === "success" || task.phase === "failed" || task.phase === "cancelled";
  const word = task.phase === "success" ? "success" : task.phase === "failed" ? "failed" : task.phase === "cancelled" ? "cancelled" : "running";
  return (
    <Space size={4} wrap>
      <Tag color={word === "running" ? "processing" : word === "success" ? "success" : word === "failed" ? "error" : "default"}>
        {t(`tasks.status.${word}`)}
      </Tag>
      {!done && task.replication !== "unstarted" && (
        <ReplicationTag task={task} testId="replication" />
      )}
    </Space>
  );
}

/** Migration to Cloud / DR Construction: the task table of this destination and its actions. */
export default function MigrationTasks({
  instance,
  mode,
  navigate,
}: {
  instance: InstanceStatus;
  mode: Mode;
  navigate: Navigate;
}) {
  const [notice, holder] = message.useMessage();
  const [creating, setCreating] = useState(false);
  const [switching, setSwitching] = useState<{ task: TaskStatus; watch: boolean } | null>(null);
  const [failingOver, setFailingOver] = useState<TaskStatus | null>(null);
  const [error, setError] = useState<{ title: string; error: CommandError }>();
  const tasks = useLoad(listTasks, [], 3000);
  const rows = (tasks.data ?? []).filter((task) => task.destination.name === instance.name && task.mode === mode) as TaskStatus[];
  const endpoint = `${instance.endpoint.host}:${instance.endpoint.port}`;

  const act = async (title: string, work: () => Promise<unknown>, done?: string) => {
    setError(undefined);
    try {
      await work();
      if (done) void notice.success(done);
    } catch (e) {
      setError({ title, error: asCommandError(e) });
    } finally {
      void tasks.reload();
    }
  };

  const actions = (task: TaskStatus) => (
    <Space size="small" wrap>
      {mode === "migration" && task.phase === "increment" && (
        <Button type="link" size="small" data-testid="action-switchover" onClick={() => setSwitching({ task, watch: false })}>
          {t("tasks.action.switchover")}
        </Button>
      )}
      {mode === "migration" && task.phase === "switch" && (
        <Button type="link" size="small" onClick={() => setSwitching({ task, watch: true })}>
          {t("tasks.action.switchover")}
        </Button>
      )}
      {mode === "dr" && task.phase === "increment" && (
        <Button type="link" size="small" danger data-testid="action-failover" onClick={() => setFailingOver(task)}>
          {t("tasks.action.failover")}
        </Button>
      )}
      {CANCELLABLE.includes(task.phase) && (
        <Popconfirm
          title={t(mode === "dr" ? "tasks.stopDrConfirm" : "tasks.cancelConfirm", { id: task.id })}
          description={t("tasks.cancelBody")}
          okButtonProps={{ danger: true }}
          onConfirm={() => act(t("tasks.action.cancel"), () => cancelTask(task.id), t("tasks.cancelled", { id: task.id }))}
        >
          <Button type="link" size="small" danger data-testid="action-cancel">
            {mode === "dr" ? t("tasks.action.stopDr") : t("tasks.action.cancel")}
          </Button>
        </Popconfirm>
      )}
      {task.phase === "failed" && (
        <Button type="link" size="small" onClick={() => act(t("tasks.action.retry"), () => retryTask(task.id))}>
          {t("tasks.action.retry")}
        </Button>
      )}
      <Button
        type="link"
        size="small"
        data-testid="action-details"
        onClick={() => navigate({ page: "task", id: task.id, instance: instance.name })}
      >
        {t("tasks.action.details")}
      </Button>
    </Space>
  );

  return (
    <section>
      {holder}
      <div style={{ marginBottom: 12 }}>
        <Button
          type="primary"
          icon={<PlusOutlined />}
          onClick={() => setCreating(true)}
          disabled={instance.kind !== "managed"}
          data-testid="create-task"
        >
          {mode === "migration" ? t("tasks.createMigration") : t("tasks.createDr")}
        </Button>
      </div>
      {tasks.error && tasks.error.code !== "ipc" && <ErrorAlert error={tasks.error} title={t("common.failedToLoad")} />}
      {error && <ErrorAlert error={error.error} title={error.title} testId="task-action-error" />}
      <Table<TaskStatus>
        // Wider than the window (names and endpoints do not break): the table scrolls, not the page.
        scroll={{ x: true }}
        rowKey="id"
        size="middle"
        pagination={{ pageSize: 10, hideOnSinglePage: true }}
        loading={tasks.loading && !tasks.data}
        dataSource={rows}
        locale={{ emptyText: tasks.loading ? " " : <Empty description={t(mode === "dr" ? "tasks.empty.dr" : "tasks.empty.migration")} /> }}
        onRow={(task) => ({ "data-testid": "task-row", "data-phase": task.phase }) as React.HTMLAttributes<HTMLElement>}
        columns={[
          {
            title: t("tasks.col.task"),
            key: "task",
            render: (_, task) => (
              <Typography.Link href={href({ page: "task", id: task.id, instance: instance.name })} style={{ whiteSpace: "nowrap" }}>
                {task.id}
              </Typography.Link>
            ),
          },
          { title: t("tasks.col.source"), key: "source", render: (_, task) => <NoBreak>{task.source.name}</NoBreak> },
          { title: t("tasks.col.phase"), key: "phase", render: (_, task) => <PhaseColumn task={task} /> },
          { title: t("tasks.col.status"), key: "status", render: (_, task) => <TaskState task={task} /> },
          { title: t("tasks.col.created"), dataIndex: "created_at", render: (c: string) => <Words text={formatTime(c)} /> },
          { title: t("tasks.col.actions"), key: "actions", render: (_, task) => actions(task) },
        ]}
        data-testid="tasks"
      />
      <NewTaskDialog
        open={creating}
        mode={mode}
        destination={instance.name}
        navigate={navigate}
        onClose={() => setCreating(false)}
        onCreated={(task) => {
          setCreating(false);
          void notice.success(t("newTask.created", { id: task.id }));
          void tasks.reload();
        }}
      />
      {switching && (
        <SwitchoverDialog
          open
          watch={switching.watch}
          task={switching.task}
          destinationEndpoint={endpoint}
          onClose={() => {
            setSwitching(null);
            void tasks.reload();
          }}
        />
      )}
      {failingOver && (
        <FailoverDialog
          open
          task={failingOver}
          destinationEndpoint={endpoint}
          onClose={() => {
            setFailingOver(null);
            void tasks.reload();
          }}
        />
      )}
    </section>
  );
}
