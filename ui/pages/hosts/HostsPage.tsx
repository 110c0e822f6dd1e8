import { PlusOutlined, ReloadOutlined } from "@ant-design/icons";
import { Button, Empty, Popconfirm, Space, Table, Typography, message } from "antd";
import type { TableColumnsType } from "antd";
import { useRef, useState } from "react";
import { asCommandError } from "../../api/core";
import type { CommandError } from "../../api/core";
import { checkHost, listHosts, removeHost } from "../../api/hosts";
import type { HostRecord } from "../../api/hosts";
import ErrorAlert from "../../components/ErrorAlert";
import NoBreak from "../../components/NoBreak";
import PageHeader from "../../components/PageHeader";
import { useLoad } from "../../hooks/useLoad";
import { t } from "../../i18n";
import { formatTime } from "../../units";
import AddHostDialog from "./AddHostDialog";
import HostCheckDrawer from "./HostCheckDrawer";
import type { CheckState } from "./HostCheckDrawer";
import { withStep } from "./steps";

function destination(h: HostRecord): string {
  return h.ssh_user ? `${h.ssh_user}@${h.ssh_host}` : h.ssh_host;
}

/** The Hosts page: remote hosts reached over SSH, with Add Host, Check and Remove. */
export default function HostsPage() {
  const [notice, noticeHolder] = message.useMessage();
  const [adding, setAdding] = useState(false);
  const [checking, setChecking] = useState<CheckState>();
  const [removeError, setRemoveError] = useState<CommandError>();
  const [busy, setBusy] = useState<string[]>([]);
  // The latest check started: steps of an earlier one still arriving are dropped.
  const latestCheck = useRef(0);
  const list = useLoad(listHosts, []);

  const check = async (name: string) => {
    const ticket = ++latestCheck.current;
    const update = (f: (s: CheckState) => CheckState) =>
      setChecking((s) => (ticket === latestCheck.current && s ? f(s) : s));
    setChecking({ name, steps: [] });
    setBusy((b) => [...b, name]);
    try {
      const result = await checkHost(name, (step) => update((s) => ({ ...s, steps: withStep(s.steps, step) })));
      update((s) => ({ ...s, result }));
    } catch (e) {
      const error = asCommandError(e);
      update((s) => ({ ...s, error }));
    } finally {
      setBusy((b) => b.filter((n) => n !== name));
    }
  };

  const remove = async (name: string) => {
    setBusy((b) => [...b, name]);
    setRemoveError(undefined);
    try {
      await removeHost(name);
      void notice.success(t("hosts.removed", { name }));
    } catch (e) {
      setRemoveError(asCommandError(e));
    } finally {
      setBusy((b) => b.filter((n) => n !== name));
      void list.reload();
    }
  };

  const columns: TableColumnsType<HostRecord> = [
    {
      title: t("hosts.col.name"),
      dataIndex: "name",
      key: "name",
      render: (name: string) => (
        <Typography.Text strong>
          <NoBreak>{name}</NoBreak>
        </Typography.Text>
      ),
    },
    {
      title: t("hosts.col.destination"),
      key: "destination",
      render: (_, h) => <NoBreak testId="host-destination-cell">{destination(h)}</NoBreak>,
    },
    {
      title: t("hosts.col.port"),
      key: "port",
      render: (_, h) => h.ssh_port ?? <Typography.Text type="secondary">{t("hosts.portDefault")}</Typography.Text>,
    },
    {
      title: t("hosts.col.hostKey"),
      key: "host_key",
      render: (_, h) =>
        h.host_key ? (
          <Typography.Text code data-testid="host-key-cell">
            {h.host_key}
          </Typography.Text>
        ) : (
          <Typography.Text type="secondary">{t("hosts.keyKnownToSsh")}</Typography.Text>
        ),
    },
    { title: t("hosts.col.added"), key: "added", render: (_, h) => formatTime(h.added_at) },
    {
      title: t("hosts.col.actions"),
      key: "actions",
      render: (_, h) => (
        <Space size="small">
          <Button
            type="link"
            size="small"
            loading={busy.includes(h.name) && checking?.name === h.name && !checking.result && !checking.error}
            onClick={() => void check(h.name)}
            data-testid={`host-check-${h.name}`}
          >
            {t("hosts.action.check")}
          </Button>
          <Popconfirm
            title={t("hosts.removeConfirm", { name: h.name })}
            description={t("hosts.removeConfirmBody")}
            onConfirm={() => remove(h.name)}
            okButtonProps={{ danger: true, "data-testid": "host-remove-ok" }}
          >
            <Button type="link" size="small" danger disabled={busy.includes(h.name)} data-testid={`host-remove-${h.name}`}>
              {t("hosts.action.remove")}
            </Button>
          </Popconfirm>
        </Space>
      ),
    },
  ];

  return (
    <section aria-labelledby="page-title">
      {noticeHolder}
      <PageHeader
        title={t("hosts.title")}
        actions={
          <>
            <Button type="primary" icon={<PlusOutlined />} onClick={() => setAdding(true)} data-testid="add-host">
              {t("hosts.add")}
            </Button>
            <Button
              icon={<ReloadOutlined />}
              onClick={() => void list.reload()}
              aria-label={t("common.refresh")}
              title={t("common.refresh")}
            />
          </>
        }
      />
      {list.error && <ErrorAlert error={list.error} title={t("hosts.loadFailed")} testId="hosts-error" />}
      {removeError && <ErrorAlert error={removeError} title={t("hosts.removeFailed")} testId="host-remove-error" />}
      <Table<HostRecord>
        // Wider than the window (names and endpoints do not break): the table scrolls, not the page.
        scroll={{ x: true }}
        rowKey="name"
        size="middle"
        columns={columns}
        dataSource={list.data ?? []}
        loading={list.loading && !list.data}
        pagination={false}
        locale={{
          emptyText: list.loading ? " " : <Empty description={t("hosts.empty")} data-testid="hosts-empty" />,
        }}
        onRow={(h) => ({ "data-testid": `host-row-${h.name}` }) as React.HTMLAttributes<HTMLElement>}
      />
      <AddHostDialog
        open={adding}
        onClose={() => setAdding(false)}
        onAdded={(result) => {
          setAdding(false);
          void notice.success(t("hosts.added", { name: result.host.name }));
          void list.reload();
          latestCheck.current += 1;
          setChecking({ name: result.host.name, steps: [], result });
        }}
      />
      <HostCheckDrawer state={checking} onClose={() => setChecking(undefined)} />
    </section>
  );
}
