import { Descriptions, Drawer, Space, Typography } from "antd";
import type { CommandError } from "../../api/core";
import type { AgentPlacement, HostCheck, HostProgress } from "../../api/hosts";
import ErrorAlert from "../../components/ErrorAlert";
import { t } from "../../i18n";
import { formatBytes } from "../../units";
import HostSteps from "./steps";

/** A check of a host: its steps while it runs, then what it found or why it failed. */
export interface CheckState {
  name: string;
  steps: HostProgress[];
  result?: HostCheck;
  error?: CommandError;
}

function placement(p: AgentPlacement): string {
  switch (p.how) {
    case "installed":
      return t("hostCheck.placement.installed", { path: p.path });
    case "cached":
      return t("hostCheck.placement.cached", { path: p.path });
    case "uploaded":
      return t("hostCheck.placement.uploaded", { path: p.path, size: formatBytes(p.bytes) });
  }
}

/** What a check of a host found: system, login user, agent, PostgreSQL installations, SSH time. */
export function HostCheckView({ check }: { check: HostCheck }) {
  const { facts } = check;
  return (
    <Descriptions column={1} size="small" bordered data-testid="host-check">
      <Descriptions.Item label={t("hostCheck.system")}>
        <span data-testid="host-check-system">{`${facts.os} ${facts.arch}`}</span>
      </Descriptions.Item>
      <Descriptions.Item label={t("hostCheck.user")}>
        <span data-testid="host-check-user">{facts.user}</span>
      </Descriptions.Item>
      <Descriptions.Item label={t("hostCheck.agent")}>
        <Space orientation="vertical" size={0}>
          <span data-testid="host-check-agent">{t("hostCheck.agentVersion", { version: facts.version })}</span>
          <Typography.Text type="secondary" data-testid="host-check-placement">
            {placement(check.agent)}
          </Typography.Text>
        </Space>
      </Descriptions.Item>
      <Descriptions.Item label={t("hostCheck.stateDir")}>{facts.state_dir}</Descriptions.Item>
      <Descriptions.Item label={t("hostCheck.postgres")}>
        {facts.installations.length === 0 ? (
          <Typography.Text type="secondary">{t("hostCheck.postgresNone")}</Typography.Text>
        ) : (
          <Space orientation="vertical" size={0} data-testid="host-check-postgres">
            {facts.installations.map((i) => (
              <span key={i.bin_dir}>
                {t("hostCheck.postgresItem", { major: i.version.major, minor: i.version.minor, bin: i.bin_dir })}
              </span>
            ))}
          </Space>
        )}
      </Descriptions.Item>
      <Descriptions.Item label={t("hostCheck.ssh")}>
        <span data-testid="host-check-ssh">{t("hostCheck.sshMs", { ms: check.ssh_ms })}</span>
      </Descriptions.Item>
    </Descriptions>
  );
}

/** The drawer a check (or a fresh add) opens on the Hosts page. */
export default function HostCheckDrawer({ state, onClose }: { state?: CheckState; onClose: () => void }) {
  const running = !!state && !state.result && !state.error;
  return (
    <Drawer
      open={!!state}
      title={state ? t("hostCheck.title", { name: state.name }) : undefined}
      onClose={onClose}
      size={560}
      destroyOnHidden
    >
      {state && (
        <div data-testid="host-check-drawer">
          {running && <Typography.Paragraph>{t("hostCheck.running")}</Typography.Paragraph>}
          <HostSteps steps={state.steps} done={!running} />
          {state.error && <ErrorAlert error={state.error} title={t("hostCheck.failed")} testId="host-check-error" />}
          {state.result && <HostCheckView check={state.result} />}
        </div>
      )}
    </Drawer>
  );
}
