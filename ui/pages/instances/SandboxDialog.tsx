import { Descriptions, Modal, Spin, Typography } from "antd";
import { sandboxPlan } from "../../api/instances";
import ErrorAlert from "../../components/ErrorAlert";
import NoBreak from "../../components/NoBreak";
import PathText from "../../components/PathText";
import { useLoad } from "../../hooks/useLoad";
import { t } from "../../i18n";

/** Create Sandbox: what it makes, with the engine's plan (which PostgreSQL, which ports). */
export default function SandboxDialog({ open, onOk, onCancel }: { open: boolean; onOk: () => void; onCancel: () => void }) {
  const plan = useLoad(() => (open ? sandboxPlan() : Promise.resolve(null)), [open]);
  const p = plan.data;
  return (
    <Modal
      open={open}
      title={t("sandbox.title")}
      okText={t("sandbox.ok")}
      cancelText={t("common.cancel")}
      onOk={onOk}
      onCancel={onCancel}
      mask={{ closable: false }}
      // A plan that cannot be made (no installation, a sandbox already there) is a create that would fail.
      okButtonProps={{ "data-testid": "sandbox-ok", disabled: !!plan.error || (plan.loading && !p) }}
      destroyOnHidden
    >
      <Typography.Paragraph>{t("sandbox.body")}</Typography.Paragraph>
      {plan.error && <ErrorAlert error={plan.error} title={t("sandbox.planFailed")} testId="sandbox-plan-error" />}
      {plan.loading && !p && !plan.error && <Spin />}
      {p && (
        <Descriptions
          size="small"
          column={1}
          data-testid="sandbox-plan"
          items={[
            {
              key: "version",
              label: t("sandbox.version"),
              children: (
                <span data-testid="sandbox-version">
                  {t("sandbox.versionValue", { version: `${p.version.major}.${p.version.minor}` })} <PathText path={p.bin_dir} />
                </span>
              ),
            },
            {
              key: "source",
              label: "sandbox-source",
              children: <NoBreak testId="sandbox-source-port">{`127.0.0.1:${p.source_port}`}</NoBreak>,
            },
            {
              key: "dest",
              label: "sandbox-dest",
              children: <NoBreak testId="sandbox-dest-port">{`127.0.0.1:${p.destination_port}`}</NoBreak>,
            },
          ]}
        />
      )}
    </Modal>
  );
}
