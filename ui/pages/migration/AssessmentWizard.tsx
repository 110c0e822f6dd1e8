import { ReloadOutlined } from "@ant-design/icons";
import {
  Alert,
  Button,
  Checkbox,
  Descriptions,
  Form,
  Input,
  Modal,
  Radio,
  Select,
  Space,
  Spin,
  Steps,
  Tag,
  Typography,
} from "antd";
import { useEffect, useState } from "react";
import { destinationPrerequisites, sourcePreparations, startAssessment } from "../../api/assessments";
import type { CheckResult, Mode } from "../../api/assessments";
import type { PrepState } from "../../api/generated/PrepState";
import { asCommandError } from "../../api/core";
import type { CommandError } from "../../api/core";
import { listInstances, registerInstance, setCredential } from "../../api/instances";
import type { InstanceStatus } from "../../api/instances";
import CheckStatusIcon from "../../components/CheckStatusIcon";
import CopyBlock from "../../components/CopyBlock";
import RemedyBlocks from "../../components/RemedyBlocks";
import ErrorAlert from "../../components/ErrorAlert";
import ItemList from "../../components/ItemList";
import { useLoad } from "../../hooks/useLoad";
import { parsePort, portRules } from "../../hooks/portRules";
import { validated } from "../../hooks/validated";
import { t } from "../../i18n";
import type { MessageKey } from "../../i18n";
import { ConnectionFields, connectionOf, sameEndpointWarning } from "../instances/RegisterInstanceDialog";
import type { ConnectionValues } from "../instances/RegisterInstanceDialog";

type SourceType = "registered" | "new";

/** The first step's choices. */
interface Scenario {
  mode: Mode;
  sourceType: SourceType;
  source?: string;
  newName?: string;
  host?: string;
  /** As typed: the form refuses anything but 1–65535 in digits. */
  port?: string;
  user?: string;
}

/**
 * Create Feasibility Assessment Task: scenario and source → destination prerequisites (live)
 * → source preparations (filled in for this case) → connection and start.
 */
