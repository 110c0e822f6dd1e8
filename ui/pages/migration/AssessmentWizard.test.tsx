import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, it, vi } from "vitest";
import type { InstanceStatus } from "../../api/instances";
import AssessmentWizard from "./AssessmentWizard";

const instance = (name: string, port: number, kind: "managed" | "external" = "managed") =>
  ({
    id: name,
    name,
    endpoint: { host: "127.0.0.1", port, user: "postgres", dbname: "postgres", sslmode: "disable" },
    created_at: "",
    kind,
    state: "running",
    connection: null,
    error: null,
    storage: null,
  }) as InstanceStatus;

const dest = instance("sandbox-dest", 5434);

describe("Create Feasibility Assessment Task wizard", () => {
  it("walks scenario → destination prerequisites → source preparations → start", async () => {
    const calls: { cmd: string; args: Record<string, unknown> }[] = [];
    mockIPC((cmd, args) => {
      calls.push({ cmd, args: args as Record<string, unknown> });
      if (cmd === "instance_list") return { instances: [dest, instance("sandbox-source", 5433)], creating: [] };
      if (cmd === "destination_prerequisites")
        return [
          { id: "dest.empty", title: "Check destination is empty", status: "success", message: "only template0, template1 and postgres", impact: "", remedy: "", evidence: {}, duration_ms: 1 },
          { id: "dest.storage", title: "Check destination free space", status: "error", message: "1.0 GiB free for 9.0 GiB", impact: "", remedy: "free space", evidence: {}, duration_ms: 1 },
        ];
      if (cmd === "source_preparations")
        return {
          role: "postgres",
          checked: true,
          unchecked_reason: null,
          preparations: [
            {
              id: "account",
              state: "missing",
              requirements: [
                { what: "role postgres exists and may log in", met: true },
                { what: "the REPLICATION attribute", met: true },
                { what: "membership in pg_monitor (or pg_read_all_stats)", met: false },
              ],
              text: "GRANT pg_monitor TO postgres;",
            },
            {
              id: "fencing",
              state: "met",
              requirements: [{ what: "superuser: may perform every step of the fence", met: true }],
              text: "",
            },
            { id: "hba", state: "unchecked", requirements: [], text: "host    replication postgres 127.0.0.1/32 scram-sha-256" },
          ],
        };
      if (cmd === "assessment_start") return "job-1";
      throw new Error(`unexpected ${cmd}`);
    });
    const onStarted = vi.fn();
    render(<AssessmentWizard open destination={dest} onClose={vi.fn()} onStarted={onStarted} />);

    await waitFor(() => expect(screen.getByTestId("wizard-source").textContent).toContain("sandbox-source"));
    fireEvent.click(screen.getByTestId("wizard-next"));
    expect((await screen.findByTestId("prereq-dest.storage")).getAttribute("data-status")).toBe("error");
    expect(screen.getByText("1.0 GiB free for 9.0 GiB")).toBeTruthy();
    fireEvent.click(screen.getByTestId("wizard-next"));
    expect((await screen.findByTestId("prep-hba")).textContent).toContain("host    replication postgres 127.0.0.1/32");
    // Checked on the live source: each requirement met or missing, SQL only for what is missing.
    expect(screen.getByTestId("prep-checked").textContent).toContain("Checked on the source as postgres");
    const account = screen.getByTestId("prep-account");
    expect(account.getAttribute("data-state")).toBe("missing");
    expect(within(account).getAllByTestId("prep-requirement").map((r) => r.getAttribute("data-met"))).toEqual(["true", "true", "false"]);
    expect(account.textContent).toContain("GRANT pg_monitor TO postgres;");
    expect(account.textContent).not.toContain("CREATE ROLE");
    expect(account.textContent).toContain("The migration account (LOGIN, REPLICATION, pg_monitor, CREATEROLE)");
    const fencing = screen.getByTestId("prep-fencing");
    expect(fencing.getAttribute("data-state")).toBe("met");
    expect(fencing.textContent).toContain("What the switchover's SQL fence needs");
    expect(fencing.textContent).toContain("In place");
    fireEvent.click(screen.getByTestId("wizard-next"));
    expect((await screen.findByTestId("wizard-connection")).textContent).toContain("5433");
    fireEvent.click(screen.getByTestId("wizard-submit"));

    await waitFor(() => expect(onStarted).toHaveBeenCalledWith("job-1", undefined));
    const start = calls.find((c) => c.cmd === "assessment_start")!;
    expect(start.args.source).toBe("sandbox-source");
    expect(start.args.destination).toBe("sandbox-dest");
    expect(start.args.mode).toBe("migration");
    expect(calls.find((c) => c.cmd === "destination_prerequisites")!.args).toEqual({
      source: "sandbox-source",
      destination: "sandbox-dest",
    });
    // No password typed: nothing is sent to the keyring.
    expect(calls.some((c) => c.cmd === "credential_set")).toBe(false);
  });

  it("keeps Next disabled for a destination that serves as a primary, and offers nothing to drop", async () => {
    mockIPC((cmd) => {
      if (cmd === "instance_list") return { instances: [dest, instance("sandbox-source", 5433)], creating: [] };
      if (cmd === "destination_prerequisites")
        return [
          {
            id: "dest.empty",
            title: "Check destination is empty",
            status: "error",
            message: "the destination is not empty, and it serves as a primary: 1 client session connected: app@shop (orders-app); it holds database shop",
            impact: "",
            remedy: "pgrelocate offers nothing to drop on a server that serves as a primary (1 client session connected: app@shop (orders-app)). Choose another destination, or create a fresh one:\npgrelocate instance create sandbox-dest-new --major 15",
            evidence: { serves_as_primary: ["1 client session connected: app@shop (orders-app)"] },
            duration_ms: 1,
          },
        ];
      throw new Error(`unexpected ${cmd}`);
    });
    render(<AssessmentWizard open destination={dest} onClose={vi.fn()} onStarted={vi.fn()} />);
    await waitFor(() => expect(screen.getByTestId("wizard-source").textContent).toContain("sandbox-source"));
    fireEvent.click(screen.getByTestId("wizard-next"));

    expect((await screen.findByTestId("wizard-destination-in-use")).textContent).toContain("1 client session connected");
    await waitFor(() => expect((screen.getByTestId("wizard-next") as HTMLButtonElement).disabled).toBe(true));
    expect(screen.getByTestId("wizard-destination").textContent).not.toContain("DROP");
    // Only the command is in the copyable block, not the sentence before it.
    expect(screen.getAllByTestId("prereq-remedy-dest.empty-command").map((b) => b.textContent)).toEqual([
      "pgrelocate instance create sandbox-dest-new --major 15",
    ]);
    fireEvent.click(screen.getByTestId("wizard-next"));
    expect(screen.getByTestId("wizard-step").getAttribute("data-step")).toBe("1");
  });

  it("registers a new endpoint first, and stops with the reason when that fails", async () => {
    mockIPC((cmd) => {
      if (cmd === "instance_list") return { instances: [dest], creating: [] };
      if (cmd === "source_preparations")
        return { role: "migrator", checked: false, unchecked_reason: "the source is not registered yet", preparations: [] };
      if (cmd === "instance_register")
        throw { code: "unreachable", message: "cannot reach db9:5432: connection refused" };
      throw new Error(`unexpected ${cmd}`);
    });
    const onStarted = vi.fn();
    render(<AssessmentWizard open destination={dest} onClose={vi.fn()} onStarted={onStarted} />);
    fireEvent.click(await screen.findByText("A new endpoint"));
    fireEvent.change(await screen.findByLabelText("Name to register the source under"), { target: { value: "legacy" } });
    fireEvent.change(screen.getByLabelText("Endpoint"), { target: { value: "db9" } });
    fireEvent.change(screen.getByLabelText("User"), { target: { value: "migrator" } });
    for (let i = 0; i < 3; i += 1) fireEvent.click(screen.getByTestId("wizard-next"));
    await screen.findByTestId("register-password");
    fireEvent.click(screen.getByTestId("wizard-submit"));

    expect((await screen.findByTestId("wizard-error")).textContent).toContain("connection refused (unreachable)");
    expect(onStarted).not.toHaveBeenCalled();
  });

  it("registers a new endpoint that is a known server and hands on the engine's warning", async () => {
    mockIPC((cmd) => {
      if (cmd === "instance_list") return { instances: [dest], creating: [] };
      if (cmd === "source_preparations")
        return { role: "migrator", checked: false, unchecked_reason: "the source is not registered yet", preparations: [] };
      if (cmd === "instance_register")
        return {
          instance: { ...instance("legacy", 5434), kind: "external", endpoint: { host: "127.0.0.1", port: 5434, user: "migrator", dbname: "postgres", sslmode: "prefer" } },
          connection: null,
          same_endpoint: ["sandbox-dest"],
        };
      if (cmd === "assessment_start") return "job-3";
      throw new Error(`unexpected ${cmd}`);
    });
    const onStarted = vi.fn();
    render(<AssessmentWizard open destination={dest} onClose={vi.fn()} onStarted={onStarted} />);
    fireEvent.click(await screen.findByText("A new endpoint"));
    fireEvent.change(await screen.findByLabelText("Name to register the source under"), { target: { value: "legacy" } });
    fireEvent.change(screen.getByLabelText("Endpoint"), { target: { value: "127.0.0.1" } });
    fireEvent.change(screen.getByLabelText("User"), { target: { value: "migrator" } });
    for (let i = 0; i < 3; i += 1) fireEvent.click(screen.getByTestId("wizard-next"));
    await screen.findByTestId("register-password");
    fireEvent.click(screen.getByTestId("wizard-submit"));
    await waitFor(() =>
      expect(onStarted).toHaveBeenCalledWith(
        "job-3",
        "127.0.0.1:5434 is already registered as sandbox-dest: both names reach the same server; do not use one as the source and the other as the destination.",
      ),
    );
  });
});
