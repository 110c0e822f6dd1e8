import { Card, Collapse, Table, Tag, Typography } from "antd";
import type { CheckResult, CheckStatus, Report } from "../../api/assessments";
import CheckStatusIcon from "../../components/CheckStatusIcon";
import { t } from "../../i18n";
import CheckDetails from "./CheckDetails";

/** A check with the title of the group it belongs to. */
export type GroupedCheck = CheckResult & { group: string };

/** The statuses shown first, each in its own section, in this order. */
export const ATTENTION: readonly CheckStatus[] = ["error", "warning", "skipped"];

/** The id of the section that lists the checks of one status (the header's counts link to it). */
export const sectionId = (status: CheckStatus) => `report-section-${status}`;

/** Every check of the report with its group, in catalogue order. */
export function checksOf(report: Report): GroupedCheck[] {
  return report.groups.flatMap((g) => g.checks.map((c) => ({ ...c, group: g.name })));
}

const hasDetails = (c: CheckResult) => c.status !== "success" || Object.keys(c.evidence).length > 0;

/** A table of checks, each row expandable to its details; `open` rows start expanded. */
function CheckTable({ checks, open, withGroup }: { checks: GroupedCheck[]; open: boolean; withGroup: boolean }) {
  return (
    <Table<GroupedCheck>
      rowKey="id"
      size="small"
      pagination={false}
      showHeader={false}
      dataSource={checks}
      expandable={{
        expandedRowRender: (check) => <CheckDetails check={check} />,
        defaultExpandedRowKeys: open ? checks.map((c) => c.id) : [],
        rowExpandable: hasDetails,
      }}
      onRow={(c) => ({ "data-testid": `check-${c.id}`, "data-status": c.status }) as React.HTMLAttributes<HTMLElement>}
      columns={[
        { key: "status", width: 36, render: (_, c) => <CheckStatusIcon status={c.status} /> },
        {
          key: "title",
          width: "32%",
          render: (_, c) => (
            <>
              <Typography.Text strong>{c.title}</Typography.Text>
              {withGroup && (
                <div>
                  <Tag style={{ marginTop: 4 }}>{c.group}</Tag>
                </div>
              )}
            </>
          ),
        },
        { key: "message", dataIndex: "message", render: (m: string) => <Typography.Text type="secondary">{m}</Typography.Text> },
      ]}
    />
  );
}

/** The checks of one status that need a look (errors, warnings, skipped), errors and warnings opened. */
function AttentionSection({ status, checks }: { status: CheckStatus; checks: GroupedCheck[] }) {
  return (
    <Card
      id={sectionId(status)}
      size="small"
      title={t(`report.section.${status}` as const, { count: checks.length })}
      style={{ marginBottom: 12, scrollMarginTop: 12 }}
      data-testid={sectionId(status)}
    >
      <CheckTable checks={checks} open={status !== "skipped"} withGroup />
    </Card>
  );
}

/** The checks that passed, folded by group: each group opens on a click. */
function PassedSection({ report }: { report: Report }) {
  const groups = report.groups
    .map((g) => ({ name: g.name, checks: g.checks.filter((c) => c.status === "success").map((c) => ({ ...c, group: g.name })) }))
    .filter((g) => g.checks.length > 0);
  const total = groups.reduce((n, g) => n + g.checks.length, 0);
  return (
    <Card
      id={sectionId("success")}
      size="small"
      title={t("report.section.success", { count: total })}
      style={{ marginBottom: 12, scrollMarginTop: 12 }}
      data-testid={sectionId("success")}
    >
      <Collapse
        size="small"
        items={groups.map((g) => ({
          key: g.name,
          label: (
            <span data-testid="report-group" data-group={g.name}>
              <Typography.Text strong>{g.name}</Typography.Text>{" "}
              <Typography.Text type="secondary">{t("report.groupPassed", { count: g.checks.length })}</Typography.Text>
            </span>
          ),
          children: <CheckTable checks={g.checks} open={false} withGroup={false} />,
        }))}
      />
    </Card>
  );
}

/** The report's checks: errors, then warnings, then skipped (each opened), then the passes folded by group. */
export default function ReportChecks({ report }: { report: Report }) {
  const all = checksOf(report);
  const attention = ATTENTION.map((status) => ({ status, checks: all.filter((c) => c.status === status) })).filter(
    (s) => s.checks.length > 0,
  );
  return (
    <>
      {!attention.some((s) => s.status !== "skipped") && (
        <Typography.Paragraph type="secondary" data-testid="report-all-clear">
          {t("report.allClear")}
        </Typography.Paragraph>
      )}
      {attention.map((s) => (
        <AttentionSection key={s.status} status={s.status} checks={s.checks} />
      ))}
      {all.some((c) => c.status === "success") && <PassedSection report={report} />}
    </>
  );
}
