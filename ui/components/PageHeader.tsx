import { ArrowLeftOutlined } from "@ant-design/icons";
import { Button, Space, Typography } from "antd";
import { t } from "../i18n";

/** A page's title line: an optional Back button, the title, extra tags, and actions on the right. */
export default function PageHeader({
  title,
  onBack,
  tags,
  actions,
}: {
  title: React.ReactNode;
  onBack?: () => void;
  tags?: React.ReactNode;
  actions?: React.ReactNode;
}) {
  return (
    <div style={{ display: "flex", alignItems: "center", justifyContent: "space-between", marginBottom: 16, gap: 12 }}>
      <Space size="middle" align="center">
        {onBack && (
          <Button icon={<ArrowLeftOutlined />} onClick={onBack} aria-label={t("nav.back")} data-testid="back" />
        )}
        <Typography.Title level={3} data-testid="page-title" style={{ margin: 0 }}>
          {title}
        </Typography.Title>
        {tags}
      </Space>
      {actions && <Space>{actions}</Space>}
    </div>
  );
}
