import { Typography } from "antd";
import CopyBlock from "./CopyBlock";
import { splitRemedy } from "./remedy";

/** A remedy: its words as text, each run of commands in its own block whose copy button copies only the commands. */
export default function RemedyBlocks({ remedy, testId }: { remedy: string; testId?: string }) {
  return (
    <div data-testid={testId} style={{ display: "grid", gap: 6 }}>
      {splitRemedy(remedy).map((part, i) =>
        part.kind === "commands" ? (
          <CopyBlock key={i} text={part.text} testId={testId ? `${testId}-command` : undefined} />
        ) : (
          <Typography.Paragraph key={i} style={{ margin: 0, whiteSpace: "pre-line" }}>
            {part.text}
          </Typography.Paragraph>
        ),
      )}
    </div>
  );
}
