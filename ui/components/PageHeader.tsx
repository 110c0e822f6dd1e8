import { ArrowLeftOutlined } from "@ant-design/icons";
import { Button, Space, Typography } from "antd";
import { t } from "../i18n";

/**
 * A page's title line: an optional Back button, the title, extra tags, and actions on the right.
 * The title keeps its one-line width: in a narrow window the actions wrap below it (and among
 * themselves) instead of squeezing it into one letter per line.
 */
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
    <div
      data-testid="page-header"
      style={{
        display: "flex",
        flexWrap: "wrap",
        alignItems: "center",
        justifyContent: "space-between",
        marginBottom: 16,
        columnGap: 12,
        rowGap: 8,
      }}
    >
      <div style={{ display: "flex", flexWrap: "wrap", alignItems: "center", gap: 16, flex: "0 0 auto", maxWidth: "100%" }}>
        {onBack && (
          <Button icon={<ArrowLeftOutlined />} onClick={onBack} aria-label={t("nav.back")} data-testid="back" />
        )}
        <Typography.Title
          level={3}
          data-testid="page-title"
          style={{ margin: 0, minWidth: 0, wordBreak: "normal", overflowWrap: "break-word" }}
        >
          {title}
        </Typography.Title>
        {tags}
      </div>
      {actions && (
        <Space wrap style={{ marginLeft: "auto", justifyContent: "flex-end" }}>
          {actions}
        </Space>
      )}
    </div>
  );
}