export default function AssessmentWizard({
  open,
  destination,
  onClose,
  onStarted,
}: {
  open: boolean;
  destination: InstanceStatus;
  onClose: () => void;
  /** `warning`: what registering a new source found (a second name of a known server). */
  onStarted: (jobId: string, warning?: string) => void;
}) {
  const [step, setStep] = useState(0);
  const [scenario, setScenario] = useState<Scenario>({ mode: "migration", sourceType: "registered" });
  const [scenarioForm] = Form.useForm<Scenario>();
  const [startForm] = Form.useForm<ConnectionValues>();
  const [starting, setStarting] = useState(false);
  const [error, setError] = useState<{ title: string; error: CommandError }>();
  const [done, setDone] = useState<string[]>([]);
  // Why the destination must not be used at all (it serves as a primary), from step 2.
  const [inUse, setInUse] = useState<string[]>([]);
  const instances = useLoad(() => (open ? listInstances() : Promise.resolve(null)), [open]);
  const others = (instances.data?.instances ?? []).filter((i) => i.name !== destination.name);
  const chosen = others.find((i) => i.name === scenario.source);

  useEffect(() => {
    if (!open) {
      setStep(0);
      setError(undefined);
      setDone([]);
      setInUse([]);
      scenarioForm.resetFields();
      startForm.resetFields();
    }
  }, [open, scenarioForm, startForm]);

  // Default to the first other instance once the list arrives.
  useEffect(() => {
    if (open && others.length > 0 && !scenarioForm.getFieldValue("source")) {
      scenarioForm.setFieldValue("source", others[0].name);
    }
  }, [open, others, scenarioForm]);

  const next = async () => {
    setError(undefined);
    if (step === 0) {
      const checked = await validated(scenarioForm);
      if (!checked) return;
      const values = { ...scenarioForm.getFieldsValue(true), ...checked } as Scenario;
      setScenario(values);
      if (values.sourceType === "new") {
        startForm.setFieldsValue({ host: values.host, port: values.port, user: values.user, sslmode: "prefer" });
      }
    }
    setStep((s) => s + 1);
  };

  const start = async () => {
    setError(undefined);
    setStarting(true);
    let source = scenario.source ?? "";
    let warning: string | undefined;
    try {
      if (scenario.sourceType === "new") {
        const values = await validated(startForm);
        if (!values) return;
        try {
          const { instance, same_endpoint } = await registerInstance({
            name: scenario.newName!.trim(),
            connection: connectionOf(values),
            password: values.password || undefined,
          });
          source = instance.name;
          warning = sameEndpointWarning(instance, same_endpoint) ?? undefined;
        } catch (e) {
          setError({ title: t("wizard.registerFailed"), error: asCommandError(e) });
          return;
        }
      } else {
        const { password } = startForm.getFieldsValue();
        if (password) await setCredential(source, password);
      }
      const jobId = await startAssessment(source, destination.name, scenario.mode, () => {});
      onStarted(jobId, warning);
    } catch (e) {
      setError({ title: t("wizard.submit"), error: asCommandError(e) });
    } finally {
      setStarting(false);
    }
  };

  const steps = [
    { key: "scenario", title: t("wizard.step.scenario") },
    { key: "destination", title: t("wizard.step.destination") },
    { key: "source", title: t("wizard.step.source") },
    { key: "start", title: t("wizard.step.start") },
  ];

  return (
    <Modal
      open={open}
      title={t("wizard.title")}
      width={900}
      onCancel={onClose}
      mask={{ closable: false }}
      destroyOnHidden
      footer={
        <Space>
          <Button onClick={onClose}>{t("common.cancel")}</Button>
          {step > 0 && (
            <Button onClick={() => setStep((s) => s - 1)} data-testid="wizard-previous">
              {t("common.previous")}
            </Button>
          )}
          {step < 3 ? (
            <Button type="primary" onClick={next} data-testid="wizard-next" disabled={(step === 0 && instances.loading) || (step === 1 && inUse.length > 0)}>
              {t("common.next")}
            </Button>
          ) : (
            <Button type="primary" onClick={start} loading={starting} data-testid="wizard-submit">
              {t("wizard.submit")}
            </Button>
          )}
        </Space>
      }
    >
      <div data-testid="wizard-step" data-step={step}>
        <Steps current={step} size="small" items={steps} style={{ marginBottom: 24 }} />
      </div>
      {error && <ErrorAlert error={error.error} title={error.title} testId="wizard-error" />}
      <div style={{ display: step === 0 ? "block" : "none" }}>
        <Form form={scenarioForm} layout="vertical" initialValues={{ mode: "migration", sourceType: "registered", port: "5432" }}>
          <Form.Item name="mode" label={t("wizard.scenario")}>
            <Radio.Group>
              <Space orientation="vertical">
                <Radio value="migration" data-testid="scenario-migration">
                  {t("wizard.scenario.migration")}{" "}
                  <Typography.Text type="secondary">— {t("wizard.scenario.migrationHelp")}</Typography.Text>
                </Radio>
                <Radio value="dr" data-testid="scenario-dr">
                  {t("wizard.scenario.dr")} <Typography.Text type="secondary">— {t("wizard.scenario.drHelp")}</Typography.Text>
                </Radio>
              </Space>
            </Radio.Group>
          </Form.Item>
          <Form.Item name="sourceType" label={t("wizard.sourceType")}>
            <Radio.Group
              optionType="button"
              options={[
                { value: "registered", label: t("wizard.sourceType.registered") },
                { value: "new", label: t("wizard.sourceType.new") },
              ]}
            />
          </Form.Item>
          <Form.Item noStyle shouldUpdate={(a, b) => a.sourceType !== b.sourceType}>
            {({ getFieldValue }) =>
              getFieldValue("sourceType") === "registered" ? (
                others.length === 0 && !instances.loading ? (
                  <Alert type="info" showIcon title={t("wizard.sourceNone")} />
                ) : (
                  <Form.Item name="source" label={t("wizard.sourcePick")} rules={[{ required: true }]}>
                    <Select
                      loading={instances.loading}
                      data-testid="wizard-source"
                      options={others.map((i) => ({
                        value: i.name,
                        label: `${i.name} (${i.endpoint.host}:${i.endpoint.port}, ${t(`kind.${i.kind}`)})`,
                      }))}
                    />
                  </Form.Item>
                )
              ) : (
                <>
                  <Form.Item
                    name="newName"
                    label={t("wizard.newName")}
                    rules={[{ required: true, pattern: /^[A-Za-z0-9][A-Za-z0-9_-]*$/, message: t("create.nameHelp") }]}
                  >
                    <Input />
                  </Form.Item>
                  <Space.Compact block>
                    <Form.Item name="host" label={t("register.host")} rules={[{ required: true }]} style={{ flex: 1 }}>
                      <Input />
                    </Form.Item>
                    <Form.Item name="port" label={t("register.port")} rules={portRules({ required: true })} style={{ width: 120 }}>
                      <Input inputMode="numeric" />
                    </Form.Item>
                    <Form.Item name="user" label={t("register.user")} rules={[{ required: true }]} style={{ flex: 1 }}>
                      <Input />
                    </Form.Item>
                  </Space.Compact>
                </>
              )
            }
          </Form.Item>
        </Form>
      </div>
      {step === 1 && (
        <DestinationStep
          destination={destination.name}
          source={scenario.sourceType === "registered" ? scenario.source : undefined}
          onInUse={setInUse}
        />
      )}
      {step === 2 && <SourceStep scenario={scenario} done={done} setDone={setDone} />}
      <div style={{ display: step === 3 ? "block" : "none" }}>
        <Typography.Paragraph type="secondary">{t("wizard.startIntro")}</Typography.Paragraph>
        <Form form={startForm} layout="vertical" initialValues={{ sslmode: "prefer", port: "5432" }}>
          {scenario.sourceType === "registered" && chosen ? (
            <>
              <Descriptions
                bordered
                size="small"
                column={2}
                style={{ marginBottom: 16 }}
                items={[
                  { key: "h", label: t("register.host"), children: chosen.endpoint.host },
                  { key: "p", label: t("register.port"), children: chosen.endpoint.port },
                  { key: "u", label: t("register.user"), children: chosen.endpoint.user },
                  { key: "s", label: t("register.sslmode"), children: chosen.endpoint.sslmode },
                ]}
                data-testid="wizard-connection"
              />
              <Form.Item name="password" label={t("register.password")} extra={t("wizard.passwordKeep")}>
                <Input.Password autoComplete="new-password" />
              </Form.Item>
            </>
          ) : (
            <ConnectionFields withName={false} />
          )}
        </Form>
      </div>
    </Modal>
  );
}

