import { Alert, Button, Card, Descriptions, Popconfirm, Space, Table, Typography } from "antd";
import { useState } from "react";
import { accessDiff, applyAccess, undoAccess } from "../../api/access";
import type { AccessDiff, PendingLine, SkippedLine } from "../../api/access";
import { asCommandError } from "../../api/core";
import type { CommandError } from "../../api/core";
import CopyBlock from "../../components/CopyBlock";
import ErrorAlert from "../../components/ErrorAlert";
import PathText from "../../components/PathText";
import { useLoad } from "../../hooks/useLoad";
import { t } from "../../i18n";

const mono: React.CSSProperties = { fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace", fontSize: 12 };

/** Why a pending line is pending: what the destination refuses of it now, or that it is a
 * `reject` carried so the block refuses what the source refused. */
function why(p: PendingLine): React.ReactNode {
  if (p.refused.length === 0) return t("taskDetail.accessCarriedReject");
  return (
    <ul style={{ margin: 0, paddingInlineStart: 16 }}>
      {p.refused.map((r, i) => (
        <li key={i}>{r}</li>
      ))}
    </ul>
  );
}

/**
 * A task's access rules (issue 14 item 1): which client networks the source admits that the
 * destination's pg_hba.conf would refuse, applied after review as the task's marked block,
 * and undone by removing exactly that block. Renders nothing while (or when) there is no
 * diff to show; a failed read shows its error.
 */
export default function AccessRulesCard({ taskId }: { taskId: string }) {
  const diff = useLoad<AccessDiff | null>(() => accessDiff(taskId), [taskId]);
  const [busy, setBusy] = useState<"apply" | "undo" | null>(null);
  const [actionError, setActionError] = useState<{ what: "apply" | "undo"; error: CommandError }>();
  const [unchanged, setUnchanged] = useState(false);

  const act = async (what: "apply" | "undo") => {
    setBusy(what);
    setActionError(undefined);
    setUnchanged(false);
    try {
      const outcome = await (what === "apply" ? applyAccess(taskId) : undoAccess(taskId));
      setUnchanged(!outcome?.changed);
    } catch (e) {
      setActionError({ what, error: asCommandError(e) });
    } finally {
      setBusy(null);
      await diff.reload();
    }
  };

  const rules = diff.data;
  if (!rules) {
    if (!diff.error) return null;
    return (
      <Card size="small" title={t("taskDetail.access")} style={{ marginBottom: 16 }} data-testid="access-card">
        <ErrorAlert error={diff.error} title={t("taskDetail.accessLoadFailed")} testId="access-error" />
      </Card>
    );
  }

  const pending = rules.pending ?? [];
  const applied = rules.applied ?? [];
  const skipped = rules.skipped ?? [];
  const actions = (
    <Space>
      {pending.length > 0 && (
        <Popconfirm
          title={t("taskDetail.accessApplyConfirm", { count: pending.length, file: rules.dest_file })}
          description={<pre style={{ ...mono, margin: 0, maxWidth: 560, whiteSpace: "pre-wrap" }}>{pending.map((p) => p.line).join("\n")}</pre>}
          okText={t("taskDetail.accessApply")}
          cancelText={t("common.cancel")}
          onConfirm={() => act("apply")}
        >
          <Button type="primary" size="small" loading={busy === "apply"} disabled={busy !== null} data-testid="access-apply">
            {t("taskDetail.accessApply")}
          </Button>
        </Popconfirm>
      )}
      {applied.length > 0 && (
        <Popconfirm
          title={t("taskDetail.accessUndoConfirm", { file: rules.dest_file })}
          okText={t("taskDetail.accessUndo")}
          cancelText={t("common.cancel")}
          okButtonProps={{ danger: true }}
          onConfirm={() => act("undo")}
        >
          <Button size="small" danger loading={busy === "undo"} disabled={busy !== null} data-testid="access-undo">
            {t("taskDetail.accessUndo")}
          </Button>
        </Popconfirm>
      )}
    </Space>
  );

  return (
    <Card size="small" title={t("taskDetail.access")} extra={actions} style={{ marginBottom: 16 }} data-testid="access-card">
      {actionError && (
        <ErrorAlert
          error={actionError.error}
          title={t(actionError.what === "apply" ? "taskDetail.accessApplyFailed" : "taskDetail.accessUndoFailed")}
          testId="access-action-error"
        />
      )}
      {diff.error && <ErrorAlert error={diff.error} title={t("taskDetail.accessLoadFailed")} testId="access-error" />}
      {unchanged && <Alert type="info" showIcon style={{ marginBottom: 16 }} title={t("taskDetail.accessUnchanged")} data-testid="access-unchanged" />}
      <Descriptions
        size="small"
        column={2}
        items={[
          {
            key: "origin",
            label: t("taskDetail.accessOrigin"),
            children: <span data-testid="access-origin">{t(`taskDetail.accessOrigin.${rules.origin}`)}</span>,
          },
          {
            key: "dest",
            label: t("taskDetail.accessDestFile"),
            children: <PathText path={rules.dest_file} />,
          },
        ]}
      />
      <Typography.Title level={5} style={{ fontSize: 14, marginTop: 8 }}>
        {t("taskDetail.accessPending")}
      </Typography.Title>
      {pending.length > 0 ? (
        <Table<PendingLine>
          size="small"
          rowKey={(p) => `${p.source_line ?? ""}:${p.line}`}
          pagination={false}
          dataSource={pending}
          data-testid="access-pending"
          style={{ marginBottom: 16 }}
          columns={[
            { title: t("taskDetail.accessLine"), dataIndex: "line", render: (line: string) => <span style={mono}>{line}</span> },
            { title: t("taskDetail.accessClients"), dataIndex: "clients" },
            { title: t("taskDetail.accessWhy"), key: "why", render: (_, p) => why(p) },
            {
              title: t("taskDetail.accessSourceLine"),
              dataIndex: "source_line",
              width: 100,
              render: (n?: number) => (n != null ? n : t("common.none")),
            },
          ]}
        />
      ) : (
        <Typography.Paragraph type="secondary" data-testid="access-nothing-pending">
          {t("taskDetail.accessNothingPending")}
        </Typography.Paragraph>
      )}
      <Typography.Title level={5} style={{ fontSize: 14 }}>
        {t("taskDetail.accessApplied")}
      </Typography.Title>
      {applied.length > 0 ? (
        <div style={{ marginBottom: 16 }}>
          <CopyBlock text={applied.join("\n")} testId="access-applied" />
        </div>
      ) : (
        <Typography.Paragraph type="secondary" data-testid="access-none-applied">
          {t("taskDetail.accessNoneApplied")}
        </Typography.Paragraph>
      )}
      {skipped.length > 0 && (
        <>
          <Typography.Title level={5} style={{ fontSize: 14 }}>
            {t("taskDetail.accessSkipped")}
          </Typography.Title>
          <Table<SkippedLine>
            size="small"
            rowKey={(s) => s.line}
            pagination={false}
            dataSource={skipped}
            data-testid="access-skipped"
            columns={[
              { title: t("taskDetail.accessLine"), dataIndex: "line", render: (line: string) => <span style={mono}>{line}</span> },
              { title: t("taskDetail.accessReason"), dataIndex: "reason" },
            ]}
          />
        </>
      )}
    </Card>
  );
}
