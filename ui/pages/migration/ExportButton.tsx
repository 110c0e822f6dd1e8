import { DownloadOutlined } from "@ant-design/icons";
import { Button, Dropdown } from "antd";
import type { ExportFormat } from "../../api/assessments";
import { t } from "../../i18n";

const FORMATS: ExportFormat[] = ["html", "json", "md", "text"];

/** Export ▾ with the four formats; the Rust side asks where to save and writes the file. */
export default function ExportButton({
  onExport,
  loading,
  size,
  type,
}: {
  onExport: (format: ExportFormat) => void;
  loading?: boolean;
  size?: "small" | "middle";
  type?: "link" | "default";
}) {
  return (
    <Dropdown
      trigger={["click"]}
      menu={{
        items: FORMATS.map((f) => ({ key: f, label: t(`report.export.${f}`), "data-testid": `export-${f}` })),
        onClick: ({ key }) => onExport(key as ExportFormat),
      }}
    >
      <Button icon={<DownloadOutlined />} loading={loading} size={size} type={type} data-testid="export">
        {t("report.export")}
      </Button>
    </Dropdown>
  );
}
