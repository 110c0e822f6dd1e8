import {
  ApiOutlined,
  CloudSyncOutlined,
  FileTextOutlined,
  InfoCircleOutlined,
  MenuFoldOutlined,
  MenuUnfoldOutlined,
  SettingOutlined,
  TeamOutlined,
} from "@ant-design/icons";
import { Button, Menu } from "antd";
import { useStoredFlag } from "../../hooks/useStoredFlag";
import { t } from "../../i18n";
import type { Section } from "../../router";

const ICON: Record<Section, React.ReactNode> = {
  basic: <InfoCircleOutlined />,
  connection: <ApiOutlined />,
  accounts: <TeamOutlined />,
  parameters: <SettingOutlined />,
  logs: <FileTextOutlined />,
  migration: <CloudSyncOutlined />,
};

/** An instance's left navigation: its sections, foldable to icons (the choice is kept). */
export default function DetailNav({ sections, section, onGo }: { sections: Section[]; section: Section; onGo: (s: Section) => void }) {
  const [folded, setFolded] = useStoredFlag("pgrelocate.detailNavFolded", false);
  return (
    <div style={{ flex: "none", width: folded ? 56 : 264, borderInlineEnd: "1px solid rgba(5,5,5,0.06)" }}>
      <Menu
        mode="inline"
        inlineCollapsed={folded}
        selectedKeys={[section]}
        onClick={(e) => onGo(e.key as Section)}
        style={{ borderInlineEnd: 0, width: "100%" }}
        items={sections.map((s) => ({ key: s, icon: ICON[s], label: t(`detail.nav.${s}`), "data-testid": `nav-${s}` }))}
        data-testid="detail-nav"
      />
      <Button
        type="text"
        size="small"
        icon={folded ? <MenuUnfoldOutlined /> : <MenuFoldOutlined />}
        style={{ margin: "8px 12px" }}
        aria-label={t(folded ? "nav.expand" : "nav.collapse")}
        aria-expanded={!folded}
        onClick={() => setFolded(!folded)}
        data-testid="detail-nav-toggle"
      />
    </div>
  );
}
