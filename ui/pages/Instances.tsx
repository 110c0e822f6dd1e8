import { CloudServerOutlined, ExperimentOutlined, LinkOutlined, PlusOutlined } from "@ant-design/icons";
import { Button, Empty, Modal, Popconfirm, Space, Table, Tag, Typography } from "antd";
import type { TableColumnsType } from "antd";
import { useState } from "react";
import type { Instance, InstanceStatus } from "../api";
import { t } from "../i18n";
import type { MessageKey } from "../i18n";
import { formatBytes } from "../units";

const STATUS_COLOR: Record<InstanceStatus, string> = {
  running: "success",
  stopped: "default",
  creating: "processing",
  migrating_in: "processing",
  maintaining: "warning",
  fenced: "warning",
  error: "error",
};

/** What a row's action buttons do; an action without a handler is not offered. */
export interface InstanceActions {
  onManage?: (instance: Instance) => void;
  onStart?: (instance: Instance) => void;
  onStop?: (instance: Instance) => void;
  onRemove?: (instance: Instance) => void;
}

interface Props extends InstanceActions {
  instances: Instance[];
  loading?: boolean;
}

/** The Instances page: every instance pgrelocate knows, managed here or external. */
export default function Instances({ instances, loading, ...actions }: Props) {
  const [pending, setPending] = useState<MessageKey | null>(null);

  const columns: TableColumnsType<Instance> = [
    {
      title: t("instances.col.instance"),
      key: "instance",
      render: (_, i) => (
        <Space orientation="vertical" size={0}>
          <Typography.Text strong>{i.name}</Typography.Text>
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {i.id}
          </Typography.Text>
        </Space>
      ),
    },
    {
      title: t("instances.col.status"),
      dataIndex: "status",
      render: (s: InstanceStatus) => <Tag color={STATUS_COLOR[s]}>{t(`status.${s}`)}</Tag>,
    },
    {
      title: t("instances.col.role"),
      dataIndex: "role",
      render: (r: Instance["role"]) => t(`role.${r}`),
    },
    {
      title: t("instances.col.engine"),
      dataIndex: "engine_version",
      render: (v: string) => t("engine.postgres", { version: v }),
    },
    {
      title: t("instances.col.kind"),
      dataIndex: "kind",
      render: (k: Instance["kind"]) => t(`kind.${k}`),
    },
    {
      title: t("instances.col.endpoint"),
      key: "endpoint",
      render: (_, i) => <Typography.Text copyable>{`${i.host}:${i.port}`}</Typography.Text>,
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
          : "—",
    },
    {
      title: t("instances.col.actions"),
      key: "actions",
      render: (_, i) => <RowActions instance={i} {...actions} />,
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
    <section aria-labelledby="instances-title">
      <div style={{ display: "flex", alignItems: "center", justifyContent: "space-between", marginBottom: 16 }}>
        <Typography.Title level={3} id="instances-title" data-testid="page-title" style={{ margin: 0 }}>
          {t("instances.title")}
        </Typography.Title>
        <Space>
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setPending("instances.create")}>
            {t("instances.create")}
          </Button>
          <Button icon={<LinkOutlined />} onClick={() => setPending("instances.register")}>
            {t("instances.register")}
          </Button>
          <Button icon={<ExperimentOutlined />} onClick={() => setPending("instances.sandbox")}>
            {t("instances.sandbox")}
          </Button>
        </Space>
      </div>
      <Table<Instance>
        rowKey="id"
        size="middle"
        columns={columns}
        dataSource={instances}
        loading={loading}
        pagination={false}
        locale={{ emptyText: empty }}
      />
      <Modal
        open={pending !== null}
        title={
          <Space>
            <CloudServerOutlined />
            {pending && t("pending.title", { feature: t(pending) })}
          </Space>
        }
        onOk={() => setPending(null)}
        onCancel={() => setPending(null)}
        okText={t("pending.ok")}
        cancelButtonProps={{ style: { display: "none" } }}
      >
        {pending && t("pending.body", { feature: t(pending) })}
      </Modal>
    </section>
  );
}

function RowActions({ instance, onManage, onStart, onStop, onRemove }: { instance: Instance } & InstanceActions) {
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
        <Button type="link" size="small" onClick={() => onStart(instance)}>
          {t("instances.action.start")}
        </Button>
      )}
      {managed && !stopped && onStop && (
        <Button type="link" size="small" onClick={() => onStop(instance)}>
          {t("instances.action.stop")}
        </Button>
      )}
      {onRemove && (
        <Popconfirm
          title={t("instances.removeConfirm", { name: instance.name })}
          description={managed ? t("instances.removeConfirmManaged") : undefined}
          onConfirm={() => onRemove(instance)}
          okButtonProps={{ danger: true }}
        >
          <Button type="link" size="small" danger>
            {t("instances.action.remove")}
          </Button>
        </Popconfirm>
      )}
    </Space>
  );
}
