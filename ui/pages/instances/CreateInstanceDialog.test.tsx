import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, it, vi } from "vitest";
import CreateInstanceDialog from "./CreateInstanceDialog";

describe("Create Instance", () => {
  it("offers the versions found on this host and sends the superuser password to the keyring", async () => {
    const created: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "installations")
        return [
          { bin_dir: "/usr/lib/postgresql/15/bin", version: { major: 15, minor: 18 }, version_text: "", binaries: [], can_run_servers: true },
          { bin_dir: "/opt/pg9/bin", version: { major: 9, minor: 6 }, version_text: "", binaries: [], can_run_servers: true },
          { bin_dir: "/usr/lib/postgresql/16/bin", version: { major: 16, minor: 4 }, version_text: "", binaries: ["psql"], can_run_servers: false },
        ];
      if (cmd === "instance_create") {
        created.push((args as { request: unknown }).request);
        return { id: "i", name: "orders-dest", endpoint: { port: 5433 }, created_at: "" };
      }
      throw new Error(`unexpected ${cmd}`);
    });
    const onCreated = vi.fn();
    render(<CreateInstanceDialog open onClose={vi.fn()} onCreated={onCreated} />);

    // The newest usable version is preselected.
    expect(await screen.findByTitle("PostgreSQL 15.18 (/usr/lib/postgresql/15/bin)")).toBeTruthy();
    fireEvent.mouseDown(screen.getByRole("combobox"));
    await waitFor(() => expect(document.querySelectorAll(".ant-select-item-option").length).toBeGreaterThan(0));
    // 9.6 is unsupported and the 16 folder cannot run servers: neither is offered.
    expect(Array.from(document.querySelectorAll(".ant-select-item-option")).map((o) => o.textContent)).toEqual([
      "PostgreSQL 15.18 (/usr/lib/postgresql/15/bin)",
    ]);
    fireEvent.change(screen.getByTestId("create-name"), { target: { value: "orders-dest" } });
    fireEvent.change(screen.getByLabelText(/Superuser password/), { target: { value: "Pa55'word" } });
    fireEvent.click(screen.getByRole("button", { name: "Create" }));

    await waitFor(() => expect(onCreated).toHaveBeenCalled());
    expect(created).toEqual([{ name: "orders-dest", major: 15, port: undefined, data_dir: undefined, password: "Pa55'word" }]);
  });

  it.each([
    ["70x1", /^A port is a number from 1 to 65535, digits only\.$/],
    ["99999", /^A port is a number from 1 to 65535, digits only\.$/],
    ["80", /^Ports below 1024 are privileged/],
  ])("refuses port %j before asking the engine", async (typed, reason) => {
    const calls: string[] = [];
    mockIPC((cmd) => {
      calls.push(cmd);
      if (cmd === "installations")
        return [{ bin_dir: "/usr/lib/postgresql/15/bin", version: { major: 15, minor: 18 }, version_text: "", binaries: [], can_run_servers: true }];
      throw new Error(`unexpected ${cmd}`);
    });
    render(<CreateInstanceDialog open onClose={vi.fn()} onCreated={vi.fn()} />);
    expect(await screen.findByTitle("PostgreSQL 15.18 (/usr/lib/postgresql/15/bin)")).toBeTruthy();
    fireEvent.change(screen.getByTestId("create-name"), { target: { value: "orders-dest" } });
    fireEvent.change(screen.getByTestId("create-port"), { target: { value: typed } });
    fireEvent.click(screen.getByRole("button", { name: "Create" }));

    expect(await screen.findByText(reason)).toBeTruthy();
    expect((screen.getByTestId("create-port") as HTMLInputElement).value).toBe(typed);
    expect(calls).toEqual(["installations", "host_list"]);
  });

  it("sends a typed port as that number", async () => {
    const created: { port?: number }[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "installations")
        return [{ bin_dir: "/usr/lib/postgresql/15/bin", version: { major: 15, minor: 18 }, version_text: "", binaries: [], can_run_servers: true }];
      if (cmd === "instance_create") {
        created.push((args as { request: { port?: number } }).request);
        return { id: "i", name: "orders-dest", endpoint: { port: 7001 }, created_at: "" };
      }
      throw new Error(`unexpected ${cmd}`);
    });
    const onCreated = vi.fn();
    render(<CreateInstanceDialog open onClose={vi.fn()} onCreated={onCreated} />);
    expect(await screen.findByTitle("PostgreSQL 15.18 (/usr/lib/postgresql/15/bin)")).toBeTruthy();
    fireEvent.change(screen.getByTestId("create-name"), { target: { value: "orders-dest" } });
    fireEvent.change(screen.getByTestId("create-port"), { target: { value: "7001" } });
    fireEvent.click(screen.getByRole("button", { name: "Create" }));
    await waitFor(() => expect(onCreated).toHaveBeenCalled());
    expect(created[0].port).toBe(7001);
  });

  describe("with registered hosts", () => {
    const local = [{ bin_dir: "/usr/lib/postgresql/15/bin", version: { major: 15, minor: 18 }, version_text: "", binaries: [], can_run_servers: true }];
    const hosts = [
      { name: "db-east", ssh_user: "pgrelocate", ssh_host: "db-east.example.internal", added_at: "2026-12-01T08:00:00Z" },
      { name: "db-west", ssh_host: "db-west.example.internal", ssh_port: 2222, added_at: "2026-12-01T09:00:00Z" },
    ];
    const mock = (created: Record<string, unknown>[]) =>
      mockIPC((cmd, args) => {
        if (cmd === "installations") return local;
        if (cmd === "host_list") return hosts;
        if (cmd === "instance_create") {
          created.push((args as { request: Record<string, unknown> }).request);
          return { id: "i", name: "orders-east", endpoint: { host: "db-east.example.internal", port: 5433 }, created_at: "" };
        }
        throw new Error(`unexpected ${cmd}`);
      });
    const pick = async (field: string, option: string) => {
      fireEvent.mouseDown(within(screen.getByTestId(field)).getByRole("combobox"));
      const choice = await waitFor(() => {
        const found = Array.from(document.querySelectorAll<HTMLElement>(".ant-select-item-option")).find(
          (o) => o.textContent === option,
        );
        if (!found) throw new Error(`no option ${option}`);
        return found;
      });
      fireEvent.click(choice);
    };

    it("creates on this machine by default and sends no host", async () => {
      const created: Record<string, unknown>[] = [];
      mock(created);
      const onCreated = vi.fn();
      render(<CreateInstanceDialog open onClose={vi.fn()} onCreated={onCreated} />);

      expect(await screen.findByTestId("create-host")).toBeTruthy();
      expect(within(screen.getByTestId("create-host")).getByTitle("This machine")).toBeTruthy();
      expect(await screen.findByTitle("PostgreSQL 15.18 (/usr/lib/postgresql/15/bin)")).toBeTruthy();
      expect(screen.getByText("Leave empty to let pgrelocate choose one. An existing folder must be empty.")).toBeTruthy();
      fireEvent.change(screen.getByTestId("create-name"), { target: { value: "orders-dest" } });
      fireEvent.click(screen.getByRole("button", { name: "Create" }));

      await waitFor(() => expect(onCreated).toHaveBeenCalled());
      expect(created).toHaveLength(1);
      expect(created[0]).toEqual({ name: "orders-dest", major: 15 });
      expect("host" in created[0]).toBe(false);
    });

    it("creates on a chosen host: the request names it, and the data folder is a path there", async () => {
      const created: Record<string, unknown>[] = [];
      mock(created);
      const onCreated = vi.fn();
      render(<CreateInstanceDialog open onClose={vi.fn()} onCreated={onCreated} />);
      expect(await screen.findByTitle("PostgreSQL 15.18 (/usr/lib/postgresql/15/bin)")).toBeTruthy();

      await pick("create-host", "db-east");
      expect(await screen.findByText(/^A folder on db-east, not on this machine\./)).toBeTruthy();
      expect(screen.getByText(/looked for on db-east/)).toBeTruthy();
      // The host's own binaries are used: any supported version may be asked for.
      await pick("create-major", "PostgreSQL 17");
      fireEvent.change(screen.getByTestId("create-name"), { target: { value: "orders-east" } });
      fireEvent.change(screen.getByLabelText(/Data folder/), { target: { value: "/srv/pg/orders-east" } });
      fireEvent.click(screen.getByRole("button", { name: "Create" }));

      await waitFor(() => expect(onCreated).toHaveBeenCalled());
      expect(created).toEqual([{ name: "orders-east", major: 17, data_dir: "/srv/pg/orders-east", host: "db-east" }]);
    });

    it("offers only the versions found here again when This machine is chosen back", async () => {
      mock([]);
      render(<CreateInstanceDialog open onClose={vi.fn()} onCreated={vi.fn()} />);
      expect(await screen.findByTitle("PostgreSQL 15.18 (/usr/lib/postgresql/15/bin)")).toBeTruthy();
      await pick("create-host", "db-west");
      await pick("create-major", "PostgreSQL 17");
      await pick("create-host", "This machine");

      expect(await screen.findByTitle("PostgreSQL 15.18 (/usr/lib/postgresql/15/bin)")).toBeTruthy();
      expect(screen.getByText("Leave empty to let pgrelocate choose one. An existing folder must be empty.")).toBeTruthy();
    });
  });
});