/** Step 2: the destination's own prerequisites, checked live. */
function DestinationStep({
  destination,
  source,
  onInUse,
}: {
  destination: string;
  source?: string;
  onInUse: (why: string[]) => void;
}) {
  const checks = useLoad(
    () => (source ? destinationPrerequisites(source, destination) : Promise.resolve(null)),
    [source, destination],
  );
  const inUse = servesAsPrimary(checks.data ?? []);
  const inUseKey = inUse.join("\n");
  useEffect(() => onInUse(inUseKey ? inUseKey.split("\n") : []), [inUseKey, onInUse]);
  return (
    <div data-testid="wizard-destination">
      <Space style={{ width: "100%", justifyContent: "space-between" }}>
        <Typography.Title level={5} style={{ margin: 0 }}>
          {t("wizard.destination", { name: destination })}
        </Typography.Title>
        {source && (
          <Button icon={<ReloadOutlined />} onClick={() => void checks.reload()} loading={checks.loading}>
            {t("wizard.recheck")}
          </Button>
        )}
      </Space>
      <Typography.Paragraph type="secondary" style={{ marginTop: 8 }}>
        {t("wizard.destinationIntro")}
      </Typography.Paragraph>
      {!source && <Alert type="info" showIcon title={t("wizard.destinationNeedsSource")} />}
      {checks.error && <ErrorAlert error={checks.error} title={t("common.failedToLoad")} />}
      {checks.loading && !checks.data && source && <Spin />}
      {inUse.length > 0 && (
        <Alert
          type="error"
          showIcon
          title={t("wizard.destinationInUse")}
          description={inUse.join("; ")}
          style={{ marginBottom: 16 }}
          data-testid="wizard-destination-in-use"
        />
      )}
      {checks.data && (
        <ItemList
          items={checks.data}
          rowKey={(c) => c.id}
          rowProps={(c) => ({ "data-testid": `prereq-${c.id}`, "data-status": c.status })}
          render={(c) => (
            <Space align="start">
              <CheckStatusIcon status={c.status} />
              <div>
                <Typography.Text strong>{c.title}</Typography.Text>
                <br />
                <Typography.Text type="secondary">{c.message}</Typography.Text>
                {c.remedy && c.status !== "success" && <RemedyBlocks remedy={c.remedy} testId={`prereq-remedy-${c.id}`} />}
              </div>
            </Space>
          )}
        />
      )}
    </div>
  );
}

