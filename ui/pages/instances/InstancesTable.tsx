import { Button, Empty, Popconfirm, Space, Table, Tag, Tooltip, Typography } from "antd";
import type { TableColumnsType } from "antd";
import NoBreak from "../../components/NoBreak";
import ShortId from "../../components/ShortId";
import { t } from "../../i18n";
import { href, instanceRoute } from "../../router";
import { formatBytes } from "../../units";
import type { ConsoleStatus, InstanceRow } from "./status";

const STATUS_COLOR: Record<ConsoleStatus, string> = {
  running: "success",
  stopped: "default",
  creating: "processing",
  migrating_in: "processing",
  maintaining: "warning",
  in_recovery: "warning",
  read_only: "warning",
  error: "error",
};

/** An instance's status tag (with the reason on hover when it is Error). */
export function StatusTag({ status, problem }: { status: ConsoleStatus; problem?: string | null }) {
  const tag = (
    <Tag color={STATUS_COLOR[status]} data-testid="status-tag">
      {t(`status.${status}`)}
    </Tag>
  );
  return status === "error" && problem ? <Tooltip title={problem}>{tag}</Tooltip> : tag;
}

/** An instance's Kind: "Managed here" for one on this machine, "Managed" for one on a host. */
export function kindLabel(kind: InstanceRow["kind"], runsOn: string | null | undefined) {
  return kind === "managed" && runsOn ? "kind.managedOnHost" : (`kind.${kind}` as const);
}

/** The small "adopted" tag beside the Kind of a managed instance pgrelocate did not create. */
export function AdoptedTag() {
  return (
    <Tooltip title={t("instances.adoptedTagHelp")}>
      <Tag data-testid="adopted-tag" style={{ marginInlineStart: 8 }}>
        {t("instances.adoptedTag")}
      </Tag>
    </Tooltip>
  );
}

/** What Remove's confirmation says happens to the instance's server and files. */
export function removeConfirmBody(instance: Pick<InstanceRow, "kind" | "adopted">) {
  if (instance.kind !== "managed") return t("instances.removeConfirmExternal");
  return instance.adopted ? t("instances.removeConfirmAdopted") : t("instances.removeConfirmManaged");
}

/** Where a managed instance runs: a registered host, or this machine; nothing for an external one. */
function HostCell({ instance }: { instance: InstanceRow }) {
  // An instance being created has no record yet, so where it runs is not known.
  if (instance.kind !== "managed" || instance.status === "creating") return <>{t("common.none")}</>;
  return (
    <NoBreak testId="instance-host">{instance.runsOn ?? t("common.thisMachine")}</NoBreak>
  );
}

/** What a row's action buttons do; an action without a handler is not offered. */
export interface InstanceActions {
  onManage?: (instance: InstanceRow) => void;
  onStart?: (instance: InstanceRow) => void;
  onStop?: (instance: InstanceRow) => void;
  onRemove?: (instance: InstanceRow) => void;
}

interface Props extends InstanceActions {
  instances: InstanceRow[];
  loading?: boolean;
  /** Names whose start/stop/remove is under way. */
  busy?: string[];
}

