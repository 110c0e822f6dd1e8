import { DatabaseOutlined, FolderOutlined } from "@ant-design/icons";
import { Alert, Layout, Menu, Space, Tag, Typography, theme } from "antd";
import { useEffect, useState } from "react";
import logo from "../icons/128x128.png";
import { appInfo } from "./api";
import type { AppInfo, CommandError, Instance } from "./api";
import { t } from "./i18n";
import Instances from "./pages/Instances";

type Page = "instances";

/** The console frame: top bar, left navigation, the current page, and a status footer. */
export default function App() {
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [infoError, setInfoError] = useState<CommandError | null>(null);
  const [page, setPage] = useState<Page>("instances");
  // The inventory store arrives with the engine; until then the console knows no instance.
  const instances: Instance[] = [];
  const { token } = theme.useToken();

  useEffect(() => {
    appInfo().then(setInfo, (e: CommandError) => setInfoError(e));
  }, []);

  return (
    <Layout style={{ minHeight: "100vh" }}>
      <Layout.Header
        style={{ display: "flex", alignItems: "center", gap: 12, paddingInline: 20, height: 52 }}
      >
        <img src={logo} alt="" width={28} height={28} />
        <Typography.Text strong style={{ color: "#fff", fontSize: 18 }} data-testid="product-name">
          {t("app.name")}
        </Typography.Text>
        {info && (
          <Tag color="blue" data-testid="app-version" style={{ marginInlineStart: 4 }}>
            {t("app.version", { version: info.version })}
          </Tag>
        )}
      </Layout.Header>
      <Layout>
        <Layout.Sider width={200} style={{ background: token.colorBgContainer }}>
          <Menu
            mode="inline"
            selectedKeys={[page]}
            onClick={(e) => setPage(e.key as Page)}
            style={{ height: "100%", borderInlineEnd: 0 }}
            items={[{ key: "instances", icon: <DatabaseOutlined />, label: t("nav.instances") }]}
          />
        </Layout.Sider>
        <Layout style={{ padding: 20 }}>
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
            {page === "instances" && <Instances instances={instances} />}
          </Layout.Content>
          <Layout.Footer style={{ padding: "8px 0 0", background: "transparent" }}>
            <Space size="small">
              <FolderOutlined />
              <Typography.Text type="secondary" data-testid="state-dir">
                {info ? t("app.stateDir", { path: info.state_dir }) : t("app.stateDirUnknown")}
              </Typography.Text>
            </Space>
          </Layout.Footer>
        </Layout>
      </Layout>
    </Layout>
  );
}
