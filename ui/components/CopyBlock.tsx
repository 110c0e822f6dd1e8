import { Typography } from "antd";

/** Preformatted text (SQL, pg_hba lines) with a copy button. */
export default function CopyBlock({ text, testId }: { text: string; testId?: string }) {
  return (
    <div style={{ position: "relative" }} data-testid={testId}>
      <Typography.Paragraph
        copyable={{ text }}
        style={{
          fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace",
          fontSize: 12,
          whiteSpace: "pre-wrap",
          background: "rgba(0, 0, 0, 0.03)",
          border: "1px solid rgba(5, 5, 5, 0.06)",
          borderRadius: 4,
          padding: "8px 12px",
          margin: 0,
        }}
      >
        {text}
      </Typography.Paragraph>
    </div>
  );
}
