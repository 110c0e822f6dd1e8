import { Typography } from "antd";
import type { CheckResult } from "../../api/assessments";
import EvidenceTable from "../../components/EvidenceTable";
import RemedyBlocks from "../../components/RemedyBlocks";
import { labelled, t } from "../../i18n";

/** A check's expanded row: finding, impact, remedy (its commands copyable) and evidence. */
export default function CheckDetails({ check }: { check: CheckResult }) {
  const hasEvidence = Object.keys(check.evidence).length > 0;
  return (
    <div style={{ padding: "4px 8px" }} data-testid={`check-details-${check.id}`}>
      <Typography.Paragraph style={{ marginBottom: 8 }}>
        <Typography.Text strong>{labelled("report.message")}</Typography.Text>
        {check.message}
      </Typography.Paragraph>
      {check.impact && (
        <Typography.Paragraph style={{ marginBottom: 8 }}>
          <Typography.Text strong>{labelled("report.impact")}</Typography.Text>
          {check.impact}
        </Typography.Paragraph>
      )}
      {check.remedy && (
        <div style={{ marginBottom: 8 }}>
          <Typography.Paragraph strong style={{ marginBottom: 4 }}>
            {t("report.remedy")}
          </Typography.Paragraph>
          <RemedyBlocks remedy={check.remedy} testId={`remedy-${check.id}`} />
        </div>
      )}
      {hasEvidence && (
        <div>
          <Typography.Paragraph strong style={{ marginBottom: 4 }}>
            {t("report.evidence")}
          </Typography.Paragraph>
          <EvidenceTable evidence={check.evidence} />
        </div>
      )}
    </div>
  );
}
