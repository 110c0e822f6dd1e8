import { fireEvent, render, screen, waitFor } from "@testing-library/react";
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
    expect(calls).toEqual(["installations"]);
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
});
