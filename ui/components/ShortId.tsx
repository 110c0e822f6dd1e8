import { Tooltip, Typography } from "antd";
import { t } from "../i18n";

/** How many characters of a long ID the console shows. */
export const SHORT_ID_LENGTH = 8;

/** A long ID in short (its first 8 characters, the whole on hover) with a button that copies all of it. */
export default function ShortId({ id, testId }: { id: string; testId?: string }) {
  const short = id.length > SHORT_ID_LENGTH ? id.slice(0, SHORT_ID_LENGTH) : id;
  return (
    <Typography.Text
      type="secondary"
      style={{ fontSize: 12, fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace", whiteSpace: "nowrap" }}
      copyable={{ text: id, tooltips: [t("common.copyId"), t("common.copied")] }}
      data-testid={testId}
    >
      <Tooltip title={id}>
        <span aria-label={t("common.fullId", { id })}>{short}</span>
      </Tooltip>
    </Typography.Text>
  );
}
