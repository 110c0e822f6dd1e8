import {
  CloudServerOutlined,
  DatabaseOutlined,
  FileTextOutlined,
  FolderOutlined,
  MenuFoldOutlined,
  MenuUnfoldOutlined,
} from "@ant-design/icons";
import { Alert, Breadcrumb, Button, ConfigProvider, Layout, Menu, Segmented, Space, Tag, Typography, theme } from "antd";
import { useEffect, useState } from "react";
import logo from "../icons/128x128.png";
import { appInfo } from "./api/app";
import type { AppInfo } from "./api/app";
import type { CommandError } from "./api/core";
import PageErrorBoundary from "./components/PageErrorBoundary";
import { LOCALES, t } from "./i18n";
import type { Locale } from "./i18n";
import { ANTD_LOCALES, chooseLocale, useLocale } from "./locale";
import HostsPage from "./pages/hosts/HostsPage";
import InstanceDetail from "./pages/instance-detail/InstanceDetail";
import InstancesPage from "./pages/instances/InstancesPage";
import ReportPage from "./pages/migration/ReportPage";
import TaskDetails from "./pages/migration/TaskDetails";
import { href, instanceRoute, useRoute } from "./router";
import type { Route } from "./router";

/** The console in the chosen language, antd's own strings (pagination, modal buttons) too. */
export default function App() {
  // Every string is read from the table at render: a new language re-renders the console.
  const locale = useLocale();
  return (
    <ConfigProvider locale={ANTD_LOCALES[locale]}>
      <Frame locale={locale} />
    </ConfigProvider>
  );
}

/** The console frame: top bar, left navigation, the current page, and a status footer. */
function Frame({ locale }: { locale: Locale }) {
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [infoError, setInfoError] = useState<CommandError | null>(null);
  const [route, navigate] = useRoute();
  const { token } = theme.useToken();
  // On an instance's pages its own left navigation takes the room: the frame's shrinks to
  // icons, unless the user has folded or unfolded it (that choice holds from then on).
  const [menuChoice, setMenuChoice] = useState<boolean>();
  const collapsed = menuChoice ?? (route.page !== "instances" && route.page !== "hosts");

  useEffect(() => {
    appInfo().then(setInfo, (e: CommandError) => setInfoError(e));
  }, []);

  return (
    <Layout style={{ minHeight: "100vh" }}>
      <Layout.Header style={{ display: "flex", alignItems: "center", gap: 12, paddingInline: 12, height: 52 }}>
        <Button
          type="text"
          icon={collapsed ? <MenuUnfoldOutlined /> : <MenuFoldOutlined />}
          style={{ color: "#fff" }}
          aria-label={t(collapsed ? "nav.expand" : "nav.collapse")}
          aria-expanded={!collapsed}
          onClick={() => setMenuChoice(!collapsed)}
          data-testid="nav-toggle"
        />
        <img src={logo} alt="" width={28} height={28} />
        <Typography.Text strong style={{ color: "#fff", fontSize: 18 }} data-testid="product-name">
          {t("app.name")}
        </Typography.Text>
        {info && (
          <Tag color="blue" data-testid="app-version" style={{ marginInlineStart: 4 }}>
            {t("app.version", { version: info.version })}
          </Tag>
        )}
        <Segmented
          size="small"
          style={{ marginInlineStart: "auto" }}
          value={locale}
          onChange={chooseLocale}
          options={LOCALES.map((l) => ({
            value: l.id,
            label: <span data-testid={`language-${l.id}`}>{l.label}</span>,
          }))}
          // In both languages, so a reader of either finds the switch.
          aria-label="Language / 语言"
          data-testid="language-switch"
        />
      </Layout.Header>
      <Layout>
        <Layout.Sider
          width={200}
          collapsedWidth={56}
          collapsed={collapsed}
          trigger={null}
          style={{ background: token.colorBgContainer }}
        >
          <Menu
            mode="inline"
            selectedKeys={[route.page === "hosts" ? "hosts" : "instances"]}
            onClick={({ key }) => navigate({ page: key === "hosts" ? "hosts" : "instances" })}
            style={{ height: "100%", borderInlineEnd: 0 }}
            data-testid="nav-menu"
            items={[
              { key: "instances", icon: <DatabaseOutlined />, label: t("nav.instances") },
              { key: "hosts", icon: <CloudServerOutlined />, label: t("nav.hosts"), "data-testid": "nav-hosts" },
            ]}
          />
        </Layout.Sider>
        <Layout style={{ padding: "12px 20px 20px" }}>
          <Crumbs route={route} />
          <Layout.Content
            style={{ background: token.colorBgContainer, borderRadius: token.borderRadiusLG, padding: 20 }}
          >
            {infoError && (
              <Alert
                type="error"
                showIcon
                style={{ marginBottom: 16 }}
                title={t("app.infoFailed")}
                description={`${infoError.message} (${infoError.code})`}
                data-testid="app-info-error"
              />
            )}
            <PageErrorBoundary key={window.location.hash}>
              <Page route={route} navigate={navigate} />
            </PageErrorBoundary>
          </Layout.Content>
          <Layout.Footer style={{ padding: "8px 0 0", background: "transparent" }}>
            <Space size="large">
              <Space size="small">
                <FolderOutlined />
                <Typography.Text type="secondary" data-testid="state-dir">
                  {info ? t("app.stateDir", { path: info.state_dir }) : t("app.stateDirUnknown")}
                </Typography.Text>
              </Space>
              {info?.log_dir && (
                <Space size="small">
                  <FileTextOutlined />
                  <Typography.Text type="secondary" data-testid="log-dir">
                    {t("app.logDir", { path: info.log_dir })}
                  </Typography.Text>
                </Space>
              )}
            </Space>
          </Layout.Footer>
        </Layout>
      </Layout>
    </Layout>
  );
}

function Page({ route, navigate }: { route: Route; navigate: (r: Route) => void }) {
  switch (route.page) {
    case "instances":
      return <InstancesPage navigate={navigate} />;
    case "hosts":
      return <HostsPage />;
    case "instance":
      return <InstanceDetail key={route.name} route={route} navigate={navigate} />;
    case "report":
      return <ReportPage key={route.id} id={route.id} from={route.instance} navigate={navigate} />;
    case "task":
      return <TaskDetails key={route.id} id={route.id} from={route.instance} navigate={navigate} />;
  }
}

function Crumbs({ route }: { route: Route }) {
  if (route.page === "hosts") {
    return <Breadcrumb items={[{ title: t("nav.hosts") }]} style={{ marginBottom: 12 }} data-testid="breadcrumb" />;
  }
  const items: { title: React.ReactNode }[] = [{ title: <a href={href({ page: "instances" })}>{t("nav.instances")}</a> }];
  const instance = route.page === "instance" ? route.name : route.page === "instances" ? undefined : route.instance;
  if (instance) items.push({ title: <a href={href(instanceRoute(instance))}>{instance}</a> });
  if (route.page === "instance" && route.section === "migration") {
    items.push({ title: t("detail.nav.migration") });
  }
  if (route.page === "report") items.push({ title: t("report.title") });
  if (route.page === "task") items.push({ title: t("taskDetail.title", { id: route.id }) });
  return <Breadcrumb items={items} style={{ marginBottom: 12 }} data-testid="breadcrumb" />;
}