/** Why a not-empty destination serves as a primary (`dest.empty`'s evidence): it must not be used. */
export function servesAsPrimary(checks: CheckResult[]): string[] {
  const empty = checks.find((c) => c.id === "dest.empty" && c.status === "error");
  const why = empty?.evidence.serves_as_primary;
  return Array.isArray(why) ? why.map(String) : [];
}

/** Step 3: the source's preparations as a checklist of copyable text. */
function SourceStep({
  scenario,
  done,
  setDone,
}: {
  scenario: Scenario;
  done: string[];
  setDone: (d: string[]) => void;
}) {
  const registered = scenario.sourceType === "registered";
  const preps = useLoad(
    () =>
      sourcePreparations(
        registered ? (scenario.source ?? null) : null,
        registered ? null : { host: scenario.host ?? "", port: parsePort(scenario.port) ?? 5432, user: scenario.user ?? "", sslmode: "prefer" },
      ),
    [scenario],
  );
  const list = preps.data;
  return (
    <div data-testid="wizard-source-prep">
      <Typography.Paragraph type="secondary">{t("wizard.sourceIntro")}</Typography.Paragraph>
      {preps.error && <ErrorAlert error={preps.error} title={t("common.failedToLoad")} />}
      {preps.loading && !list && <Spin />}
      {list && (
        <Alert
          type={list.checked ? "success" : "info"}
          showIcon
          style={{ marginBottom: 16 }}
          data-testid="prep-checked"
          title={
            list.checked
              ? t("wizard.prepChecked", { role: list.role })
              : t("wizard.prepUnchecked", { reason: list.unchecked_reason ?? "" })
          }
        />
      )}
      {list?.preparations.map((p) => (
        <div key={p.id} style={{ marginBottom: 16 }} data-testid={`prep-${p.id}`} data-state={p.state}>
          <Space size={8} wrap>
            {p.state === "met" ? (
              <Typography.Text strong>
                <CheckStatusIcon status="success" /> {t(`wizard.prep.${p.id}` as MessageKey)}
              </Typography.Text>
            ) : (
              <Checkbox
                checked={done.includes(p.id)}
                onChange={(e) => setDone(e.target.checked ? [...done, p.id] : done.filter((d) => d !== p.id))}
              >
                <Typography.Text strong>{t(`wizard.prep.${p.id}` as MessageKey)}</Typography.Text>
              </Checkbox>
            )}
            <Tag color={PREP_COLOR[p.state]}>{t(`wizard.prepState.${p.state}`)}</Tag>
          </Space>
          {p.requirements.length > 0 && (
            <ul style={{ listStyle: "none", paddingLeft: 24, margin: "4px 0" }}>
              {p.requirements.map((r) => (
                <li key={r.what} data-testid="prep-requirement" data-met={r.met}>
                  <CheckStatusIcon status={r.met ? "success" : "error"} /> {r.what}
                </li>
              ))}
            </ul>
          )}
          {p.text && <CopyBlock text={p.text} />}
        </div>
      ))}
    </div>
  );
}

const PREP_COLOR: Record<PrepState, string> = { met: "success", missing: "error", unchecked: "default" };
