import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, it, vi } from "vitest";
import { runningInstance } from "../../test/fixtures";
import InstancesPage from "./InstancesPage";

describe("Instances page", () => {
  it("creates the sandbox after asking, showing both instances as Creating until they run", async () => {
    let phase: "empty" | "creating" | "done" = "empty";
    let finish: (v: unknown) => void = () => {};
    mockIPC((cmd) => {
      if (cmd === "task_list") return [];
      if (cmd === "instance_list") {
        if (phase === "creating") return { instances: [], creating: ["sandbox-dest", "sandbox-source"] };
        if (phase === "done") return { instances: [runningInstance("sandbox-dest", 5434), runningInstance("sandbox-source", 5433)], creating: [] };
        return { instances: [], creating: [] };
      }
      if (cmd === "sandbox_plan") return { version: { major: 18, minor: 1 }, bin_dir: "/usr/lib/postgresql/18/bin", source_port: 7101, destination_port: 7102 };
      if (cmd === "sandbox_create") {
        phase = "creating";
        return new Promise((resolve) => (finish = resolve));
      }
      throw new Error(`unexpected ${cmd}`);
    });

    render(<InstancesPage navigate={vi.fn()} />);
    expect(await screen.findByTestId("instances-empty")).toBeTruthy();
    fireEvent.click(screen.getByTestId("create-sandbox"));
    expect(await screen.findByText(/sandbox-source, filled with sample data/)).toBeTruthy();
    // Which PostgreSQL and which ports, from the engine's plan, before anything is made.
    expect((await screen.findByTestId("sandbox-version")).textContent).toBe("18.1 from /usr/lib/postgresql/18/bin");
    expect(screen.getByTestId("sandbox-source-port").textContent).toBe("127.0.0.1:7101");
    expect(screen.getByTestId("sandbox-dest-port").textContent).toBe("127.0.0.1:7102");
    fireEvent.click(screen.getByTestId("sandbox-ok"));

    const creating = await screen.findByTestId("instance-row-sandbox-source");
    expect(within(creating).getByText("Creating")).toBeTruthy();
    phase = "done";
    finish({});
    await waitFor(() => expect(within(screen.getByTestId("instance-row-sandbox-dest")).getByText("Running")).toBeTruthy());
    expect(await screen.findByTestId("remove-sandbox")).toBeTruthy();
  });

  it("says why the sandbox cannot be made instead of offering Create", async () => {
    mockIPC((cmd) => {
      if (cmd === "task_list") return [];
      if (cmd === "instance_list") return { instances: [], creating: [] };
      if (cmd === "sandbox_plan") throw { code: "no_installation", message: "no PostgreSQL 18 installation found" };
      throw new Error(`unexpected ${cmd}`);
    });
    render(<InstancesPage navigate={vi.fn()} />);
    fireEvent.click(await screen.findByTestId("create-sandbox"));
    expect((await screen.findByTestId("sandbox-plan-error")).textContent).toContain("no PostgreSQL 18 installation found");
    expect((screen.getByTestId("sandbox-ok") as HTMLButtonElement).disabled).toBe(true);
  });

  it("shows why the list could not be read", async () => {
    mockIPC((cmd) => {
      if (cmd === "instance_list") throw { code: "engine_unavailable", message: "the state store could not be opened: disk I/O error" };
      return [];
    });
    render(<InstancesPage navigate={vi.fn()} />);
    expect((await screen.findByTestId("instances-error")).textContent).toContain("disk I/O error (engine_unavailable)");
  });

  it("tests a typed connection before registering, and sends the password only inward", async () => {
    const calls: { cmd: string; args: unknown }[] = [];
    mockIPC((cmd, args) => {
      calls.push({ cmd, args });
      if (cmd === "instance_list") return { instances: [], creating: [] };
      if (cmd === "task_list") return [];
      if (cmd === "connection_test")
        throw { code: "auth_failed", message: 'authentication failed for user "migrator" at db1:5432: password authentication failed' };
      throw new Error(`unexpected ${cmd}`);
    });
    render(<InstancesPage navigate={vi.fn()} />);
    fireEvent.click(await screen.findByRole("button", { name: /Register Instance/ }));
    fireEvent.change(await screen.findByTestId("register-name"), { target: { value: "orders-prod" } });
    fireEvent.change(screen.getByTestId("register-host"), { target: { value: "db1" } });
    fireEvent.change(screen.getByTestId("register-user"), { target: { value: "migrator" } });
    fireEvent.change(screen.getByTestId("register-password"), { target: { value: "wrong-pw" } });
    fireEvent.click(screen.getByTestId("register-test"));

    expect((await screen.findByTestId("register-test-result")).textContent).toContain("(auth_failed)");
    const test = calls.find((c) => c.cmd === "connection_test")!;
    expect(test.args).toEqual({
      connection: { host: "db1", port: 5432, user: "migrator", dbname: undefined, sslmode: "prefer" },
      password: "wrong-pw",
    });
    expect(calls.some((c) => c.cmd === "instance_register")).toBe(false);
  });

  it("warns when the registered endpoint is one the engine already knows", async () => {
    mockIPC((cmd) => {
      if (cmd === "instance_list") return { instances: [], creating: [] };
      if (cmd === "task_list") return [];
      if (cmd === "instance_register")
        return {
          instance: { ...runningInstance("again", 7101, "external"), endpoint: { host: "localhost", port: 7101, user: "postgres", dbname: "postgres", sslmode: "prefer" } },
          connection: null,
          same_endpoint: ["sandbox-dest"],
        };
      throw new Error(`unexpected ${cmd}`);
    });
    render(<InstancesPage navigate={vi.fn()} />);
    fireEvent.click(await screen.findByRole("button", { name: /Register Instance/ }));
    fireEvent.change(await screen.findByTestId("register-name"), { target: { value: "again" } });
    fireEvent.change(screen.getByTestId("register-host"), { target: { value: "localhost" } });
    fireEvent.change(screen.getByTestId("register-port"), { target: { value: "7101" } });
    fireEvent.change(screen.getByTestId("register-user"), { target: { value: "postgres" } });
    fireEvent.click(screen.getByTestId("register-ok"));
    expect(
      await screen.findByText(
        "localhost:7101 is already registered as sandbox-dest: both names reach the same server; do not use one as the source and the other as the destination.",
      ),
    ).toBeTruthy();
  });
});