/** The Instances table: every instance pgrelocate knows, managed here or external. */
export default function InstancesTable({ instances, loading, busy = [], ...actions }: Props) {
  const columns: TableColumnsType<InstanceRow> = [
    {
      title: t("instances.col.instance"),
      key: "instance",
      render: (_, i) => (
        <Space orientation="vertical" size={0}>
          {actions.onManage && i.status !== "creating" ? (
            <Typography.Link
              strong
              href={href(instanceRoute(i.name))}
              onClick={(e) => {
                e.preventDefault();
                actions.onManage?.(i);
              }}
            >
              <NoBreak>{i.name}</NoBreak>
            </Typography.Link>
          ) : (
            <Typography.Text strong>
              <NoBreak>{i.name}</NoBreak>
            </Typography.Text>
          )}
          {i.id && <ShortId id={i.id} testId="instance-id" />}
        </Space>
      ),
    },
    {
      title: t("instances.col.status"),
      key: "status",
      render: (_, i) => <StatusTag status={i.status} problem={i.problem} />,
    },
    {
      title: t("instances.col.role"),
      dataIndex: "role",
      render: (r: InstanceRow["role"]) => (r ? t(`role.${r}`) : t("common.none")),
    },
    {
      title: t("instances.col.engine"),
      dataIndex: "engineVersion",
      render: (v: string | null) => (v ? t("engine.postgres", { version: v }) : t("common.none")),
    },
    {
      title: t("instances.col.kind"),
      key: "kind",
      render: (_, i) => (
        <>
          <span>{t(kindLabel(i.kind, i.runsOn))}</span>
          {i.kind === "managed" && i.adopted && <AdoptedTag />}
        </>
      ),
    },
    {
      title: t("instances.col.host"),
      key: "runsOn",
      render: (_, i) => <HostCell instance={i} />,
    },
    {
      title: t("instances.col.endpoint"),
      key: "endpoint",
      render: (_, i) =>
        i.host ? (
          <Typography.Text copyable style={{ whiteSpace: "nowrap" }} data-testid="instance-endpoint">
            {`${i.host}:${i.port}`}
          </Typography.Text>
        ) : (
          t("common.none")
        ),
    },
    {
      title: t("instances.col.storage"),
      key: "storage",
      render: (_, i) =>
        i.storage
          ? t("instances.storageValue", {
              used: formatBytes(i.storage.used_bytes),
              free: formatBytes(i.storage.free_bytes),
            })
          : t("common.none"),
    },
    {
      title: t("instances.col.actions"),
      key: "actions",
      // Always in view, also when the table scrolls sideways in a narrow window.
      fixed: "right",
      render: (_, i) => (i.status === "creating" ? null : <RowActions instance={i} busy={busy.includes(i.name)} {...actions} />),
    },
  ];

  const empty = (
    <Empty
      data-testid="instances-empty"
      image={Empty.PRESENTED_IMAGE_SIMPLE}
      description={
        <Space orientation="vertical" size="small" style={{ maxWidth: 640, textAlign: "left" }}>
          <Typography.Text strong>{t("instances.empty.title")}</Typography.Text>
          <Typography.Paragraph style={{ margin: 0 }}>{t("instances.empty.sandbox")}</Typography.Paragraph>
          <Typography.Paragraph style={{ margin: 0 }}>{t("instances.empty.real")}</Typography.Paragraph>
        </Space>
      }
    />
  );

  return (
    <Table<InstanceRow>
      // Wider than the window (names and endpoints do not break): the table scrolls, not the page.
      scroll={{ x: true }}
      rowKey="name"
      size="middle"
      columns={columns}
      dataSource={instances}
      loading={loading}
      pagination={false}
      locale={{ emptyText: loading ? " " : empty }}
      onRow={(i) => ({ "data-testid": `instance-row-${i.name}` }) as React.HTMLAttributes<HTMLElement>}
    />
  );
}

function RowActions({
  instance,
  busy,
  onManage,
  onStart,
  onStop,
  onRemove,
}: { instance: InstanceRow; busy: boolean } & InstanceActions) {
  const managed = instance.kind === "managed";
  const stopped = instance.status === "stopped";
  return (
    <Space size="small">
      {onManage && (
        <Button type="link" size="small" onClick={() => onManage(instance)}>
          {t("instances.action.manage")}
        </Button>
      )}
      {managed && stopped && onStart && (
        <Button type="link" size="small" loading={busy} onClick={() => onStart(instance)}>
          {t("instances.action.start")}
        </Button>
      )}
      {managed && !stopped && onStop && (
        <Popconfirm
          title={t("instances.stopConfirm", { name: instance.name })}
          description={t("instances.stopConfirmBody")}
          onConfirm={() => onStop(instance)}
        >
          <Button type="link" size="small" loading={busy}>
            {t("instances.action.stop")}
          </Button>
        </Popconfirm>
      )}
      {onRemove && (
        <Popconfirm
          title={t("instances.removeConfirm", { name: instance.name })}
          description={removeConfirmBody(instance)}
          onConfirm={() => onRemove(instance)}
          okButtonProps={{ danger: true }}
        >
          <Button type="link" size="small" danger disabled={busy}>
            {t("instances.action.remove")}
          </Button>
        </Popconfirm>
      )}
    </Space>
  );
}
